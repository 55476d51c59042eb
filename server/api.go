package server

import "github.com/parley-chat/parley/internal/api"

// registerAPI mounts the HTTP JSON API (/api/v1) on the server's mux. It
// verifies bearer tokens with the same authenticator as the WebSocket
// hand-shake, so a signed-out session is refused on both.
func (s *Server) registerAPI() {
	api.New(api.Deps{
		Config:   s.cfg,
		Store:    s.store,
		Log:      s.log,
		Identify: s.identifyAndNote,
		Issuer:   s.auth.issuer,
		Live:     s.hub,
		Webhooks: s.webhooks,
		Audit:    s.audit,
		ListenAddr: func() string {
			if a, ok := s.listenAddr.Load().(string); ok {
				return a
			}
			return s.cfg.Addr
		},
	}).Register(s.mux)
}
