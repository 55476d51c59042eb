package ws

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// awaitAuth reads the first frame of a connection whose request carried no
// credentials; it must be an auth frame with a valid token.
func (c *conn) awaitAuth(ctx context.Context) (Principal, bool) {
	_ = c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.AuthTimeout))
	typ, data, err := c.ws.ReadMessage()
	if err != nil {
		// After a read error the library reads nothing more, so the close
		// cannot wait for the peer's answer: it is written here, before the
		// socket is dropped, or the client would see only a cut (1006).
		c.closeNow(protocol.CloseUnauthorized, "no auth frame in time")
		return Principal{}, false
	}
	env, perr := protocol.DecodeEnvelope(data)
	if typ != 1 || perr != nil || env.Type != protocol.TypeAuth {
		c.Close(protocol.CloseUnauthorized, "the first frame must be auth")
		return Principal{}, false
	}
	var body protocol.AuthBody
	if perr := protocol.DecodeBody(env, &body); perr != nil || body.Token == "" {
		c.Close(protocol.CloseUnauthorized, "auth needs a token")
		return Principal{}, false
	}
	p, err := c.s.auth.Token(ctx, body.Token)
	if errors.Is(err, ErrUnavailable) {
		c.s.log.Warn("cannot authenticate a WebSocket", "conn", c.id, "err", err)
		c.Close(protocol.CloseTryAgainLater, "authentication is unavailable; retry shortly")
		return Principal{}, false
	}
	if err != nil {
		c.Close(protocol.CloseUnauthorized, "invalid token")
		return Principal{}, false
	}
	return p, true
}

// reauth takes a fresh token for the same user during a session and moves
// the expiry; a token for someone else is refused.
func (c *conn) reauth(ctx context.Context, env protocol.Envelope) {
	var body protocol.AuthBody
	if perr := protocol.DecodeBody(env, &body); perr != nil {
		c.sendError(env.ID, perr)
		return
	}
	p, err := c.s.auth.Token(ctx, body.Token)
	if err != nil {
		c.sendError(env.ID, protocol.Errorf(protocol.CodeUnauthorized, "invalid token"))
		return
	}
	if p.User.ID != c.user {
		c.sendError(env.ID, protocol.Errorf(protocol.CodeForbidden, "the token is for another user"))
		return
	}
	c.mu.Lock()
	c.armExpiryLocked(p.ExpiresAt)
	c.mu.Unlock()
	reply := protocol.AuthReply{}
	if !p.ExpiresAt.IsZero() {
		reply.ExpiresAt = protocol.FormatTime(p.ExpiresAt)
	}
	c.send(protocol.TypeAuth, env.ID, reply)
}

// armExpiryLocked closes the connection with 4002 when its token expires.
func (c *conn) armExpiryLocked(at time.Time) {
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if at.IsZero() || c.closing {
		return
	}
	c.expiry = time.AfterFunc(time.Until(at), func() {
		c.Close(protocol.CloseTokenExpired, "token expired; reconnect with a fresh token")
	})
}

// welcome builds the first frame of the session.
func (c *conn) welcome(p Principal) protocol.WelcomeBody {
	hc := c.s.hub.Config()
	cfg := c.s.cfg
	w := protocol.WelcomeBody{
		Session:     c.id,
		User:        p.User,
		Protocol:    protocol.Subprotocol,
		Server:      cfg.ServerVersion,
		HeartbeatMS: cfg.HeartbeatInterval.Milliseconds(),
		TimeoutMS:   (cfg.HeartbeatInterval + cfg.HeartbeatTimeout).Milliseconds(),
		Limits: protocol.Limits{
			MaxFrameBytes:    cfg.MaxFrameBytes,
			MaxMessageLength: hc.MaxMessageLength,
			MaxRoomName:      hc.MaxRoomName,
			MaxRooms:         hc.MaxRoomsPerConn,
			RateMessages:     cfg.RateMessages,
			RateBurst:        cfg.RateBurst,
			TypingTimeoutMS:  hc.TypingTimeout.Milliseconds(),
			RecoveryWindow:   hc.RecoveryWindow,
		},
	}
	if !p.ExpiresAt.IsZero() {
		w.ExpiresAt = protocol.FormatTime(p.ExpiresAt)
	}
	w.GuestToken = p.GuestToken
	return w
}
