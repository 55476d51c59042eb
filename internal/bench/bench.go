package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Scenario names.
const (
	ScenarioIdle    = "idle"
	ScenarioFanout  = "fanout"
	ScenarioChat    = "chat"
	ScenarioStorm   = "storm"
	ScenarioPublish = "publish"
	ScenarioRooms   = "rooms"
	ScenarioSoak    = "soak"
)

// Scenarios lists every scenario in the order "all" runs them.
var Scenarios = []string{ScenarioIdle, ScenarioFanout, ScenarioChat, ScenarioStorm, ScenarioPublish, ScenarioRooms}

// LongScenarios run only when named: they take minutes to hours, so "all"
// leaves them out.
var LongScenarios = []string{ScenarioSoak}

// Config describes one run. Zero values take each scenario's defaults.
type Config struct {
	// Scenarios to run, in order.
	Scenarios []string
	// ServerURL is the server's base WebSocket URL, like
	// ws://127.0.0.1:8080; the scenarios connect to its /ws.
	ServerURL string
	// MoreServers are the other nodes of a cluster, base URLs like
	// ServerURL: connection i goes to node i mod (1+len(MoreServers)),
	// ServerURL being node 0, and HTTP API calls take the nodes in turn.
	MoreServers []string
	// Meter samples the server's and this process's resources.
	Meter Meter
	// Conns is the number of connections of idle and storm; default 10,000.
	Conns int
	// Members is the room size: fanout's and publish's subscribers
	// (default 2,000) and chat's members per room (default 4).
	Members int
	// Rooms is chat's number of rooms; default 500.
	Rooms int
	// Rates are messages per second: the publisher's steps in fanout and
	// publish (default 5,10,20,50,100,200,300,400) and each member's rate
	// in chat (default 1,5).
	Rates []float64
	// StepDuration is how long each fanout and publish step sends; default
	// 5s.
	StepDuration time.Duration
	// Duration is how long each chat rate runs, how long idle holds its
	// connections and how long each of publish's throughput phases posts;
	// default 10s for chat, 5s for idle and publish.
	Duration time.Duration
	// APIKey is an API key of the server with the publish and rooms
	// scopes; publish needs it.
	APIKey string
	// JWTSecret is the server's HS256 secret for external tokens
	// (--jwt-algorithm HS256 --jwt-secret-file); publish signs its
	// subscribers' tokens with it.
	JWTSecret []byte
	// Subscribers is how many offline users publish's notification goes
	// to; default 10,000. Each is an external user the tool subscribes
	// over HTTP, and each stays in the server's store.
	Subscribers int
	// Workers is how many HTTP requests publish keeps going at once in its
	// throughput phases and while subscribing; default 32. On 2 cores
	// single posts went from 3,400/s with 8 to 5,500 with 16, 7,000 with 32
	// and 8,000-9,000 with 64, latency doubling from 32 to 64.
	Workers int
	// Churn is the fraction of soak's connections that keep closing,
	// dialling again and joining again, each after a lifetime of 5–30 s;
	// default 0.05. Soak's Conns default to 10,000, its Duration to 10
	// minutes and its rate per member (Rates[0]) to 0.05 msg/s.
	Churn float64
	// SampleEvery is how often soak samples the server; default 10s.
	SampleEvery time.Duration
	// CSVPath, if set, is where soak writes its samples as they come.
	CSVPath string
	// PNGPath, if set, is where soak plots its samples at the end.
	PNGPath string
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

// env is what a scenario runs with.
type env struct {
	cfg    Config
	wsURLs []string // each node's /ws endpoint
	// metricsURL is the first node's /metrics on its main listener,
	// where the chat scenario reads the store's commits.
	metricsURL string
	// apiURLs are the nodes' HTTP APIs, http://host:port/api/v1.
	apiURLs []string
	// metricsURLs are every node's /metrics, metricsURL among them.
	metricsURLs []string
	host        string
	run         string // a per-run suffix for room names, so reruns start clean
	meter       *Meter
	out         io.Writer
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.out, "bench: "+format+"\n", args...)
}

// Run runs the configured scenarios in order and returns their results. A
// scenario that fails is recorded with its error and the run goes on; the
// returned error joins every failure. ctx bounds the whole run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	var suffix [3]byte
	_, _ = rand.Read(suffix[:])
	e := &env{cfg: cfg, run: hex.EncodeToString(suffix[:]), meter: &cfg.Meter, out: cfg.Progress}
	for i, s := range append([]string{cfg.ServerURL}, cfg.MoreServers...) {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return nil, fmt.Errorf("bench: server URL %q: want ws://host:port", s)
		}
		httpURL := *u
		httpURL.Scheme = map[string]string{"ws": "http", "wss": "https"}[u.Scheme]
		base := strings.TrimSuffix(u.Path, "/")
		httpURL.Path = base + "/api/v1"
		e.apiURLs = append(e.apiURLs, httpURL.String())
		httpURL.Path = base + "/metrics"
		e.metricsURLs = append(e.metricsURLs, httpURL.String())
		e.wsURLs = append(e.wsURLs, strings.TrimSuffix(s, "/")+"/ws")
		if i == 0 {
			httpURL.Path = base + "/metrics"
			e.metricsURL, e.host = httpURL.String(), u.Hostname()
		}
	}
	if e.out == nil {
		e.out = io.Discard
	}
	rep := &Report{Machine: machine(), Server: cfg.ServerURL, MoreServers: cfg.MoreServers, ServerPID: cfg.Meter.ServerPID,
		MorePIDs: cfg.Meter.MorePIDs, Started: time.Now()}
	var errs []error
	for _, s := range cfg.Scenarios {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("bench: %s not run: %w", s, ctx.Err()))
			continue
		}
		var err error
		switch s {
		case ScenarioIdle:
			rep.Idle, err = runIdle(ctx, e)
		case ScenarioFanout:
			rep.Fanout, err = runFanout(ctx, e)
		case ScenarioChat:
			rep.Chat, err = runChat(ctx, e)
		case ScenarioStorm:
			rep.Storm, err = runStorm(ctx, e)
		case ScenarioPublish:
			rep.Publish, err = runPublish(ctx, e)
		case ScenarioRooms:
			rep.Rooms, err = runRooms(ctx, e)
		case ScenarioSoak:
			rep.Soak, err = runSoak(ctx, e)
		default:
			err = fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(Scenarios, ", "))
		}
		if err != nil {
			err = fmt.Errorf("bench: %s: %w", s, err)
			rep.Errors = append(rep.Errors, err.Error())
			errs = append(errs, err)
		}
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	return rep, errors.Join(errs...)
}

// Machine describes where a run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Kernel    string `json:"kernel,omitempty"`
	GoVersion string `json:"go_version"`
	NoFile    uint64 `json:"ulimit_nofile"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.NoFile, _ = FileLimit()
	return m
}

// CheckFileLimit reports an error explaining how to raise `ulimit -n` when
// the limit is below need descriptors.
func CheckFileLimit(need int) error {
	soft, hard := FileLimit()
	if soft == 0 || uint64(need) <= soft {
		return nil
	}
	return fmt.Errorf("this run needs about %d open files but `ulimit -n` allows %d (hard limit %d).\n"+
		"Raise it in the shell that runs parley: `ulimit -n %d` (up to the hard limit; above it needs root:\n"+
		"`* hard nofile 65536` in /etc/security/limits.conf, or LimitNOFILE=65536 for a systemd unit),\n"+
		"or ask for fewer connections with --conns / --members / --rooms", need, soft, hard, max(need, 65536))
}

// Need returns roughly how many descriptors cfg needs in this process: one
// per client connection, plus one per server connection when the server is
// in-process, plus slack.
func Need(cfg Config, serverInProcess bool) int {
	n := 0
	for _, s := range cfg.Scenarios {
		var c int
		switch s {
		case ScenarioIdle, ScenarioStorm, ScenarioRooms, ScenarioSoak:
			c = withDefault(cfg.Conns, 10000) + 110
		case ScenarioFanout:
			c = withDefault(cfg.Members, 2000) + 1
		case ScenarioChat:
			c = withDefault(cfg.Rooms, 500) * withDefault(cfg.Members, 4)
		case ScenarioPublish:
			c = withDefault(cfg.Members, 2000) + apiConns
		}
		n = max(n, c)
	}
	if serverInProcess {
		n *= 2
	}
	return n + 64
}

// nodes is how many server nodes the run spreads over.
func (e *env) nodes() int { return len(e.wsURLs) }

// nodeOf is the node connection i goes to: round-robin.
func (e *env) nodeOf(i int) int { return i % len(e.wsURLs) }

func withDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// IsLoopback reports whether host names this machine: localhost or an
// address in 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connsPerSource is how many connections the tool opens from one loopback
// source address before moving to the next (127.0.0.2, .3, …). The
// ephemeral port range here holds about 28,000 ports per address; staying
// well under it leaves room for reconnects while old sockets linger.
const connsPerSource = 8000

// sourceAddr returns the local address connection i dials from: the
// kernel's choice for the first connsPerSource, then further 127.0.0.x
// addresses, which Linux routes over loopback without configuration. Only
// for an IPv4 loopback server; nil means no preference.
func (e *env) sourceAddr(i int) *net.TCPAddr {
	if i < connsPerSource {
		return nil
	}
	ip := net.ParseIP(e.host)
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return nil
	}
	n := 1 + i/connsPerSource
	if n > 254 {
		return nil
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n))}
}

// stampEpoch is the clock every payload timestamp is relative to; sender
// and receivers share this process, so a monotonic reading suffices.
var stampEpoch = time.Now()

func stampNow() int64 { return int64(time.Since(stampEpoch)) }

// payload is the text of a timed message: the step, the send time and some
// padding to a typical chat line's size.
func payload(step int, pad string) string {
	b := make([]byte, 0, 24+len(pad))
	b = strconv.AppendInt(b, int64(step), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, stampNow(), 10)
	b = append(b, ' ')
	b = append(b, pad...)
	return string(b)
}

// parsePayload returns the step and the age of a payload; ok is false for
// text that is not one.
func parsePayload(text string) (step int, age time.Duration, ok bool) {
	step, age, _, ok = parsePayloadRest(text)
	return step, age, ok
}

// parsePayloadRest is parsePayload that also returns the text after the
// send time: the padding, which may start with a sender's mark (see
// nodePad).
func parsePayloadRest(text string) (step int, age time.Duration, rest string, ok bool) {
	i := strings.IndexByte(text, ' ')
	if i <= 0 {
		return 0, 0, "", false
	}
	j := strings.IndexByte(text[i+1:], ' ')
	if j <= 0 {
		return 0, 0, "", false
	}
	s, err1 := strconv.Atoi(text[:i])
	t, err2 := strconv.ParseInt(text[i+1:i+1+j], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	return s, time.Duration(stampNow() - t), text[i+2+j:], true
}

// nodePad is the padding of a message sent through node: it starts with
// "n<node> ", so a receiver can tell a delivery that crossed nodes.
func nodePad(node int) string { return "n" + strconv.Itoa(node) + " " + padding }

// padNode reads the sender's node from a payload's padding; -1 when it
// carries none.
func padNode(rest string) int {
	if len(rest) < 3 || rest[0] != 'n' {
		return -1
	}
	i := strings.IndexByte(rest, ' ')
	if i < 2 {
		return -1
	}
	n, err := strconv.Atoi(rest[1:i])
	if err != nil {
		return -1
	}
	return n
}

// padding makes payloads about 80 bytes, a typical chat line.
const padding = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusm"
