// Package natsbroker is the broker.Broker of a cluster: events go through
// a NATS server, so every node sees the room and user events of all of
// them. Core NATS (no JetStream) is enough: delivery is at most once, as
// the broker contract says, and stored events lost on the way are filled
// from the store by the hub.
package natsbroker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley-chat/parley/internal/broker"
)

// Config says how to reach NATS.
type Config struct {
	// URLs are the NATS servers, comma-separated: nats://host:4222 or
	// tls://host:4222, with user:password@ in them when the server wants
	// it.
	URLs string
	// Prefix starts every subject, so that two Parley clusters can share
	// one NATS; default "parley".
	Prefix string
	// Name names this connection in NATS's monitoring, such as the node.
	Name string
	// CredsFile is a NATS credentials file (JWT and NKey seed), for a
	// NATS that authenticates that way.
	CredsFile string
	// RootCAs are PEM files that verify a tls:// server's certificate,
	// for a NATS with a private certificate authority.
	RootCAs []string
	// Log hears of disconnects, reconnects and slow consumers; nil
	// discards.
	Log *slog.Logger
}

// Broker is a broker.Broker over a NATS connection.
type Broker struct {
	nc     *nats.Conn
	prefix string
	log    *slog.Logger
	closed chan struct{} // closed when the connection has closed
	// onReconnect runs each time the connection comes back (see
	// OnReconnect).
	onReconnect atomic.Pointer[func()]

	mu   sync.Mutex
	done bool
}

var _ broker.Broker = (*Broker)(nil)

// connectWait bounds the first connection: a cluster node that cannot
// reach NATS at start is misconfigured more often than unlucky.
const connectWait = 10 * time.Second

// Open connects to NATS. It fails when no server of cfg.URLs answers
// within 10 seconds; once connected, it reconnects on its own for as long
// as it is open.
func Open(cfg Config) (*Broker, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "parley"
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Broker{prefix: cfg.Prefix, log: log, closed: make(chan struct{})}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.Timeout(connectWait),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		// Events published while NATS is away are dropped, not buffered:
		// stored ones are healed from the store, and stale typing or
		// presence would only mislead.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if !b.isClosed() {
				log.Warn("broker: lost the connection to NATS; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("broker: reconnected to NATS", "server", nc.ConnectedUrlRedacted())
			if f := b.onReconnect.Load(); f != nil {
				go (*f)()
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("broker: NATS error", "subject", subject, "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if len(cfg.RootCAs) > 0 {
		opts = append(opts, nats.RootCAs(cfg.RootCAs...))
	}
	nc, err := nats.Connect(cfg.URLs, opts...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect to NATS at %s: %w", redact(cfg.URLs), err)
	}
	b.nc = nc
	return b, nil
}

// redact hides passwords in NATS URLs for messages.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, u := range parts {
		if at := strings.LastIndex(u, "@"); at >= 0 {
			if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
				parts[i] = u[:scheme+3] + "***@" + u[at+1:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// Subject maps a broker subject ("room.<key>", "user.<id>", "notice") to a
// NATS subject: the prefix, the kind, and the rest as one token. Room keys
// and user ids may hold characters NATS gives meaning to (".", "*", ">",
// spaces) or that it refuses, so a rest made of anything but letters,
// digits, "-", "_" and ":" travels base64url-encoded behind a "~", which
// no plain one starts with.
func (b *Broker) Subject(subject string) string {
	kind, rest, ok := strings.Cut(subject, ".")
	if !ok {
		return b.prefix + "." + subject
	}
	return b.prefix + "." + kind + "." + token(rest)
}

func token(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ':')
	}) < 0 {
		return s
	}
	return "~" + base64.RawURLEncoding.EncodeToString([]byte(s))
}

// Publish sends data to the subject's subscribers on every node. It does
// not wait: NATS buffers it and sends it on.
func (b *Broker) Publish(_ context.Context, subject string, data []byte) error {
	if b.isClosed() {
		return broker.ErrClosed
	}
	if err := b.nc.Publish(b.Subject(subject), data); err != nil {
		return fmt.Errorf("broker: publish to %s: %w", subject, err)
	}
	return nil
}

// Subscribe calls h for every event on subject, in the order one
// publisher sent them, on a goroutine of the subscription's own.
func (b *Broker) Subscribe(subject string, h broker.Handler) (broker.Subscription, error) {
	if b.isClosed() {
		return nil, broker.ErrClosed
	}
	sub, err := b.nc.Subscribe(b.Subject(subject), func(m *nats.Msg) { h(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("broker: subscribe to %s: %w", subject, err)
	}
	return subscription{sub}, nil
}

type subscription struct{ sub *nats.Subscription }

// Unsubscribe stops delivery; a second call is no error.
func (s subscription) Unsubscribe() error {
	err := s.sub.Unsubscribe()
	if err != nil && !errors.Is(err, nats.ErrBadSubscription) && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("broker: unsubscribe: %w", err)
	}
	return nil
}

// Ready reports whether NATS is connected now: a node cut off from it
// still serves its own users, but misses everyone else's events, so it
// should not take new ones.
func (b *Broker) Ready() error {
	if b.isClosed() {
		return broker.ErrClosed
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("broker: not connected to NATS (%s)", b.nc.Status())
	}
	return nil
}

// Close drains the connection — subscriptions stop, events already
// received are handled, published ones are flushed — and waits for it to
// close.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return nil
	}
	b.done = true
	b.mu.Unlock()
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
	}
	select {
	case <-b.closed:
	case <-time.After(30 * time.Second):
		b.nc.Close()
		<-b.closed
	}
	return nil
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// OnReconnect sets f to run, on a goroutine of its own, each time the
// connection comes back after it was lost: what was published meanwhile
// did not arrive, and the hub reads it from the store.
func (b *Broker) OnReconnect(f func()) { b.onReconnect.Store(&f) }

// Flush waits until NATS has everything sent so far, subscriptions
// included, so that a caller that must know a subscription is in place
// on the server can go on.
func (b *Broker) Flush() error {
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("broker: flush: %w", err)
	}
	return nil
}
