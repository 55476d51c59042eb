package app

import (
	"net/http"
	"strings"
)

// securityHeaders sets what every response of the app carries.
//
// The Content-Security-Policy allows scripts, styles, images and
// connections from this origin only, with no inline script or style
// anywhere, so that text that slipped into the page as markup could still
// not run. require-trusted-types-for makes the browser refuse any string
// assigned to innerHTML and its kin, which the app never does. The page may
// not be framed (clickjacking), has no <base> and no plugins.
//
// connect-src names this host's ws: and wss: URLs besides 'self', because
// some browsers do not count a WebSocket to the page's own host as
// 'self'; a Host that is not a plain host[:port] gets 'self' alone.
func securityHeaders(h http.Header, host string) {
	connect := "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self'; connect-src "+connect+"; manifest-src 'self'; form-action 'none'; "+
		"frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "+
		"require-trusted-types-for 'script'; trusted-types 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// validHost reports whether host is letters, digits, dots, dashes, colons
// and brackets only (a name, an IPv4 or a bracketed IPv6 address, and a
// port), so it can go into a header without changing its meaning.
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}
