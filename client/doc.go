// Package client is the Go client SDK for Parley's WebSocket protocol v1
// (docs/PROTOCOL.md); docs/CLIENT.md is its guide.
//
// Dial opens a session and returns a Client. Every client frame of the
// protocol has a method that sends it with a fresh id and waits for the
// reply the server tags with the same id:
//
//   - rooms: Join, Leave, Members;
//   - messages: Send, Private, Edit, Delete, React, Unreact, Typing;
//   - history: History, HistoryPages;
//   - read markers and unread counts: MarkRead, Unread;
//   - notifications: Subscribe, Unsubscribe, Notifications,
//     MarkNotificationsRead, MarkAllNotificationsRead;
//   - the session: Ping, Session, Renew (the auth frame).
//
// Broadcasts (messages, updates, presence, typing, read receipts, room
// changes, notifications, notices) arrive as Events, on the Events channel
// or, for load tools, through Options.Handler. A failed request returns a
// *ServerError carrying the server's stable code (CodeNotJoined,
// CodeForbidden, …; see ErrorCode).
//
// With Options.Reconnect set, a connection that ends unexpectedly is
// re-dialled with exponential backoff and full jitter. On every reconnect
// the client re-joins its rooms with since set to the last sequence it has
// seen in each, drops replayed events it already delivered, and resends
// every message still waiting for its ack with its original client_id, so
// the server stores it once. The result is the protocol's promise made
// concrete: every message of a joined room is delivered once, in room
// order, across disconnects shorter than the server's recovery window.
//
// With Options.GetToken the client renews its token before the session
// expires and gets a new one when the server refuses it; Login and
// Refresher provide one for Parley's own accounts. Closes that the protocol
// says not to retry (4003, 4009, …) end the client with a *CloseError.
//
// A Client is safe for concurrent use. Close stops every goroutine it owns.
package client
