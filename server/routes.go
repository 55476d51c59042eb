package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/web"
	"github.com/parley-chat/parley/internal/web/app"
)

// routes registers every HTTP route on the server's mux. The web app takes
// "/" exactly and /app/; every other path not listed here is a 404.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	webApp, err := app.New()
	if err != nil {
		// The app's files are fixed when the binary is built, and the
		// app package's tests load them: this is a broken build.
		panic(err)
	}
	webApp.Register(s.mux)
	s.mux.Handle("GET /ws", s.ws)
	s.mux.Handle("GET /ws/{room}", s.ws)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /protocol/v1.schema.json", schema)
	s.mux.Handle("GET /sdk/parley.js", web.SDKScript)
	s.mux.Handle("GET /sdk/parley.d.ts", web.SDKTypes)
	if s.cfg.MetricsAddr == "" {
		s.mux.Handle("GET /metrics", s.metrics.Handler())
	}
	s.registerAPI()
	s.handler = clientAddr(s.clientIP, s.observeAPI(s.mux))
}

// schema serves the protocol's JSON Schema so clients in any language can
// validate what they send and receive.
func schema(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(protocol.SchemaJSON)
}

// healthz answers while the process is up: for liveness probes.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": Version})
}

// readyz answers 200 while the server accepts work: the store answers,
// it commits writes (see writeHealth) and no shutdown is under way. Load
// balancers take a node out on 503.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if draining {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check: store unavailable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	if ok, reason := s.writes.ready(ctx); !ok {
		s.log.Warn("readiness check: store not writable", "reason", reason)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store not writable", "reason": reason})
		return
	}
	if rb, ok := s.broker.(interface{ Ready() error }); ok {
		if err := rb.Ready(); err != nil {
			s.log.Warn("readiness check: broker unavailable", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "broker unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // JSON for programs: "<" stays "<", not \u003c
	_ = enc.Encode(v)
}
