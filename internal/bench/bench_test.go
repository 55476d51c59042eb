package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testJWTSecret is the HS256 secret the test servers take external tokens
// signed with, as the tool's child server takes its random one.
const testJWTSecret = "bench-test-secret-0123456789abcdef-0123456789abcdef"

// startServer runs an in-process server with the limits the tool's own
// child server gets (ChildArgs) and its external tokens. A test binary
// cannot re-exec "parley serve", so the child-process path is tested in
// cmd/parley.
func startServer(t *testing.T) *testutil.TestServer {
	t.Helper()
	return testutil.StartServer(t, func(c *config.Config) {
		c.RateMessages = 100000
		c.RateBurst = 100000
		c.MaxConnsPerUser = 100000
		c.UserRateMessages, c.UserRateJoins = 0, 0
		c.AddressRateMessages, c.AddressRateJoins = 0, 0
		c.RoomCreateRate, c.MaxConnsPerAddress, c.AcceptRate = 0, 0, 0
		c.JWTAlgorithm = "HS256"
		c.JWTSecret = testJWTSecret
	})
}

// apiKey makes ts an API key with scopes, as `parley apikey create` does.
func apiKey(t *testing.T, ts *testutil.TestServer, scopes ...string) string {
	t.Helper()
	key, _, err := auth.CreateAPIKey(context.Background(), ts.OpenStore(t), "bench test", scopes, "")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func run(t *testing.T, cfg Config) *Report {
	t.Helper()
	ts := startServer(t)
	if cfg.APIKey == "" {
		cfg.APIKey = apiKey(t, ts, "publish", "rooms")
	}
	return runOn(t, ts, cfg)
}

func runOn(t *testing.T, ts *testutil.TestServer, cfg Config) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cfg.ServerURL = ts.WSURL
	var progress bytes.Buffer
	cfg.Progress = &progress
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	t.Logf("\n%s", text.String())
	path := filepath.Join(t.TempDir(), "report.json")
	if err := rep.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("the JSON report does not decode: %v", err)
	}
	return rep
}

func checkLatency(t *testing.T, what string, l Latency) {
	t.Helper()
	if l.Count == 0 || l.P50 < 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("%s latency %+v: want samples and 0 <= p50 <= p99 <= max", what, l)
	}
}

func checkUsage(t *testing.T, what string, u Usage) {
	t.Helper()
	if u.Seconds <= 0 || u.ClientCPU < 0 || u.ClientRSS <= 0 {
		t.Errorf("%s usage %+v: want positive time and memory, non-negative CPU", what, u)
	}
	if u.ServerCPU != nil {
		t.Errorf("%s: server CPU %v reported with no server pid", what, *u.ServerCPU)
	}
}

func checkRatio(t *testing.T, what string, r float64) {
	t.Helper()
	if r < 0 || r > 1 {
		t.Errorf("%s delivered ratio %v outside [0,1]", what, r)
	}
}

func TestIdle(t *testing.T) {
	rep := run(t, Config{Scenarios: []string{ScenarioIdle}, Conns: 50, Duration: time.Millisecond})
	r := rep.Idle
	if r == nil || r.Conns != 50 || r.ConnectSeconds <= 0 || r.ConnectRate <= 0 {
		t.Fatalf("idle result %+v", r)
	}
	if r.ServerBytesPerConn != nil || r.ServerRSSBefore != nil {
		t.Errorf("server memory reported with no server pid")
	}
	checkUsage(t, "connect", r.Connect)
	checkUsage(t, "hold", r.Hold)
}

func TestFanout(t *testing.T) {
	rep := run(t, Config{Scenarios: []string{ScenarioFanout}, Members: 20, Rates: []float64{20, 50}, StepDuration: time.Second})
	r := rep.Fanout
	if r == nil || r.Members != 20 || len(r.Steps) != 2 {
		t.Fatalf("fanout result %+v", r)
	}
	for _, s := range r.Steps {
		if s.Sent == 0 || s.Acked == 0 || s.Delivered == 0 || s.DeliveriesPerSec <= 0 || s.SendRate <= 0 {
			t.Errorf("step %g: %+v: want sends, acks and deliveries", s.Rate, s)
		}
		checkRatio(t, "fanout", s.DeliveredRatio)
		checkLatency(t, "fanout delivery", s.Latency)
		checkLatency(t, "fanout ack", s.Ack)
		checkUsage(t, "fanout step", s.Usage)
	}
	// The members are one user, so each sees only the publisher's arrival:
	// 20 frames, where 20 distinct users would have made about 20²/2.
	if r.PresenceFrames < int64(r.Members) || r.PresenceFrames > 2*int64(r.Members) {
		t.Errorf("members received %d presence frames, want about %d: are they one user?", r.PresenceFrames, r.Members)
	}
	if r.Best != nil && (*r.Best != 20 && *r.Best != 50) {
		t.Errorf("best rate %v is not one of the steps", *r.Best)
	}
}

func TestChat(t *testing.T) {
	rep := run(t, Config{Scenarios: []string{ScenarioChat}, Rooms: 5, Members: 2, Rates: []float64{5}, Duration: 2 * time.Second})
	r := rep.Chat
	if r == nil || r.Rooms != 5 || r.Members != 2 || len(r.Steps) != 1 {
		t.Fatalf("chat result %+v", r)
	}
	s := r.Steps[0]
	if s.Acked == 0 || s.Delivered == 0 || s.DeliveriesPerSec <= 0 {
		t.Errorf("chat step %+v: want acks and deliveries", s)
	}
	checkRatio(t, "chat", s.DeliveredRatio)
	checkLatency(t, "chat ack", s.Ack)
	checkLatency(t, "chat delivery", s.Delivery)
	checkUsage(t, "chat", s.Usage)
	// The test server serves /metrics beside /ws, so the step reads the
	// store's commits: every acked message was written in one of them.
	if c := s.Store; c == nil || c.Commits == 0 || c.PerSecond <= 0 || c.WritesPerCommit < 1 ||
		c.MeanMS <= 0 || (c.P99MS != nil && *c.P99MS <= 0) || c.Writes < s.Acked {
		t.Errorf("chat step's store commits %+v, want commits carrying at least the %d acked messages", c, s.Acked)
	} else if c.Appends < s.Acked || c.AppendMeanMS <= 0 || (c.AppendP99MS != nil && *c.AppendP99MS <= 0) {
		// Every acked message waited for the store, and said how long.
		t.Errorf("chat step's store waits: %d appends, mean %v ms, p99 %v; want at least the %d acked, taking time",
			c.Appends, c.AppendMeanMS, c.AppendP99MS, s.Acked)
	}
}

func TestStorm(t *testing.T) {
	rep := run(t, Config{Scenarios: []string{ScenarioStorm}, Conns: 50})
	r := rep.Storm
	if r == nil || r.Clients != 50 || r.Cut != 50 {
		t.Fatalf("storm result %+v", r)
	}
	if r.ConnectRate <= 0 || r.ReconnectSeconds <= 0 || r.ReconnectRate <= 0 || r.RecoverySeconds <= 0 {
		t.Errorf("storm timings %+v: want positive", r)
	}
	if r.SentWhileAway != 5*stormMessages || r.Expected != 50*stormMessages || r.Recovered != r.Expected {
		t.Errorf("storm recovered %d of %d (sent %d): want all", r.Recovered, r.Expected, r.SentWhileAway)
	}
	if r.Duplicates != 0 || r.OutOfOrder != 0 {
		t.Errorf("storm: %d duplicates, %d out of order; want none", r.Duplicates, r.OutOfOrder)
	}
}

func TestPublish(t *testing.T) {
	rep := run(t, Config{Scenarios: []string{ScenarioPublish}, JWTSecret: []byte(testJWTSecret),
		Members: 20, Rates: []float64{20}, StepDuration: time.Second, Duration: 500 * time.Millisecond,
		Subscribers: 50, Workers: 4})
	r := rep.Publish
	if r == nil || r.Workers != 4 || r.Single == nil || r.Batch == nil || r.Delivery == nil || r.Notify == nil {
		t.Fatalf("publish result %+v: want every phase", r)
	}
	for what, p := range map[string]*Throughput{"single": r.Single, "batch": r.Batch} {
		if p.Requests == 0 || p.RequestsPerSec <= 0 || p.MessagesPerSec < p.RequestsPerSec || p.Failed != 0 || p.FirstError != "" {
			t.Errorf("%s posts %+v: want requests and no failures", what, p)
		}
		checkLatency(t, what+" post", p.Latency)
		checkUsage(t, what+" posts", p.Usage)
	}
	if r.Single.Messages != r.Single.Requests || r.Batch.Messages != batchSize*r.Batch.Requests {
		t.Errorf("%d single posts carried %d messages, %d batches %d: want 1 and %d each",
			r.Single.Requests, r.Single.Messages, r.Batch.Requests, r.Batch.Messages, batchSize)
	}

	d := r.Delivery
	if d.Members != 20 || len(d.Steps) != 1 {
		t.Fatalf("delivery %+v: want one step to 20 members", d)
	}
	s := d.Steps[0]
	if s.Acked == 0 || s.Delivered == 0 || s.Expected != 20*s.Acked {
		t.Errorf("delivery step %+v: want posts delivered to each member", s)
	}
	checkRatio(t, "publish", s.DeliveredRatio)
	checkLatency(t, "post to delivery", s.Latency)
	checkLatency(t, "post", s.Ack)

	n := r.Notify
	if n.Subscribers != 50 || n.SubscribeRate <= 0 || len(n.Rounds) != notifyRounds || n.Unread != notifyRounds {
		t.Fatalf("notify %+v: want 50 subscribers, %d rounds and as many unread", n, notifyRounds)
	}
	checkLatency(t, "quiet post", n.QuietPost)
	for i, round := range n.Rounds {
		if round.Recipients != 50 || round.StoreMS <= 0 || round.PostAfterMS <= 0 {
			t.Errorf("notification %d: %+v: want 50 recipients and times", i+1, round)
		}
		if round.ServerRSSPeak != nil || round.ServerRSSBefore != nil {
			t.Errorf("notification %d: server memory reported with no server pid", i+1)
		}
	}
}

// TestPublishNeedsCredentials holds the errors that say which flag a run
// against someone else's server is missing, and that a bad key is told
// as one.
func TestPublishNeedsCredentials(t *testing.T) {
	ts := startServer(t)
	for _, tt := range []struct {
		name string
		cfg  Config
		want error
		text string
	}{
		{"no key", Config{JWTSecret: []byte(testJWTSecret)}, ErrNoAPIKey, "--api-key"},
		{"no secret", Config{APIKey: "pk_x"}, ErrNoJWTSecret, "--jwt-secret-file"},
		{"unknown key", Config{APIKey: apiKey(t, ts, "publish", "rooms") + "x", JWTSecret: []byte(testJWTSecret)}, nil, "401"},
		{"key without rooms", Config{APIKey: apiKey(t, ts, "publish"), JWTSecret: []byte(testJWTSecret)}, nil, "rooms scope"},
		{"another secret", Config{APIKey: apiKey(t, ts, "publish", "rooms"), JWTSecret: []byte(strings.Repeat("s", 32)),
			Members: 2, Rates: []float64{10}, StepDuration: 200 * time.Millisecond, Duration: 100 * time.Millisecond,
			Subscribers: 5}, nil, "HS256 tokens signed with this secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.ServerURL, cfg.Scenarios = ts.WSURL, []string{ScenarioPublish}
			rep, err := Run(context.Background(), cfg)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want one saying %q", err, tt.text)
			}
			if len(rep.Errors) != 1 {
				t.Errorf("report errors %q, want this one", rep.Errors)
			}
		})
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	if _, err := Run(context.Background(), Config{ServerURL: "http://x"}); err == nil {
		t.Error("an http URL was accepted")
	}
	rep, err := Run(context.Background(), Config{ServerURL: "ws://127.0.0.1:1", Scenarios: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), "unknown scenario") || len(rep.Errors) != 1 {
		t.Errorf("unknown scenario: %v", err)
	}
}

func TestLoopbackAndLimits(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"10.0.0.1": false, "example.com": false, "": false} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
	if err := CheckFileLimit(1 << 30); err == nil || !strings.Contains(err.Error(), "ulimit -n") {
		t.Errorf("an impossible need passed the check: %v", err)
	}
	if err := CheckFileLimit(10); err != nil {
		t.Errorf("10 files: %v", err)
	}
	e := &env{host: "127.0.0.1"}
	if a := e.sourceAddr(0); a != nil {
		t.Errorf("first connection pinned to %v", a)
	}
	if a := e.sourceAddr(connsPerSource * 2); a == nil || a.IP.String() != "127.0.0.3" {
		t.Errorf("source address of connection %d = %v, want 127.0.0.3", connsPerSource*2, a)
	}
	if a := (&env{host: "::1"}).sourceAddr(connsPerSource * 2); a != nil {
		t.Errorf("IPv6 server got source address %v", a)
	}
}

// TestRooms fills one room with more guests than the presence batching
// threshold and compares it with as many separate rooms.
func TestRooms(t *testing.T) {
	rep := run(t, Config{Scenarios: []string{ScenarioRooms}, Conns: 150})
	r := rep.Rooms
	if r == nil || r.Conns != 150 || r.Nodes != 1 || r.Separate.Rooms != 150 || r.One.Rooms != 1 {
		t.Fatalf("rooms result %+v", r)
	}
	for _, p := range []RoomsPhase{r.Separate, r.One} {
		if p.JoinsPerSec <= 0 || p.Latency.Count != 150 {
			t.Errorf("phase %+v: want 150 timed joins", p)
		}
		checkLatency(t, "join", p.Latency)
		checkUsage(t, "join", p.Usage)
	}
	if r.Ratio <= 0 || r.OK != (r.Ratio >= roomsGoal) {
		t.Errorf("ratio %v, ok %v", r.Ratio, r.OK)
	}
}

// TestChatAcrossNodes runs chat over two nodes of a cluster: connections
// alternate between them, so each room of four has members on both, and
// deliveries are split by whether they crossed nodes.
func TestChatAcrossNodes(t *testing.T) {
	nodes := startBenchCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Config{Scenarios: []string{ScenarioChat}, ServerURL: nodes[0].WSURL, MoreServers: []string{nodes[1].WSURL},
		Rooms: 5, Members: 4, Rates: []float64{5}, Duration: 2 * time.Second, Progress: &progress})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	t.Logf("\n%s", text.String())
	s := rep.Chat.Steps[0]
	if rep.Chat.Nodes != 2 || s.SameNode == nil || s.CrossNode == nil {
		t.Fatalf("chat over 2 nodes: %+v", rep.Chat)
	}
	if s.SameNode.Count == 0 || s.CrossNode.Count == 0 || s.SameNode.Count+s.CrossNode.Count != s.Delivery.Count {
		t.Errorf("same-node %d + cross-node %d deliveries, want both and %d in all", s.SameNode.Count, s.CrossNode.Count, s.Delivery.Count)
	}
	checkLatency(t, "cross-node", *s.CrossNode)
	if !strings.Contains(text.String(), "cross p99 ms") {
		t.Errorf("the text report has no cross-node table")
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	p := payload(3, padding)
	step, age, ok := parsePayload(p)
	if !ok || step != 3 || age < 0 || age > time.Second {
		t.Fatalf("parsePayload(%q) = %d, %v, %v", p, step, age, ok)
	}
	if _, _, ok := parsePayload("hello there"); ok {
		t.Fatal("plain text parsed as a payload")
	}
	_, _, rest, ok := parsePayloadRest(payload(1, nodePad(12)))
	if !ok || padNode(rest) != 12 || padNode(padding) != -1 {
		t.Fatalf("node mark: %q read as node %d", rest, padNode(rest))
	}
}
