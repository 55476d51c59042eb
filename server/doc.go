// Package server assembles a Parley server from its configuration: the store,
// the broker, the hub, authentication, the WebSocket transport and the HTTP
// routes. It is the public entry point for embedding Parley in another Go
// program:
//
//	srv, err := server.New(ctx, cfg, server.Options{})
//	if err != nil { ... }
//	err = srv.Run(ctx) // serves until ctx is cancelled, then drains
package server
