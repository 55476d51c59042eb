package origin

import "testing"

func TestAllowed(t *testing.T) {
	list := []string{"https://app.example.com/", "http://localhost:3000"}
	tests := []struct {
		name   string
		list   []string
		origin string
		host   string
		want   bool
	}{
		{"not a browser", list, "", "chat.example.com", true},
		{"same host", nil, "https://chat.example.com", "chat.example.com", true},
		{"same host, other case", nil, "https://Chat.Example.com", "chat.example.com", true},
		{"listed, with the list's trailing slash", list, "https://app.example.com", "chat.example.com", true},
		{"listed, other case", list, "HTTP://LOCALHOST:3000", "chat.example.com", true},
		{"another port", list, "http://localhost:3001", "chat.example.com", false},
		{"another scheme", list, "http://app.example.com", "chat.example.com", false},
		{"a suffix of a listed host", list, "https://evil-app.example.com", "chat.example.com", false},
		{"a prefix of the request's host", nil, "https://chat.example.com.evil.net", "chat.example.com", false},
		{"anything with *", []string{"*"}, "https://evil.net", "chat.example.com", true},
		{"not a URL", list, "::", "chat.example.com", false},
		{"null", list, "null", "chat.example.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Allowed(tc.list, tc.origin, tc.host); got != tc.want {
				t.Fatalf("Allowed(%q, %q, %q) = %v, want %v", tc.list, tc.origin, tc.host, got, tc.want)
			}
		})
	}
}
