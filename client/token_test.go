package client_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/testutil"
)

const password = "correct horse battery"

// shortToken returns a GetToken that mints an integrating app's token for
// sub living ttl, and counts its calls; while failing holds a time in the
// future, it fails instead.
func shortToken(t *testing.T, sub string, ttl time.Duration, calls *atomic.Int32, failUntil *atomic.Int64) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		calls.Add(1)
		if failUntil != nil && time.Now().UnixNano() < failUntil.Load() {
			return "", errors.New("the identity provider is down")
		}
		return testutil.ExternalToken(t, testutil.TokenClaims{Sub: sub, Name: sub, TTL: ttl}), nil
	}
}

func expiry(t *testing.T, c *client.Client) time.Time {
	t.Helper()
	exp, err := time.Parse(time.RFC3339Nano, c.Session().ExpiresAt)
	if err != nil {
		t.Fatalf("session expires_at %q: %v", c.Session().ExpiresAt, err)
	}
	return exp
}

// TestTokenRenewedBeforeExpiry: with tokens that live three seconds, the
// client hands the server fresh ones in auth frames, so one connection
// outlives several tokens.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	ts := startServer(t, testutil.WithExternalTokens)
	var calls atomic.Int32
	c := dial(t, ts, client.Options{GetToken: shortToken(t, "ada", 3*time.Second, &calls, nil), Reconnect: true})
	session, first := c.Session().Session, expiry(t, c)
	join(t, c, "lobby")
	testutil.Eventually(t, 15*time.Second, func() bool {
		return time.Now().After(first.Add(1500*time.Millisecond)) && calls.Load() >= 3
	}, "the session did not outlive its first token")
	if s := c.Session().Session; s != session {
		t.Fatalf("the client reconnected (session %s, then %s) instead of renewing", session, s)
	}
	if exp := expiry(t, c); !exp.After(first) {
		t.Fatalf("expiry %v did not move past %v", exp, first)
	}
	if _, err := c.Send(ctx(t), "lobby", "still here"); err != nil {
		t.Fatalf("send after the renewals: %v", err)
	}
}

// TestExpiredTokenReconnectsWithANewOne: when renewals fail until the
// token has expired, the server closes the connection with 4002 and the
// client reconnects with a token from GetToken, recovering its rooms.
func TestExpiredTokenReconnectsWithANewOne(t *testing.T) {
	ts := startServer(t, testutil.WithExternalTokens)
	var calls atomic.Int32
	var failUntil atomic.Int64
	c := dial(t, ts, client.Options{GetToken: shortToken(t, "bea", 2*time.Second, &calls, &failUntil), Reconnect: true,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	session, first := c.Session().Session, expiry(t, c)
	failUntil.Store(first.Add(200 * time.Millisecond).UnixNano())
	join(t, c, "lobby")
	next(t, c, client.EventReconnected)
	if time.Now().Before(first) {
		t.Fatalf("reconnected before the token expired at %v", first)
	}
	if s := c.Session(); s.Session == session || s.User.ID != "bea" || !expiry(t, c).After(first) {
		t.Fatalf("after the reconnect the session is %+v", s)
	}
	if _, err := c.Send(ctx(t), "lobby", "back"); err != nil {
		t.Fatalf("send in the re-joined room: %v", err)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("client error %v", err)
	}
}

// TestSignedOutReconnectsWithANewSignIn: a sign-out closes the connection
// with 4001; a GetToken that signs in again brings the same user back.
func TestSignedOutReconnectsWithANewSignIn(t *testing.T) {
	ts := startServer(t, nil)
	tok, err := client.Register(ctx(t), ts.WSURL+"/ws", "alice", password)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	var logins atomic.Int32
	c := dial(t, ts, client.Options{Token: tok.AccessToken, Reconnect: true,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		GetToken: func(ctx context.Context) (string, error) {
			logins.Add(1)
			t, err := client.Login(ctx, ts.URL, "alice", password)
			return t.AccessToken, err
		}})
	join(t, c, "lobby")
	apiCall(t, ts, tok.AccessToken, "POST", "/api/v1/auth/logout", "", http.StatusNoContent, nil)
	next(t, c, client.EventReconnected)
	if id := c.Session().User.ID; id != tok.User.ID || logins.Load() != 1 {
		t.Fatalf("back as %s after %d sign-ins, want %s after 1", id, logins.Load(), tok.User.ID)
	}
	if _, err := c.Send(ctx(t), "lobby", "signed in again"); err != nil {
		t.Fatal(err)
	}
}

// TestRefresherRotatesAndEndsWithTheSession: a Refresher hands out the
// sign-in's token, then a refreshed one per call; once the session is
// signed out, its refusal ends the client with the API's 401.
func TestRefresherRotatesAndEndsWithTheSession(t *testing.T) {
	ts := startServer(t, nil)
	tok, err := client.Register(ctx(t), ts.URL, "carol", password)
	if err != nil {
		t.Fatal(err)
	}
	r := client.NewRefresher(ts.URL, tok)
	if got, err := r.GetToken(ctx(t)); err != nil || got != tok.AccessToken {
		t.Fatalf("first token = %.10s…, %v; want the sign-in's", got, err)
	}
	// (The access token may equal the first: a refresh within the same
	// second signs the same claims.)
	second, err := r.GetToken(ctx(t))
	if err != nil || second == "" || r.Tokens().RefreshToken == tok.RefreshToken {
		t.Fatalf("second token %.10s…, %v: not refreshed", second, err)
	}
	if _, err := client.Refresh(ctx(t), ts.URL, tok.RefreshToken); !isAPIError(err, http.StatusUnauthorized) {
		t.Fatalf("the rotated refresh token still works: %v", err)
	}

	k := &cutter{}
	opts := reconnecting(k, "")
	opts.GetToken = r.GetToken
	c := dial(t, ts, opts)
	apiCall(t, ts, second, "POST", "/api/v1/auth/logout", "", http.StatusNoContent, nil)
	ev := next(t, c, client.EventError)
	if !isAPIError(ev.Err, http.StatusUnauthorized) {
		t.Fatalf("the client ended with %v, want the refresh's 401", ev.Err)
	}
	<-c.Done()
	if !isAPIError(c.Err(), http.StatusUnauthorized) || k.dials.Load() != 1 {
		t.Fatalf("Err() = %v after %d dials", c.Err(), k.dials.Load())
	}
}

func isAPIError(err error, status int) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == status
}

// TestDialReplacesARefusedToken: a token refused at the first dial is
// replaced from GetToken.
func TestDialReplacesARefusedToken(t *testing.T) {
	ts := startServer(t, nil)
	tok, err := client.Register(ctx(t), ts.URL, "dave", password)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ts, client.Options{Token: "not-a-token",
		GetToken: func(context.Context) (string, error) { return tok.AccessToken, nil }})
	if id := c.Session().User.ID; id != tok.User.ID {
		t.Fatalf("connected as %s, want %s", id, tok.User.ID)
	}
	_, err = client.Dial(ctx(t), ts.WSURL+"/ws", client.Options{
		GetToken: func(context.Context) (string, error) { return "", client.ErrNoToken }})
	if !errors.Is(err, client.ErrNoToken) {
		t.Fatalf("dial with no token to get: %v, want ErrNoToken", err)
	}
}

// TestFinalCloses: closes that mean "do not reconnect" end the client with
// a *CloseError after one dial, with Reconnect on.
func TestFinalCloses(t *testing.T) {
	ts := startServer(t, nil)
	admin := adminToken(t, ts)
	tests := []struct {
		name     string
		user     string
		getToken bool
		act      func(tok client.Tokens)
		code     int
	}{
		{"signed out without GetToken", "erin", false, func(tok client.Tokens) {
			apiCall(t, ts, tok.AccessToken, "POST", "/api/v1/auth/logout", "", http.StatusNoContent, nil)
		}, client.CloseUnauthorized},
		{"account disabled, with GetToken", "frank", true, func(tok client.Tokens) {
			apiCall(t, ts, admin, "POST", "/api/v1/users/"+tok.User.Username+"/disable", "", http.StatusNoContent, nil)
		}, client.CloseDisconnected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := client.Register(ctx(t), ts.URL, tt.user, password)
			if err != nil {
				t.Fatal(err)
			}
			k := &cutter{}
			opts := reconnecting(k, "")
			opts.Token = tok.AccessToken
			var calls atomic.Int32
			if tt.getToken {
				opts.GetToken = func(ctx context.Context) (string, error) {
					calls.Add(1)
					t, err := client.Login(ctx, ts.URL, tt.user, password)
					return t.AccessToken, err
				}
			}
			c := dial(t, ts, opts)
			tt.act(tok)
			ev := next(t, c, client.EventError)
			var ce *client.CloseError
			if !errors.As(ev.Err, &ce) || ce.Code != tt.code {
				t.Fatalf("ended with %v, want close %d", ev.Err, tt.code)
			}
			<-c.Done()
			if k.dials.Load() != 1 || calls.Load() != 0 {
				t.Fatalf("%d dials and %d GetToken calls after a final close, want 1 and 0", k.dials.Load(), calls.Load())
			}
			if _, err := c.Send(ctx(t), "lobby", "x"); !errors.As(err, &ce) {
				t.Fatalf("send after the end: %v, want the CloseError", err)
			}
		})
	}
}
