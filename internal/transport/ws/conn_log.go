package ws

import (
	"context"
	"log/slog"
	"time"
)

// The connection log: one info line when a session is registered with the
// hub ("connected") and one when it ends ("disconnected"), so an operator
// can follow who came and went, from where, why they left and how long
// they stayed. Both are skipped, arguments and all, when info is not
// logged. A connection refused before it was registered (bad origin,
// credentials, auth timeout) logs neither; the HTTP status or close code
// tells the client, and the metrics count it.

// logConnected logs a session that has just been registered.
func (c *conn) logConnected(ctx context.Context, p Principal, room string) {
	if !c.s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	c.s.log.LogAttrs(ctx, slog.LevelInfo, "connected",
		slog.String("conn", c.id), slog.String("user", p.User.ID), slog.String("name", p.User.Name),
		slog.Bool("guest", p.User.Guest), slog.String("remote", c.remote), slog.String("room", room))
}

// logDisconnected logs a session that has ended, with its close code (the
// one sent or received; 0 when the connection dropped without one), how
// long it lasted and the frames it read and wrote.
func (c *conn) logDisconnected(code int) {
	ctx := context.Background()
	if !c.s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var d time.Duration
	if c.opened != 0 {
		d = time.Duration(time.Now().UnixNano() - c.opened).Round(time.Millisecond)
	}
	c.s.log.LogAttrs(ctx, slog.LevelInfo, "disconnected",
		slog.String("conn", c.id), slog.String("user", c.user), slog.String("name", c.name),
		slog.String("remote", c.remote), slog.Int("code", code), slog.Duration("duration", d),
		slog.Int64("frames_in", c.framesIn), slog.Int64("frames_out", c.framesOut.Load()))
}
