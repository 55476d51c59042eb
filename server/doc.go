// Package server assembles a Parley server from its configuration: the store,
// the broker, the hub, authentication, the WebSocket transport and the HTTP
// routes. It is the public entry point for embedding Parley in another Go
// program:
//
//	cfg := server.DefaultConfig()
//	cfg.Addr = ":8080"
//	cfg.DataDir = "/var/lib/myapp/chat"
//	srv, err := server.New(ctx, cfg, server.Options{})
//	if err != nil { ... }
//	err = srv.Run(ctx) // serves until ctx is cancelled, then drains
//
// Serve takes a listener of your own instead of the configured address.
// Everything an embedding program needs is in this package and in the
// client package, which talks to the server over its WebSocket protocol.
package server
