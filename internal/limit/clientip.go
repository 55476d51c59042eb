package limit

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Client address headers ClientIP can read.
const (
	HeaderForwardedFor = "X-Forwarded-For"
	HeaderRealIP       = "X-Real-IP"
)

// ClientIP finds the address of the client behind a request. Without
// trusted proxies it is the socket's peer and every header is ignored, so
// a client cannot choose its own address. With them, a request whose peer
// is a trusted proxy is taken to come from the address the proxy wrote in
// the configured header: for X-Forwarded-For the right-most hop that is
// not itself a trusted proxy (hops to its left were written by the client
// or by proxies that are not ours, and could be anything); for X-Real-IP
// its single value. A missing or malformed header falls back to the peer.
type ClientIP struct {
	trusted []netip.Prefix
	header  string
}

// NewClientIP parses trusted, a list of CIDR prefixes or single addresses
// ("10.0.0.0/8", "::1"), and header (HeaderForwardedFor or HeaderRealIP,
// in any case). An empty list trusts no one.
func NewClientIP(trusted []string, header string) (*ClientIP, error) {
	c := &ClientIP{}
	switch {
	case strings.EqualFold(header, HeaderForwardedFor):
		c.header = HeaderForwardedFor
	case strings.EqualFold(header, HeaderRealIP):
		c.header = HeaderRealIP
	default:
		return nil, fmt.Errorf("client address header %q: want %s or %s", header, HeaderForwardedFor, HeaderRealIP)
	}
	for _, s := range trusted {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		c.trusted = append(c.trusted, p)
	}
	return c, nil
}

// ParsePrefix parses a CIDR prefix or a single address (as a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8 or fd00::/8", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix such as 10.0.0.0/8", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Enabled reports whether any proxy is trusted.
func (c *ClientIP) Enabled() bool { return c != nil && len(c.trusted) > 0 }

// Addr returns the client address of r. ok is false only when r's peer
// address itself cannot be read (never with a real socket).
func (c *ClientIP) Addr(r *http.Request) (addr netip.Addr, ok bool) {
	peer, ok := ParseAddr(r.RemoteAddr)
	if !ok || !c.Enabled() || !c.isTrusted(peer) {
		return peer, ok
	}
	if c.header == HeaderRealIP {
		if a, ok := ParseAddr(strings.TrimSpace(r.Header.Get(HeaderRealIP))); ok {
			return a, true
		}
		return peer, true
	}
	// Several X-Forwarded-For lines form one list, in order.
	hops := strings.Join(r.Header.Values(HeaderForwardedFor), ",")
	last := peer
	for hops != "" {
		i := strings.LastIndexByte(hops, ',')
		hop := strings.TrimSpace(hops[i+1:])
		hops = hops[:max(i, 0)]
		if hop == "" && i >= 0 {
			continue
		}
		a, ok := ParseAddr(hop)
		if !ok {
			// Junk where an address should be: trust nothing further
			// left, and take the last proxy we trust for the client.
			return last, true
		}
		if !c.isTrusted(a) {
			return a, true
		}
		last = a
		if i < 0 {
			break
		}
	}
	return last, true // every hop is a trusted proxy: the left-most is the client
}

func (c *ClientIP) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseAddr reads an address written as "ip", "ip:port" or "[ipv6]:port",
// IPv4-mapped IPv6 turned into IPv4 and any zone dropped.
func ParseAddr(s string) (netip.Addr, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(strings.Trim(s, "[]")); err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// AddressKey is the key under which an address is limited: an IPv4
// address as it is, an IPv6 address by its /64, the block one subscriber
// usually holds (one host can have any address in it).
func AddressKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
