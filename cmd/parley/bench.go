package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/bench"
)

// Bounds on what one bench run may ask for, so a typo cannot turn the tool
// into a flood.
const (
	maxBenchConns   = 100000
	maxBenchRate    = 100000
	maxBenchTimeout = 25 * time.Hour // a day's soak and its drain
	maxBenchWorkers = 256            // the tool's HTTP connections to the server
	// benchTimeoutPerScenario makes the default --timeout.
	benchTimeoutPerScenario = 2 * time.Minute
	// soakTimeoutSlack is added to soak's --duration for the default
	// --timeout: connecting, the drain's wait to settle and the plot.
	soakTimeoutSlack = 10 * time.Minute
	// defaultSoakDuration is soak's --duration when none is given.
	defaultSoakDuration = 10 * time.Minute
)

const benchLong = `Load-test a Parley server over loopback with the Go client and prints a
summary table; --json FILE also writes the results as JSON.

Scenarios:
  idle    N connections (--conns, default 10000), 10 to a room: server memory
          per connection, time to connect them all, memory left after close
  fanout  S members in one room (--members, default 2000) and one publisher
          stepping through --rates (default 5,10,20,50,100,200,300,400 msg/s), each
          for --step-duration (default 5s): deliveries/s, delivered ratio,
          latency p50/p99/max and the highest step with >= 99.9% delivered
          and p99 < 250 ms
  chat    --rooms (default 500) x --members (default 4), every member sending
          at each of --rates (default 1,5 msg/s) for --duration (default 10s):
          deliveries/s, send-to-ack and send-to-delivery latency, server CPU,
          the store's group commits (rate, writes per commit, commit
          time), the writer's WAL-restart checkpoints and the messages'
          wait for the store (queue and commit), read from the server's
          /metrics when it is on the same address
  storm   --conns clients (default 10000) connected as fast as the server
          takes them, then cut and reconnected all at once with recovery
  publish a backend on the HTTP API with an API key: --workers (default 32)
          requests at a time posting into a room with no members for
          --duration (default 5s), one message a request and then 100 a
          request (posts/s, latency); posts into a room of --members
          (default 2000) stepping through --rates (default as fanout's)
          for --step-duration each (post-to-delivery p50/p99, post
          latency, the highest step passing fanout's mark); then
          --subscribers (default 10000) external users subscribe to a topic
          over HTTP and, none connected, get two notifications: each one's
          time to store, the server's memory before, after and at its
          peak, and chat posts' latency meanwhile and right after
  rooms   --conns guests (default 10000) joining: first each into a room of
          its own, then (new connections) all into one room; joins/s and
          join-to-joined p50/p99 of each, and whether the one room goes at
          least half as fast as the separate rooms
  soak    --conns (default 10000) in rooms of 10 for --duration (default
          10m), each chatting at --rates' first value (default 0.05 msg/s)
          and --churn of them (default 0.05) closing, dialling and joining
          again every 5-30 s; every --sample-every (default 10s) it records
          the server's RSS, Go heap, goroutines and open descriptors (from
          /metrics, else RSS and descriptors from /proc/<pid>) and the
          interval's delivery p99 to --csv FILE, then closes every
          connection and samples until goroutines and descriptors settle;
          --png FILE plots it. It reports RSS growth after the warm-up (the
          first 10% of --duration, at most 5 min) and baseline against
          after-drain figures.
  all     every scenario in turn but soak

Without --server the tool starts its own server as a child process on a free
loopback port with a temporary data directory, guests on and rate and
per-user connection limits lifted, external HS256 tokens taken with a random
secret, and an API key made with "parley apikey create"; it stops it with
SIGTERM at the end; that server also serves Go's profiler on a second
loopback port (--debug-addr, printed at the start) for a look at a leak
while it runs. With --server it drives that server, which must allow
guests, high rates and many connections per user (see parley serve -h); give
--server-pid to measure its CPU and memory.

--server may list the nodes of a cluster, comma-separated
(ws://127.0.0.1:8081,ws://127.0.0.1:8082,ws://127.0.0.1:8083): connection i
goes to node i mod N, API calls take the nodes in turn, and chat reports
delivery latency with the receiver on the sender's node and on another one.
--server-pid then takes their pids, comma-separated, and reports their sum.
The chat scenario reads store commits from the first node's /metrics. For publish it also needs an API
key with the publish and rooms scopes (--api-key, or PARLEY_BENCH_API_KEY,
which keeps it out of the process list) and the server's HS256 secret
(--jwt-secret-file; the server runs with --jwt-algorithm HS256 and no
--jwt-audience or --jwt-issuer). The subscribers stay in its store.

Each connection needs an open file (two when the server runs here too). If
the tool reports "ulimit -n" too low, raise it in the shell first:
  ulimit -n 65536`

// benchFlags are the flags of "parley bench".
type benchFlags struct {
	scenario, rates, jsonPath, serverURL, cpuProfile string
	csvPath, pngPath                                 string
	churn                                            float64
	sampleEvery                                      time.Duration
	apiKey, jwtSecretFile, serverPIDs                string
	conns, members, rooms                            int
	subscribers, workers                             int
	stepDur, duration, timeout                       time.Duration
	allowRemote                                      bool
}

// benchCommand is "parley bench".
func benchCommand(e *cli) *cobra.Command {
	var f benchFlags
	c := &cobra.Command{
		Use:   "bench --scenario NAME[,NAME...] [flags]",
		Short: "Load-test a server over loopback",
		Long:  benchLong,
		Args:  noArgs,
		RunE:  func(*cobra.Command, []string) error { return runBench(&f, e) },
	}
	fs := c.Flags()
	fs.SortFlags = false
	fs.StringVar(&f.scenario, "scenario", "", "scenarios to run, comma-separated: idle, fanout, chat, storm, publish, rooms, soak or all (required)")
	fs.IntVar(&f.conns, "conns", 0, "connections for idle, storm, rooms and soak (default 10000)")
	fs.IntVar(&f.members, "members", 0, "room size: fanout and publish subscribers (default 2000), chat members per room (default 4)")
	fs.IntVar(&f.rooms, "rooms", 0, "rooms for chat (default 500)")
	fs.StringVar(&f.rates, "rates", "", "messages per second, comma-separated: fanout's and publish's steps, chat's rate per member")
	fs.DurationVar(&f.stepDur, "step-duration", 0, "how long each fanout and publish step sends (default 5s)")
	fs.DurationVar(&f.duration, "duration", 0, "how long each chat rate runs (default 10s), idle holds its connections (default 5s), "+
		"each publish throughput phase posts (default 5s) and soak runs (default 10m)")
	fs.IntVar(&f.subscribers, "subscribers", 0, "offline subscribers of publish's notification (default 10000)")
	fs.IntVar(&f.workers, "workers", 0, "HTTP requests publish keeps going at once (default 32)")
	fs.Float64Var(&f.churn, "churn", 0, "soak: fraction of connections that keep reconnecting, 0 to 1 (default 0.05)")
	fs.DurationVar(&f.sampleEvery, "sample-every", 0, "soak: how often to sample the server (default 10s)")
	fs.StringVar(&f.csvPath, "csv", "", "soak: write the samples as CSV to this file")
	fs.StringVar(&f.pngPath, "png", "", "soak: plot the samples as PNG to this file")
	fs.StringVar(&f.jsonPath, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&f.serverURL, "server", "", "base URL of a running server, ws://127.0.0.1:8080, or of a cluster's nodes, "+
		"comma-separated (default: start one)")
	fs.StringVar(&f.serverPIDs, "server-pid", "", "process id of the --server (comma-separated for several nodes), to read CPU and memory from /proc")
	fs.StringVar(&f.apiKey, "api-key", "", "for publish with --server: an API key with the publish and rooms scopes "+
		"(better: PARLEY_BENCH_API_KEY, out of the process list)")
	fs.StringVar(&f.jwtSecretFile, "jwt-secret-file", "", "for publish with --server: the file of the server's HS256 secret (its --jwt-secret-file)")
	fs.DurationVar(&f.timeout, "timeout", 0, "hard cap on the whole run (default 2m for each scenario asked for)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a --server that is not on this machine")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to this file (go tool pprof), to see where its CPU goes")
	return c
}

// runBench runs "parley bench" with the flags f.
func runBench(f *benchFlags, e *cli) error {
	stdout, stderr := e.stdout, e.stderr
	cfg := bench.Config{Conns: f.conns, Members: f.members, Rooms: f.rooms,
		StepDuration: f.stepDur, Duration: f.duration, Subscribers: f.subscribers, Workers: f.workers, Progress: stderr,
		Churn: f.churn, SampleEvery: f.sampleEvery, CSVPath: f.csvPath, PNGPath: f.pngPath}
	var err error
	if cfg.Scenarios, err = parseScenarios(f.scenario); err == nil {
		cfg.Rates, err = parseRates(f.rates)
	}
	if f.timeout == 0 {
		// Each scenario takes up to a minute or so with its defaults;
		// "all" needs more than one scenario's cap.
		f.timeout = time.Duration(max(len(cfg.Scenarios), 1)) * benchTimeoutPerScenario
		if contains(cfg.Scenarios, bench.ScenarioSoak) {
			f.timeout += cmp.Or(cfg.Duration, defaultSoakDuration) + soakTimeoutSlack
		}
	}
	if err == nil {
		err = checkBenchBounds(cfg, f.timeout)
	}
	if err == nil && f.serverURL != "" {
		err = benchServers(&cfg, f.serverURL, f.allowRemote)
	}
	var pids []int
	if err == nil && f.serverPIDs != "" {
		pids, err = benchPIDs(f.serverPIDs, f.serverURL, 1+len(cfg.MoreServers))
	}
	if err == nil {
		err = checkSoakFlags(cfg)
	}
	if err == nil {
		err = publishCredentials(&cfg, f, e.getenv)
	}
	if err == nil {
		err = bench.CheckFileLimit(bench.Need(cfg, false))
	}
	if err != nil {
		return &usageError{err: err}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	var child *bench.Child
	if cfg.ServerURL == "" {
		exe, err := os.Executable()
		if err == nil {
			child, err = bench.StartChild(ctx, exe)
		}
		if err != nil {
			fmt.Fprintln(stderr, "parley bench: start a server:", err)
			return exitStatus(exitError)
		}
		cfg.ServerURL, cfg.Meter.ServerPID = child.URL, child.PID
		cfg.APIKey, cfg.JWTSecret = child.APIKey, child.JWTSecret
		fmt.Fprintf(stderr, "bench: started %s serve on %s (pid %d), profiler on http://%s/debug/pprof/\n",
			exe, child.URL, child.PID, child.DebugAddr)
	} else if len(pids) > 0 {
		cfg.Meter.ServerPID, cfg.Meter.MorePIDs = pids[0], pids[1:]
	}
	// The scenarios honour ctx, but a run must end even if something
	// hangs past it: the watchdog stops the child and exits.
	watchdog := time.AfterFunc(f.timeout+30*time.Second, func() {
		fmt.Fprintln(stderr, "parley bench: still running 30s past --timeout; giving up")
		if child != nil {
			_ = child.Stop()
		}
		os.Exit(3)
	})
	defer watchdog.Stop()

	if f.cpuProfile != "" {
		stopProfile, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "parley bench:", err)
			if child != nil {
				_ = child.Stop()
			}
			return exitStatus(exitError)
		}
		defer stopProfile()
	}
	rep, runErr := bench.Run(ctx, cfg)
	code := 0
	if child != nil {
		if err := child.Stop(); err != nil {
			fmt.Fprintln(stderr, "parley bench:", err)
		}
		if runErr != nil {
			fmt.Fprintf(stderr, "bench: server output (tail):\n%s\n", child.Logs())
		}
	}
	if rep != nil {
		rep.WriteText(stdout)
		if f.jsonPath != "" {
			if err := rep.WriteJSON(f.jsonPath); err != nil {
				fmt.Fprintln(stderr, "parley bench:", err)
				code = 1
			}
		}
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "parley bench:", runErr)
		code = 1
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

// publishCredentials gives cfg the API key and JWT secret that publish
// needs from a --server. A server the tool starts makes its own, so the
// flags need --server.
func publishCredentials(cfg *bench.Config, f *benchFlags, getenv func(string) string) error {
	if f.serverURL == "" {
		if f.apiKey != "" || f.jwtSecretFile != "" {
			return errors.New("--api-key and --jwt-secret-file need --server: the server the tool starts makes its own")
		}
		return nil
	}
	if !contains(cfg.Scenarios, bench.ScenarioPublish) {
		return nil
	}
	cfg.APIKey = f.apiKey
	if cfg.APIKey == "" {
		cfg.APIKey = strings.TrimSpace(getenv("PARLEY_BENCH_API_KEY"))
	}
	if cfg.APIKey == "" {
		return bench.ErrNoAPIKey
	}
	if f.jwtSecretFile == "" {
		return bench.ErrNoJWTSecret
	}
	b, err := os.ReadFile(f.jwtSecretFile)
	if err != nil {
		return fmt.Errorf("--jwt-secret-file: %w", err)
	}
	// The server reads the file's text with surrounding white space
	// ignored, and HS256 needs at least 32 bytes of it.
	if cfg.JWTSecret = []byte(strings.TrimSpace(string(b))); len(cfg.JWTSecret) < 32 {
		return fmt.Errorf("--jwt-secret-file %s holds %d bytes; an HS256 secret has at least 32", f.jwtSecretFile, len(cfg.JWTSecret))
	}
	return nil
}

func parseScenarios(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("--scenario is required: " + strings.Join(append(slices.Clone(bench.Scenarios), bench.LongScenarios...), ", ") + " or all")
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case name == "all":
			out = append(out, bench.Scenarios...)
		case contains(bench.Scenarios, name), contains(bench.LongScenarios, name):
			out = append(out, name)
		default:
			return nil, fmt.Errorf("unknown scenario %q (want %s or all)", name,
				strings.Join(append(slices.Clone(bench.Scenarios), bench.LongScenarios...), ", "))
		}
	}
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func parseRates(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 || r > maxBenchRate {
			return nil, fmt.Errorf("--rates: %q is not a rate between 0 and %d messages per second", f, maxBenchRate)
		}
		out = append(out, r)
	}
	return out, nil
}

func checkBenchBounds(cfg bench.Config, timeout time.Duration) error {
	for _, v := range []struct {
		name string
		n    int
	}{{"--conns", cfg.Conns}, {"--members", cfg.Members}, {"--rooms", cfg.Rooms}, {"--subscribers", cfg.Subscribers}} {
		if v.n < 0 || v.n > maxBenchConns {
			return fmt.Errorf("%s must be 1 to %d", v.name, maxBenchConns)
		}
	}
	if cfg.Workers < 0 || cfg.Workers > maxBenchWorkers {
		return fmt.Errorf("--workers must be 1 to %d", maxBenchWorkers)
	}
	if cfg.Rooms*max(cfg.Members, 4) > maxBenchConns {
		return fmt.Errorf("--rooms × --members must stay under %d connections", maxBenchConns)
	}
	if timeout <= 0 || timeout > maxBenchTimeout {
		return fmt.Errorf("--timeout must be above 0 and at most %v", maxBenchTimeout)
	}
	if cfg.StepDuration < 0 || cfg.StepDuration > timeout || cfg.Duration < 0 || cfg.Duration > timeout {
		return errors.New("--step-duration and --duration must be positive and within --timeout")
	}
	return nil
}

// maxBenchNodes bounds the nodes one --server list may name.
const maxBenchNodes = 64

// benchServers checks a --server list and puts its first node in
// cfg.ServerURL and the others in cfg.MoreServers.
func benchServers(cfg *bench.Config, list string, allowRemote bool) error {
	seen := make(map[string]bool)
	var urls []string
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return fmt.Errorf("--server: address %d of the list is empty (want ws://host:port,ws://host:port,...)", i+1)
		}
		u, err := benchServerURL(s, allowRemote)
		if err != nil {
			return err
		}
		if seen[u] {
			return fmt.Errorf("--server lists %s twice; name each node once", s)
		}
		seen[u] = true
		urls = append(urls, u)
	}
	if len(urls) > maxBenchNodes {
		return fmt.Errorf("--server lists %d nodes; at most %d", len(urls), maxBenchNodes)
	}
	cfg.ServerURL, cfg.MoreServers = urls[0], urls[1:]
	return nil
}

// benchPIDs parses --server-pid: one pid per node of --server, in the
// same order.
func benchPIDs(list, servers string, nodes int) ([]int, error) {
	if servers == "" {
		return nil, errors.New("--server-pid needs --server")
	}
	var pids []int
	for _, s := range strings.Split(list, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("--server-pid: %q is not a process id", s)
		}
		pids = append(pids, pid)
	}
	if len(pids) != nodes {
		return nil, fmt.Errorf("--server-pid gives %d pids for %d nodes of --server; give one per node, in the same order", len(pids), nodes)
	}
	return pids, nil
}

// checkSoakFlags checks soak's flags; they mean nothing to the other
// scenarios, so giving them without soak is a mistake worth reporting.
func checkSoakFlags(cfg bench.Config) error {
	soak := contains(cfg.Scenarios, bench.ScenarioSoak)
	if !soak && (cfg.Churn != 0 || cfg.SampleEvery != 0 || cfg.CSVPath != "" || cfg.PNGPath != "") {
		return errors.New("--churn, --sample-every, --csv and --png are for --scenario soak")
	}
	if cfg.Churn < 0 || cfg.Churn > 1 {
		return fmt.Errorf("--churn %g: want a fraction from 0 to 1", cfg.Churn)
	}
	if cfg.SampleEvery < 0 || (cfg.SampleEvery > 0 && cfg.SampleEvery < 100*time.Millisecond) {
		return errors.New("--sample-every must be at least 100ms")
	}
	return nil
}

// benchServerURL checks a --server URL and returns its ws:// form. Only this
// machine is allowed unless allowRemote: a load tool pointed at someone
// else's server is an attack.
func benchServerURL(s string, allowRemote bool) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--server %q: want ws://host:port (several nodes: comma-separated)", s)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("--server %q: want a ws://, wss://, http:// or https:// URL", s)
	}
	if !allowRemote && !bench.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("--server %s is not on this machine (127.0.0.0/8, ::1 or localhost); pass --allow-remote if you own it", u.Hostname())
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/ws"), "/")
	return u.String(), nil
}

// startCPUProfile profiles this process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
