// Package origin decides which browser origins may use Parley: the rule the
// WebSocket upgrade and the HTTP API's CORS share, so that one setting
// (--allowed-origins) means the same on both.
package origin

import (
	"net/url"
	"strings"
)

// Allowed reports whether a request from a page at origin (the Origin
// header, "" when the client is not a browser) to host (the request's Host)
// may proceed: always without an Origin, when the origin's host is the
// request's own, or when the origin is listed in allowed ("*" allows any).
// Origins compare case-insensitively, a listed one's trailing slash aside.
func Allowed(allowed []string, origin, host string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, o := range allowed {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}
