package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	h := NewHasher(0)
	ctx := context.Background()
	phc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("PHC string %q lacks the OWASP parameters", phc)
	}
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		t.Fatalf("decodePHC: %v", err)
	}
	if p != defaultParams || len(salt) != Argon2SaltLen || len(key) != Argon2KeyLen {
		t.Fatalf("decoded %+v salt %d key %d, want %+v 16 32", p, len(salt), len(key), defaultParams)
	}
	other, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if other == phc {
		t.Fatalf("two hashes of one password are equal: salt not random")
	}

	fields := strings.Split(phc, "$")
	flip := func(s string) string { // change the first base64 character
		c := byte('A')
		if s[0] == 'A' {
			c = 'B'
		}
		return string(c) + s[1:]
	}
	tamperedKey := strings.Join(append(fields[:5:5], flip(fields[5])), "$")
	tamperedSalt := strings.Join(append(fields[:4:4], flip(fields[4]), fields[5]), "$")
	tamperedTime := strings.Replace(phc, "t=2", "t=3", 1)

	tests := []struct {
		name     string
		password string
		phc      string
		want     bool
		wantErr  bool
	}{
		{"right password", "correct horse battery", phc, true, false},
		{"wrong password", "correct horse batterY", phc, false, false},
		{"empty password", "", phc, false, false},
		{"over-long password", strings.Repeat("a", MaxPasswordLen+1), phc, false, false},
		{"tampered key", "correct horse battery", tamperedKey, false, false},
		{"tampered salt", "correct horse battery", tamperedSalt, false, false},
		{"tampered parameters", "correct horse battery", tamperedTime, false, false},
		{"argon2i", "correct horse battery", strings.Replace(phc, "argon2id", "argon2i", 1), false, true},
		{"version 16", "correct horse battery", strings.Replace(phc, "v=19", "v=16", 1), false, true},
		{"huge memory", "correct horse battery", strings.Replace(phc, "m=19456", "m=4194304", 1), false, true},
		{"zero time", "correct horse battery", strings.Replace(phc, "t=2", "t=0", 1), false, true},
		{"missing parameter", "correct horse battery", strings.Replace(phc, ",p=1", "", 1), false, true},
		{"repeated parameter", "correct horse battery", strings.Replace(phc, "p=1", "t=2", 1), false, true},
		{"parameters reordered", "correct horse battery", strings.Replace(phc, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1), false, true},
		{"leading zero", "correct horse battery", strings.Replace(phc, "t=2", "t=02", 1), false, true},
		{"bad base64", "correct horse battery", phc[:len(phc)-1] + "!", false, true},
		{"padded base64", "correct horse battery", phc + "=", false, true},
		{"short key", "correct horse battery", strings.Join(append(fields[:5:5], "AAAA"), "$"), false, true},
		{"not PHC", "correct horse battery", "plaintext", false, true},
		{"empty", "correct horse battery", "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Verify(ctx, tc.password, tc.phc)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Verify error = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestVerifyParsesParameters checks that Verify uses the parameters in the
// PHC string, not the Hasher's: a hash made with other parameters verifies.
func TestVerifyParsesParameters(t *testing.T) {
	cheap := argonParams{memory: 64, time: 1, threads: 2, saltLen: 8, keyLen: 16}
	phc, err := newHasher(1, cheap).Hash(context.Background(), "password1")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !strings.Contains(phc, "$m=64,t=1,p=2$") {
		t.Fatalf("PHC %q lacks the custom parameters", phc)
	}
	ok, err := NewHasher(1).Verify(context.Background(), "password1", phc)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"shortest", "12345678", true},
		{"longest", strings.Repeat("x", 256), true},
		{"unicode", "pässwörd", true},
		{"too short", "1234567", false},
		{"empty", "", false},
		{"too long", strings.Repeat("x", 257), false},
		{"invalid UTF-8", "abcdefg\xff", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePassword(tc.password)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidatePassword = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("error %v does not wrap ErrInvalidPassword", err)
			}
		})
	}
	if _, err := NewHasher(1).Hash(context.Background(), "short"); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("Hash(short) = %v, want ErrInvalidPassword", err)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(1)
	if err := h.VerifyDummy(context.Background(), "whatever1"); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.VerifyDummy(ctx, "whatever1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("VerifyDummy with cancelled ctx = %v, want context.Canceled", err)
	}
}

// TestHasherCap runs many hashes at once and checks that no more than the
// cap ever ran together, and that the cap was reached.
func TestHasherCap(t *testing.T) {
	cheap := argonParams{memory: 1024, time: 1, threads: 1, saltLen: 16, keyLen: 32}
	for _, limit := range []int{1, 2, 3} {
		h := newHasher(limit, cheap)
		var wg sync.WaitGroup
		for range 8 * limit {
			wg.Go(func() {
				if _, err := h.Hash(context.Background(), "password1"); err != nil {
					t.Errorf("Hash: %v", err)
				}
			})
		}
		wg.Wait()
		if peak := h.peak.Load(); peak > int64(limit) || peak < 1 {
			t.Fatalf("cap %d: peak of %d hashes at once", limit, peak)
		}
		if h.active.Load() != 0 || len(h.sem) != 0 {
			t.Fatalf("cap %d: slots not released: active %d sem %d", limit, h.active.Load(), len(h.sem))
		}
	}
}

// TestHasherWaitCancelled fills every slot, then checks that Hash and Verify
// give up when their ctx ends while they wait.
func TestHasherWaitCancelled(t *testing.T) {
	h := NewHasher(1)
	h.sem <- struct{}{} // occupy the only slot
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Hash", func(ctx context.Context) error {
			_, err := h.Hash(ctx, "password1")
			return err
		}},
		{"Verify", func(ctx context.Context) error {
			_, err := h.Verify(ctx, "password1", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
			return err
		}},
		{"VerifyDummy", func(ctx context.Context) error { return h.VerifyDummy(ctx, "password1") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx) }()
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("%s = %v, want context.Canceled", tc.name, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s did not return after cancel", tc.name)
			}
		})
	}
	<-h.sem
	if _, err := h.Hash(context.Background(), "password1"); err != nil {
		t.Fatalf("Hash after the slot was freed: %v", err)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecodePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, phc string) {
		p, salt, key, err := decodePHC(phc)
		if err != nil {
			return
		}
		if p.memory > maxArgon2Memory || p.time < 1 || p.time > maxArgon2Time || p.threads < 1 || p.threads > maxArgon2Threads ||
			len(salt) < minArgon2SaltLen || len(key) < minArgon2KeyLen || p.memory < 8*uint32(p.threads) {
			t.Fatalf("decodePHC(%q) accepted %+v salt %d key %d", phc, p, len(salt), len(key))
		}
		if again := encodePHC(p, salt, key); again != phc {
			t.Fatalf("re-encoding %q gives %q", phc, again)
		}
	})
}

// TestTheLongestPasswordVerifies: a password of exactly MaxPasswordLen
// bytes, which ValidatePassword accepts, also signs in.
func TestTheLongestPasswordVerifies(t *testing.T) {
	h := NewHasher(0)
	ctx := context.Background()
	pw := strings.Repeat("p", MaxPasswordLen)
	phc, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(ctx, pw, phc); !ok || err != nil {
		t.Fatalf("Verify of a %d-byte password = %v, %v; want true", len(pw), ok, err)
	}
}
