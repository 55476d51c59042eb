package config

import (
	"strings"
	"testing"
)

// TestTLSNeedsCertAndKey: a certificate without its key, or a key without
// its certificate, is refused by name; both or neither pass.
func TestTLSNeedsCertAndKey(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cert, key string
		ok        bool
	}{
		{"neither", "", "", true},
		{"both", "cert.pem", "key.pem", true},
		{"cert alone", "cert.pem", "", false},
		{"key alone", "", "key.pem", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.TLSCert, c.TLSKey = tc.cert, tc.key
			err := c.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate: %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "config: tls-cert: give tls-cert and tls-key together") {
				t.Fatalf("error %q does not name the rule", err)
			}
		})
	}
}
