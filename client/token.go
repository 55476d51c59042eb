package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// ErrNoToken is what Options.GetToken returns (or wraps) to say that no
// token will come, for example when the user signed out: the client stops
// with it rather than retrying. GetToken returning "" with a nil error
// means the same.
var ErrNoToken = errors.New("parley: no token")

// Renew hands the server a fresh token for the same user over an auth
// frame, so the session is not closed when its current token expires, and
// returns the new expiry (zero for a token that never expires). The client
// also dials with this token from now on. A token that does not verify is
// CodeUnauthorized, one of another user CodeForbidden; the session then
// keeps its old token and expiry. With Options.GetToken set the client
// renews by itself and this need not be called.
func (c *Client) Renew(ctx context.Context, token string) (time.Time, error) {
	var r protocol.AuthReply
	if err := c.request(ctx, protocol.TypeAuth, protocol.AuthBody{Token: token}, &r); err != nil {
		return time.Time{}, err
	}
	exp, _ := time.Parse(time.RFC3339Nano, r.ExpiresAt)
	c.mu.Lock()
	c.token = token
	c.setExpiryLocked(exp, r.ExpiresAt)
	c.mu.Unlock()
	return exp, nil
}

// setExpiryLocked records the current connection's token expiry (zero for
// none) and wakes the renewer to schedule the next renewal.
func (c *Client) setExpiryLocked(exp time.Time, wire string) {
	c.expires, c.expirySet = exp, time.Now()
	c.welcome.ExpiresAt = wire
	select {
	case c.renewKick <- struct{}{}:
	default:
	}
}

// renewAt returns when to renew the token of the current connection: a
// RenewBefore ahead of its expiry, but no sooner than halfway through its
// remaining life, so a short-lived token is not renewed in a loop. False
// when there is nothing to renew (no connection, or a token that never
// expires).
func (c *Client) renewAt() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil || c.expires.IsZero() {
		return time.Time{}, false
	}
	ahead := min(c.opts.RenewBefore, c.expires.Sub(c.expirySet)/2)
	return c.expires.Add(-ahead), true
}

// renewLoop renews the session's token before it expires, for as long as
// the client runs; it is started by Dial when Options.GetToken is set. A
// failed renewal is retried with backoff until the expiry; if the server
// then closes the connection with 4002, the reconnect gets a new token.
// It emits no events: a Handler is called from the reader goroutine only.
func (c *Client) renewLoop() {
	defer c.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	fails := 0
	var retryAt time.Time
	for {
		at, ok := c.renewAt()
		if ok && retryAt.After(at) {
			at = retryAt
		}
		t.Stop()
		var fire <-chan time.Time
		if ok {
			t.Reset(time.Until(at))
			fire = t.C
		}
		select {
		case <-c.ctx.Done():
			return
		case <-c.renewKick:
			fails, retryAt = 0, time.Time{} // a new connection or expiry
			continue
		case <-fire:
		}
		if err := c.renewOnce(); err != nil {
			fails++
			retryAt = time.Now().Add(min(c.opts.BackoffMax, c.opts.BackoffMin<<min(fails, 20)))
		} else {
			fails, retryAt = 0, time.Time{}
		}
	}
}

// renewOnce gets a token from GetToken and sends it in an auth frame.
func (c *Client) renewOnce() error {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.HandshakeTimeout)
	defer cancel()
	tok, err := c.fetchToken(ctx)
	if err != nil {
		return err
	}
	_, err = c.Renew(ctx, tok)
	return err
}

// fetchToken calls GetToken and keeps the token for the next dial.
func (c *Client) fetchToken(ctx context.Context) (string, error) {
	tok, err := c.opts.GetToken(ctx)
	if err == nil && tok == "" {
		err = ErrNoToken
	}
	if err != nil {
		return "", fmt.Errorf("parley: get a token: %w", err)
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	return tok, nil
}

// authRefused reports whether err says the server refused the token: HTTP
// 401 on a dial, or a close with 4001 (refused or signed out) or 4002
// (expired). With Options.GetToken these call for a new token; without
// it they end the client.
func authRefused(err error) bool {
	var de *DialError
	if errors.As(err, &de) {
		return de.Status == http.StatusUnauthorized
	}
	var ce *CloseError
	return errors.As(err, &ce) && (ce.Code == protocol.CloseUnauthorized || ce.Code == protocol.CloseTokenExpired)
}
