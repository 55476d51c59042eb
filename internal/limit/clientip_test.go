package limit

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	xff, err := NewClientIP([]string{"10.0.0.0/8", "::1"}, "x-forwarded-for")
	if err != nil {
		t.Fatal(err)
	}
	real, err := NewClientIP([]string{"10.0.0.1"}, "X-Real-IP")
	if err != nil {
		t.Fatal(err)
	}
	none, _ := NewClientIP(nil, HeaderForwardedFor)
	tests := []struct {
		name   string
		c      *ClientIP
		peer   string
		header http.Header
		want   string
	}{
		{"no trusted proxies: headers ignored", none, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"6.6.6.6"}}, "10.0.0.1"},
		{"untrusted peer: spoofed header ignored", xff, "203.0.113.9:5000", http.Header{"X-Forwarded-For": {"6.6.6.6"}}, "203.0.113.9"},
		{"trusted peer: its hop", xff, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"right-most untrusted hop, client's own spoof to the left", xff, "10.0.0.1:5000",
			http.Header{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.1.2.3"}}, "198.51.100.7"},
		{"several header lines are one list", xff, "10.0.0.1:5000",
			http.Header{"X-Forwarded-For": {"6.6.6.6", "198.51.100.7"}}, "198.51.100.7"},
		{"all hops trusted: the left-most", xff, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"10.9.9.9, 10.1.1.1"}}, "10.9.9.9"},
		{"junk hop: the last trusted one", xff, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"198.51.100.7, junk, 10.1.1.1"}}, "10.1.1.1"},
		{"no header: the peer", xff, "10.0.0.1:5000", nil, "10.0.0.1"},
		{"ipv6 trusted peer", xff, "[::1]:5000", http.Header{"X-Forwarded-For": {"2001:db8::5"}}, "2001:db8::5"},
		{"port in a hop", xff, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"198.51.100.7:1234"}}, "198.51.100.7"},
		{"x-real-ip from a trusted peer", real, "10.0.0.1:5000", http.Header{"X-Real-Ip": {"198.51.100.7"}}, "198.51.100.7"},
		{"x-real-ip from another peer", real, "10.0.0.2:5000", http.Header{"X-Real-Ip": {"198.51.100.7"}}, "10.0.0.2"},
		{"x-real-ip ignores x-forwarded-for", real, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"198.51.100.7"}}, "10.0.0.1"},
		{"x-real-ip junk", real, "10.0.0.1:5000", http.Header{"X-Real-Ip": {"nope"}}, "10.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.peer, Header: tc.header}
			got, ok := tc.c.Addr(r)
			if !ok || got.String() != tc.want {
				t.Fatalf("Addr = %v (%v), want %s", got, ok, tc.want)
			}
		})
	}
}

func TestNewClientIPRejectsBadInput(t *testing.T) {
	if _, err := NewClientIP(nil, "Forwarded"); err == nil {
		t.Fatal("an unsupported header was accepted")
	}
	for _, s := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0/8"} {
		if _, err := NewClientIP([]string{s}, HeaderForwardedFor); err == nil {
			t.Fatalf("%q accepted as a trusted proxy", s)
		}
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":          "192.0.2.1",
		"2001:db8:1:2:3::4":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ff::9": "2001:db8:1:2::/64",
	} {
		if got := AddressKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("AddressKey(%s) = %s, want %s", in, got, want)
		}
	}
	if a, ok := ParseAddr("[::ffff:192.0.2.1]:80"); !ok || a.String() != "192.0.2.1" {
		t.Errorf("mapped address read as %v", a)
	}
}
