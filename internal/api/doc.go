// Package api serves Parley's HTTP JSON API under /api/v1: sign-up, sign-in,
// token refresh and sign-out for built-in accounts; rooms, their members and
// their history; direct conversations; unread counts.
//
// Every endpoint speaks JSON. Requests are decoded strictly (unknown fields
// are an error, bodies are capped at 64 KiB and must be UTF-8) and failures
// are answered as {"error":{"code":"…","message":"…"}} with the stable codes
// of the WebSocket protocol (internal/protocol), so a client handles errors
// the same way on both transports. Authorisation follows the WebSocket side
// exactly: private rooms are for their members, server admins bypass room
// rules, and an integrating app's token that lists rooms restricts its holder
// to them. docs/API.md documents every endpoint; openapi.json describes
// them for programs (OpenAPIJSON, served at /api/v1/openapi.json).
//
// The package knows nothing of how tokens are verified: the server passes a
// function (Deps.Identify) that does it, checking own tokens' sessions so
// that signing out revokes them everywhere.
package api
