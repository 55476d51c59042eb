package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/limit"
)

// Values of parley_rate_limited_total's limit label.
const (
	LimitConnFrames       = "connection_frames"
	LimitUserMessages     = "user_messages"
	LimitAddressMessages  = "address_messages"
	LimitUserJoins        = "user_joins"
	LimitAddressJoins     = "address_joins"
	LimitUserRoomCreation = "user_room_creations"
)

// ObserveLimits exposes the node's limits: the frames and requests each
// refused, the connections the gate refused or paced, and the size of each
// bucket table. Every value is read from the limits when /metrics is
// scraped, so the hot path pays nothing for it. Nil limits read as zero.
func (m *Metrics) ObserveLimits(l *limit.Node, roomCreations *limit.Keyed) {
	tables := []struct {
		name string
		k    *limit.Keyed
	}{
		{LimitUserMessages, l.UserMessages}, {LimitAddressMessages, l.AddressMessages},
		{LimitUserJoins, l.UserJoins}, {LimitAddressJoins, l.AddressJoins},
		{LimitUserRoomCreation, roomCreations},
	}
	const refusedHelp = "Frames and requests refused by a rate limit, by limit: connection_frames (one connection's bucket) or user_/address_ messages, joins, room_creations (summed over a user's or an address's connections to this node)."
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_rate_limited_total", Help: refusedHelp, ConstLabels: prometheus.Labels{"limit": LimitConnFrames}},
		func() float64 { return float64(l.ConnRefused.Load()) }))
	for _, t := range tables {
		k := t.k
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_rate_limited_total", Help: refusedHelp, ConstLabels: prometheus.Labels{"limit": t.name}},
			func() float64 { return float64(k.Refused()) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_rate_limit_keys", Help: "Users or addresses with a token bucket held in a rate-limit table (bounded; idle ones are dropped).",
			ConstLabels: prometheus.Labels{"limit": t.name}},
			func() float64 { return float64(k.Len()) }))
	}
	g := l.Gate
	const refusedConnsHelp = "WebSocket upgrades refused before the upgrade: address (429, max-conns-per-address), node (503, max-conns) or busy (503, a wait above accept-wait)."
	for reason, read := range map[string]func(limit.GateStats) uint64{
		limit.RefusedAddress: func(s limit.GateStats) uint64 { return s.RefusedAddress },
		limit.RefusedNode:    func(s limit.GateStats) uint64 { return s.RefusedNode },
		limit.RefusedBusy:    func(s limit.GateStats) uint64 { return s.RefusedBusy },
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_connections_refused_total", Help: refusedConnsHelp, ConstLabels: prometheus.Labels{"reason": reason}},
			func() float64 { return float64(read(g.Stats())) }))
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_accept_paced_total", Help: "WebSocket upgrades that waited their turn under accept-rate before being admitted."},
			func() float64 { return float64(g.Stats().Waited) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_accept_paced_seconds_total", Help: "Time the paced upgrades waited, summed; divided by parley_accept_paced_total, the mean wait."},
			func() float64 { return g.Stats().WaitedFor.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_connection_addresses", Help: "Client addresses (IPv6 by /64) holding WebSocket connections to this node, for max-conns-per-address."},
			func() float64 { return float64(g.Stats().Addresses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_connections_max", Help: "The most WebSocket connections this node admits (max-conns, or the value it chose from the open-file limit); 0: no cap."},
			func() float64 { return float64(g.Config().MaxConns) }),
	)
}
