package bench

import (
	"fmt"
	"io"
)

// PublishResult is the publish scenario's outcome: a backend posting over
// the HTTP API with an API key. Phases that did not run are nil.
type PublishResult struct {
	Workers int `json:"workers"`
	// Single and Batch are posts into a room with no members, one message
	// a request and batchSize a request.
	Single *Throughput `json:"single,omitempty"`
	Batch  *Throughput `json:"batch,omitempty"`
	// Delivery is API posts into a room of members, stepped through rates
	// as fanout does; each step's Ack is the post's latency, its answer
	// meaning the message is stored.
	Delivery *FanoutResult `json:"delivery,omitempty"`
	// Notify is notifications to offline subscribers.
	Notify *NotifyResult `json:"notify,omitempty"`
}

// Throughput is a closed loop of Workers requests at a time for Seconds.
type Throughput struct {
	Workers        int     `json:"workers"`
	Seconds        float64 `json:"seconds"`
	Requests       uint64  `json:"requests"`
	Messages       uint64  `json:"messages"`
	FailedRequests uint64  `json:"failed_requests"`
	Failed         uint64  `json:"failed_messages"`
	FirstError     string  `json:"first_error,omitempty"`
	RequestsPerSec float64 `json:"requests_per_second"`
	MessagesPerSec float64 `json:"messages_per_second"`
	// Latency is each request's, from sending it to its answer.
	Latency Latency `json:"latency"`
	Usage   Usage   `json:"usage"`
}

// NotifyResult is notifications to offline subscribers of a topic.
type NotifyResult struct {
	Subscribers      int     `json:"subscribers"`
	Topic            string  `json:"topic"`
	SubscribeSeconds float64 `json:"subscribe_seconds"`
	SubscribeRate    float64 `json:"subscribes_per_second"`
	Subscribe        Usage   `json:"subscribe"`
	// QuietPost is chat posts' latency, one after another, before any
	// notification: what PostsDuring compares with.
	QuietPost Latency       `json:"quiet_post_latency"`
	Rounds    []NotifyRound `json:"rounds"`
	// Unread is a subscriber's unread count at the end, as the API tells
	// it: one per round.
	Unread int `json:"unread"`
}

// NotifyRound is one notification to every subscriber.
type NotifyRound struct {
	// StoreMS is the POST's round trip: resolving the subscribers, storing
	// the notification with a row for each, and handing it to the hub.
	StoreMS    float64 `json:"store_ms"`
	Recipients int     `json:"recipients"`
	// The server's resident memory just before the POST, just after its
	// answer, and its peak in between (VmHWM after a reset); nil when
	// unknown.
	ServerRSSBefore *int64 `json:"server_rss_before_bytes"`
	ServerRSSAfter  *int64 `json:"server_rss_after_bytes"`
	ServerRSSPeak   *int64 `json:"server_rss_peak_bytes"`
	// PostsDuring is chat posts into a room with no members, one after
	// another while the notification was being stored (the last may end
	// after it); PostAfterMS one more post right after its answer.
	PostsDuring Latency `json:"posts_during_latency"`
	PostAfterMS float64 `json:"post_after_ms"`
}

func (r *PublishResult) writeText(w io.Writer) {
	var rows []string
	for _, p := range []struct {
		what string
		t    *Throughput
	}{{"one message a request", r.Single}, {fmt.Sprintf("%d messages a request", batchSize), r.Batch}} {
		if t := p.t; t != nil {
			rows = append(rows, row(p.what, fmt.Sprintf("%.0f", t.RequestsPerSec), fmt.Sprintf("%.0f", t.MessagesPerSec),
				fmt.Sprintf("%.1f", t.Latency.P50), fmt.Sprintf("%.1f", t.Latency.P99), fmt.Sprintf("%.1f", t.Latency.Max),
				fmt.Sprint(t.Failed), cores(t.Usage.ServerCPU), fmt.Sprintf("%.2f", t.Usage.ClientCPU)))
		}
	}
	if len(rows) > 0 {
		secs := 0.0
		if r.Single != nil {
			secs = r.Single.Seconds
		}
		table(w, fmt.Sprintf("publish: API posts into one room with no members, %d requests at a time, %.1f s each", r.Workers, secs),
			"posts\trequests/s\tmessages/s\tp50 ms\tp99 ms\tmax ms\tfailed\tserver CPU\ttool CPU", rows)
	}
	if d := r.Delivery; d != nil {
		d.writeSteps(w, fmt.Sprintf("publish: API posts to %d members in one room (one user), %g s per step; "+
			"post = the API's answer, the message stored", d.Members, d.StepSeconds), "post")
	}
	if n := r.Notify; n != nil {
		n.writeText(w)
	}
}

func (r *NotifyResult) writeText(w io.Writer) {
	rows := []string{
		row("subscribed over HTTP (one PUT each)", fmt.Sprintf("%.1f s, %.0f/s", r.SubscribeSeconds, r.SubscribeRate)),
		row("CPU while subscribing (server/tool)", cores(r.Subscribe.ServerCPU)+" / "+fmt.Sprintf("%.2f", r.Subscribe.ClientCPU)),
		row("chat post alone, one after another", fmt.Sprintf("p50 %.1f ms, max %.1f ms", r.QuietPost.P50, r.QuietPost.Max)),
	}
	for i, n := range r.Rounds {
		k := fmt.Sprintf("notification %d: ", i+1)
		rows = append(rows,
			row(k+"POST answered (stored)", fmt.Sprintf("%.1f ms, %d recipients", n.StoreMS, n.Recipients)),
			row(k+"server RSS before / after / peak", bytesOrUnknown(n.ServerRSSBefore)+" / "+
				bytesOrUnknown(n.ServerRSSAfter)+" / "+bytesOrUnknown(n.ServerRSSPeak)),
			row(k+"chat posts meanwhile", fmt.Sprintf("%d, p50 %.1f ms, max %.1f ms", n.PostsDuring.Count, n.PostsDuring.P50, n.PostsDuring.Max)),
			row(k+"chat post right after", fmt.Sprintf("%.1f ms", n.PostAfterMS)))
	}
	rows = append(rows, row("a subscriber's unread count at the end", fmt.Sprint(r.Unread)))
	table(w, fmt.Sprintf("publish: one notification to %d offline subscribers of %s", r.Subscribers, r.Topic), "measure\tvalue", rows)
}
