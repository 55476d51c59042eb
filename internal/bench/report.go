package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of a run; its JSON form is what --json writes.
type Report struct {
	Machine Machine `json:"machine"`
	Server  string  `json:"server"`
	// MoreServers are a cluster's other nodes; server CPU and memory
	// are the sum over ServerPID and MorePIDs.
	MoreServers []string       `json:"more_servers,omitempty"`
	ServerPID   int            `json:"server_pid,omitempty"` // 0: unknown, server figures are null
	MorePIDs    []int          `json:"more_server_pids,omitempty"`
	Started     time.Time      `json:"started"`
	Seconds     float64        `json:"seconds"`
	Idle        *IdleResult    `json:"idle,omitempty"`
	Fanout      *FanoutResult  `json:"fanout,omitempty"`
	Chat        *ChatResult    `json:"chat,omitempty"`
	Storm       *StormResult   `json:"storm,omitempty"`
	Publish     *PublishResult `json:"publish,omitempty"`
	Rooms       *RoomsResult   `json:"rooms,omitempty"`
	Soak        *SoakResult    `json:"soak,omitempty"`
	Errors      []string       `json:"errors,omitempty"`
}

// IdleResult is the idle scenario's outcome. Memory figures are resident
// set sizes; per-connection figures divide the growth by Conns.
type IdleResult struct {
	Conns          int     `json:"conns"`
	RoomSize       int     `json:"room_size"`
	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectRate    float64 `json:"connects_per_second"`
	// ServerRSSBefore, …Connected and …AfterClose are the server's memory
	// before the first dial, with every connection open and settled, and
	// a few seconds after they all closed.
	ServerRSSBefore     *int64   `json:"server_rss_before_bytes"`
	ServerRSSConnected  *int64   `json:"server_rss_connected_bytes"`
	ServerRSSAfterClose *int64   `json:"server_rss_after_close_bytes"`
	ServerBytesPerConn  *float64 `json:"server_bytes_per_conn"`
	ClientBytesPerConn  float64  `json:"client_bytes_per_conn"`
	Connect             Usage    `json:"connect"`
	Hold                Usage    `json:"hold"`
}

// FanoutStep is one publishing rate of the fanout scenario.
type FanoutStep struct {
	Rate             float64 `json:"rate"`
	Sent             uint64  `json:"sent"`
	Acked            uint64  `json:"acked"`
	SendRate         float64 `json:"sends_per_second"`
	Expected         uint64  `json:"expected"`
	Delivered        uint64  `json:"delivered"`
	DeliveredRatio   float64 `json:"delivered_ratio"`
	DeliveriesPerSec float64 `json:"deliveries_per_second"`
	Latency          Latency `json:"latency"`
	Ack              Latency `json:"ack_latency"`
	Reconnects       int64   `json:"reconnects"`
	OK               bool    `json:"ok"`
	Usage            Usage   `json:"usage"`
}

// FanoutResult is the fanout scenario's outcome. Best is the highest rate
// with at least 99.9% delivered and p99 under 250 ms; nil if none was.
type FanoutResult struct {
	Members      int          `json:"members"`
	StepSeconds  float64      `json:"step_seconds"`
	Steps        []FanoutStep `json:"steps"`
	Best         *float64     `json:"best_rate"`
	BestDelivers float64      `json:"best_deliveries_per_second"`
	// PresenceFrames is how many presence frames the members received in
	// the whole run: about Members when they are one user, as intended,
	// about Members²/2 if the server made each a user of its own.
	PresenceFrames int64 `json:"presence_frames"`
}

// ChatStep is one per-member rate of the chat scenario.
type ChatStep struct {
	Rate             float64 `json:"rate_per_member"`
	Sent             uint64  `json:"sent"`
	Acked            uint64  `json:"acked"`
	Failed           uint64  `json:"failed"`
	SendRate         float64 `json:"sends_per_second"`
	Expected         uint64  `json:"expected"`
	Delivered        uint64  `json:"delivered"`
	DeliveredRatio   float64 `json:"delivered_ratio"`
	DeliveriesPerSec float64 `json:"deliveries_per_second"`
	Ack              Latency `json:"ack_latency"`
	Delivery         Latency `json:"delivery_latency"`
	// SameNode and CrossNode split Delivery by whether the receiver is
	// connected to the sender's node; nil with one node.
	SameNode   *Latency `json:"same_node_latency,omitempty"`
	CrossNode  *Latency `json:"cross_node_latency,omitempty"`
	Reconnects int64    `json:"reconnects"`
	Usage      Usage    `json:"usage"`
	// Store is the server's group commits during the step; nil when its
	// /metrics could not be read (see scrapeCommits).
	Store *StoreCommits `json:"store_commits,omitempty"`
}

// ChatResult is the chat scenario's outcome.
type ChatResult struct {
	Rooms          int        `json:"rooms"`
	Members        int        `json:"members"`
	Nodes          int        `json:"nodes"`
	ConnectSeconds float64    `json:"connect_seconds"`
	StepSeconds    float64    `json:"step_seconds"`
	Steps          []ChatStep `json:"steps"`
}

// StormResult is the storm scenario's outcome.
type StormResult struct {
	Clients        int     `json:"clients"`
	RoomSize       int     `json:"room_size"`
	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectRate    float64 `json:"connects_per_second"`
	Cut            int     `json:"cut"`
	// SentWhileAway messages were stored while every client was cut off;
	// Expected is how many deliveries recovery owes (each to every member
	// of its room).
	SentWhileAway int `json:"sent_while_away"`
	// ReconnectSeconds runs from opening the gate until every client has
	// a new connection; RecoverySeconds until every missed message has
	// arrived.
	ReconnectSeconds float64 `json:"reconnect_seconds"`
	ReconnectRate    float64 `json:"reconnects_per_second"`
	RecoverySeconds  float64 `json:"recovery_seconds"`
	Expected         uint64  `json:"expected"`
	Recovered        uint64  `json:"recovered"`
	Duplicates       uint64  `json:"duplicates"`
	OutOfOrder       uint64  `json:"out_of_order"`
	Connect          Usage   `json:"connect"`
	Reconnect        Usage   `json:"reconnect"`
}

// WriteJSON writes the report to path, indented.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: write report: %w", err)
	}
	return nil
}

// WriteText writes the summary tables.
func (r *Report) WriteText(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs, %s/%s %s, %s, ulimit -n %d\n", m.CPUs, m.OS, m.Arch, m.Kernel, m.GoVersion, m.NoFile)
	srv := "server: " + strings.Join(append([]string{r.Server}, r.MoreServers...), ", ")
	if len(r.MoreServers) > 0 {
		srv = fmt.Sprintf("servers (%d nodes, connections round-robin): %s", 1+len(r.MoreServers), srv[len("server: "):])
	}
	if r.ServerPID > 0 {
		srv += fmt.Sprintf(" (pid %s)", strings.Trim(fmt.Sprint(append([]int{r.ServerPID}, r.MorePIDs...)), "[]"))
	} else {
		srv += " (pid unknown: server CPU and memory not measured; give --server-pid)"
	}
	fmt.Fprintln(w, srv)
	fmt.Fprintln(w, "CPU is in cores (1.00 = one core busy); \"tool\" is this process, the load generator.")
	if r.Idle != nil {
		r.Idle.writeText(w)
	}
	if r.Fanout != nil {
		r.Fanout.writeText(w)
	}
	if r.Chat != nil {
		r.Chat.writeText(w)
	}
	if r.Storm != nil {
		r.Storm.writeText(w)
	}
	if r.Publish != nil {
		r.Publish.writeText(w)
	}
	if r.Rooms != nil {
		r.Rooms.writeText(w)
	}
	if r.Soak != nil {
		r.Soak.writeText(w)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

func table(w io.Writer, title string, header string, rows []string) {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, header+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, r+"\t")
	}
	_ = tw.Flush()
}

func (r *IdleResult) writeText(w io.Writer) {
	rows := []string{
		row("connections", fmt.Sprint(r.Conns)),
		row("room size", fmt.Sprint(r.RoomSize)),
		row("time to connect and join all", fmt.Sprintf("%.2f s", r.ConnectSeconds)),
		row("connects per second", fmt.Sprintf("%.0f", r.ConnectRate)),
		row("server RSS before", bytesOrUnknown(r.ServerRSSBefore)),
		row("server RSS, all connected", bytesOrUnknown(r.ServerRSSConnected)),
		row("server RSS per connection", perConn(r.ServerBytesPerConn)),
		row("server RSS after close", bytesOrUnknown(r.ServerRSSAfterClose)),
		row("tool RSS per connection", fmt.Sprintf("%.1f KiB", r.ClientBytesPerConn/1024)),
		row("CPU while connecting (server/tool)", cores(r.Connect.ServerCPU)+" / "+fmt.Sprintf("%.2f", r.Connect.ClientCPU)),
		row("CPU while idle (server/tool)", cores(r.Hold.ServerCPU)+" / "+fmt.Sprintf("%.2f", r.Hold.ClientCPU)),
	}
	table(w, "idle", "measure\tvalue", rows)
}

func (r *FanoutResult) writeText(w io.Writer) {
	r.writeSteps(w, fmt.Sprintf("fanout: %d members in one room, %g s per step", r.Members, r.StepSeconds), "ack")
}

// writeSteps writes the steps' table under title; ack names what the
// sender waited for: a WebSocket ack, or an API post's answer.
func (r *FanoutResult) writeSteps(w io.Writer, title, ack string) {
	var rows []string
	for _, s := range r.Steps {
		ok := ""
		if s.OK {
			ok = "yes"
		}
		rows = append(rows, row(fmt.Sprintf("%g", s.Rate), fmt.Sprintf("%.0f", s.SendRate),
			fmt.Sprintf("%.0f", s.DeliveriesPerSec), fmt.Sprintf("%.4f", s.DeliveredRatio),
			fmt.Sprintf("%.1f", s.Latency.P50), fmt.Sprintf("%.1f", s.Latency.P99), fmt.Sprintf("%.1f", s.Latency.Max),
			fmt.Sprintf("%.1f", s.Ack.P50), fmt.Sprintf("%.1f", s.Ack.P99), fmt.Sprint(s.Reconnects),
			cores(s.Usage.ServerCPU), fmt.Sprintf("%.2f", s.Usage.ClientCPU), ok))
	}
	table(w, title, "msg/s\tsent/s\tdeliveries/s\tdelivered\tp50 ms\tp99 ms\tmax ms\t"+ack+" p50 ms\t"+ack+
		" p99 ms\treconnects\tserver CPU\ttool CPU\tok", rows)
	fmt.Fprintf(w, "presence frames received by the members: %d\n", r.PresenceFrames)
	if r.Best != nil {
		fmt.Fprintf(w, "highest step with >= 99.9%% delivered and p99 < 250 ms: %g msg/s (%.0f deliveries/s)\n",
			*r.Best, r.BestDelivers)
	} else {
		fmt.Fprintln(w, "no step reached 99.9% delivered with p99 < 250 ms")
	}
}

func (r *ChatResult) writeText(w io.Writer) {
	var rows []string
	for _, s := range r.Steps {
		rows = append(rows, row(fmt.Sprintf("%g", s.Rate), fmt.Sprintf("%.0f", s.SendRate),
			fmt.Sprintf("%.0f", s.DeliveriesPerSec), fmt.Sprintf("%.4f", s.DeliveredRatio),
			fmt.Sprintf("%.1f", s.Ack.P50), fmt.Sprintf("%.1f", s.Ack.P99),
			fmt.Sprintf("%.1f", s.Delivery.P50), fmt.Sprintf("%.1f", s.Delivery.P99),
			fmt.Sprint(s.Failed), cores(s.Usage.ServerCPU), fmt.Sprintf("%.2f", s.Usage.ClientCPU))+"\t"+commitCells(s.Store))
	}
	table(w, fmt.Sprintf("chat: %d rooms x %d members, %g s per rate (connected in %.1f s)", r.Rooms, r.Members, r.StepSeconds, r.ConnectSeconds),
		"msg/s each\tsent/s\tdeliveries/s\tdelivered\tack p50 ms\tack p99 ms\tdelivery p50 ms\tdelivery p99 ms\tfailed sends\tserver CPU\ttool CPU\tcommits/s\twrites/commit\tcommit mean ms\tcommit p99 ms\tWAL restarts (ms)\tstore wait mean ms\tstore wait p99 ms", rows)
	if r.Nodes > 1 {
		var rows []string
		for _, s := range r.Steps {
			if s.SameNode == nil || s.CrossNode == nil {
				continue
			}
			rows = append(rows, row(fmt.Sprintf("%g", s.Rate), fmt.Sprint(s.SameNode.Count),
				fmt.Sprintf("%.1f", s.SameNode.P50), fmt.Sprintf("%.1f", s.SameNode.P99),
				fmt.Sprint(s.CrossNode.Count), fmt.Sprintf("%.1f", s.CrossNode.P50), fmt.Sprintf("%.1f", s.CrossNode.P99)))
		}
		table(w, fmt.Sprintf("chat over %d nodes: delivery latency, receiver on the sender's node or another", r.Nodes),
			"msg/s each\tsame-node deliveries\tsame p50 ms\tsame p99 ms\tcross-node deliveries\tcross p50 ms\tcross p99 ms", rows)
	}
}

// commitCells renders a step's store commits, the writer's WAL-restart
// checkpoints (how many, and their total milliseconds) and the messages'
// wait for the store, or question marks when the server's metrics could
// not be read.
func commitCells(c *StoreCommits) string {
	if c == nil {
		return row("?", "?", "?", "?", "?", "?", "?")
	}
	wait, waitP99 := "?", "?"
	if c.Appends > 0 {
		wait, waitP99 = fmt.Sprintf("%.1f", c.AppendMeanMS), bucketBound(c.AppendP99MS)
	}
	return row(fmt.Sprintf("%.0f", c.PerSecond), fmt.Sprintf("%.1f", c.WritesPerCommit), fmt.Sprintf("%.2f", c.MeanMS), bucketBound(c.P99MS),
		fmt.Sprintf("%d (%.0f)", c.WriterCheckpoints, c.WriterCheckpointMS), wait, waitP99)
}

// bucketBound renders a p99 read off a histogram: the bound of the bucket
// that holds it.
func bucketBound(ms *float64) string {
	if ms == nil {
		return "> 1000"
	}
	return fmt.Sprintf("<= %g", *ms)
}

func (r *StormResult) writeText(w io.Writer) {
	rows := []string{
		row("clients", fmt.Sprint(r.Clients)),
		row("room size", fmt.Sprint(r.RoomSize)),
		row("initial connect (connect+join)", fmt.Sprintf("%.2f s, %.0f conn/s", r.ConnectSeconds, r.ConnectRate)),
		row("CPU while connecting (server/tool)", cores(r.Connect.ServerCPU)+" / "+fmt.Sprintf("%.2f", r.Connect.ClientCPU)),
		row("connections cut", fmt.Sprint(r.Cut)),
		row("messages sent while away", fmt.Sprint(r.SentWhileAway)),
		row("all reconnected after", fmt.Sprintf("%.2f s, %.0f conn/s", r.ReconnectSeconds, r.ReconnectRate)),
		row("all messages recovered after", fmt.Sprintf("%.2f s", r.RecoverySeconds)),
		row("messages recovered", fmt.Sprintf("%d of %d", r.Recovered, r.Expected)),
		row("duplicates / out of order", fmt.Sprintf("%d / %d", r.Duplicates, r.OutOfOrder)),
		row("CPU while reconnecting (server/tool)", cores(r.Reconnect.ServerCPU)+" / "+fmt.Sprintf("%.2f", r.Reconnect.ClientCPU)),
	}
	table(w, "storm", "measure\tvalue", rows)
}

func row(cells ...string) string { return strings.Join(cells, "\t") }

func cores(v *float64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%.2f", *v)
}

func bytesOrUnknown(v *int64) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(*v)/(1<<20))
}

func perConn(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f KiB", *v/1024)
}
