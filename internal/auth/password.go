package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules, in bytes of UTF-8.
const (
	// MinPasswordLen is the shortest password accepted at registration.
	MinPasswordLen = 8
	// MaxPasswordLen is the longest password accepted. Longer inputs are
	// refused before any hashing work is spent on them.
	MaxPasswordLen = 256
)

// Argon2id parameters used for new hashes: the OWASP recommendation of
// 19 MiB of memory, 2 passes and 1 lane, a 16-byte salt and a 32-byte key.
// One hash costs 19 MiB of RAM for its duration and tens of milliseconds of
// one core; Hasher caps how many run at once.
const (
	// Argon2Memory is the memory cost in KiB (19 MiB).
	Argon2Memory = 19 * 1024
	// Argon2Time is the number of passes over the memory.
	Argon2Time = 2
	// Argon2Threads is the degree of parallelism (lanes).
	Argon2Threads = 1
	// Argon2SaltLen is the length of the random salt in bytes.
	Argon2SaltLen = 16
	// Argon2KeyLen is the length of the derived key in bytes.
	Argon2KeyLen = 32
)

// DefaultMaxConcurrentHashes is the number of argon2id hashes a Hasher runs at
// once when NewHasher is given zero or less: 2 × 19 MiB of RAM at most.
const DefaultMaxConcurrentHashes = 2

// Limits on parameters read back from a stored PHC string. They keep a
// corrupted or hostile hash from making Verify allocate gigabytes or spin for
// minutes.
const (
	maxArgon2Memory  = 256 * 1024 // KiB
	maxArgon2Time    = 16
	maxArgon2Threads = 16
	minArgon2KeyLen  = 16
	maxArgon2KeyLen  = 128
	minArgon2SaltLen = 8
	maxArgon2SaltLen = 64
)

// b64 is the PHC string encoding: standard base64 alphabet without padding.
var b64 = base64.RawStdEncoding

// argonParams are the tunable argon2id parameters of one hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  uint32
}

// defaultParams are the OWASP parameters described above.
var defaultParams = argonParams{
	memory:  Argon2Memory,
	time:    Argon2Time,
	threads: Argon2Threads,
	saltLen: Argon2SaltLen,
	keyLen:  Argon2KeyLen,
}

// Hasher hashes and verifies passwords with argon2id, running at most a fixed
// number of hashes at once; further callers wait their turn or give up when
// their context ends. A Hasher is safe for concurrent use; create one per
// server and share it.
type Hasher struct {
	sem    chan struct{}
	params argonParams // parameters for new hashes; defaultParams outside tests

	active atomic.Int64 // hashes running now
	peak   atomic.Int64 // the most that ever ran at once (tests check the cap)

	dummySalt []byte // salt for VerifyDummy, fixed per Hasher
	dummyKey  []byte // key VerifyDummy compares against, never matches in practice
}

// NewHasher returns a Hasher that runs at most maxConcurrent argon2id hashes
// at once (DefaultMaxConcurrentHashes when maxConcurrent <= 0). Each running
// hash holds 19 MiB, so the cap bounds sign-in memory at maxConcurrent × 19 MiB.
func NewHasher(maxConcurrent int) *Hasher {
	return newHasher(maxConcurrent, defaultParams)
}

func newHasher(maxConcurrent int, p argonParams) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrentHashes
	}
	h := &Hasher{
		sem:       make(chan struct{}, maxConcurrent),
		params:    p,
		dummySalt: make([]byte, p.saltLen),
		dummyKey:  make([]byte, p.keyLen),
	}
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(h.dummySalt)
	_, _ = rand.Read(h.dummyKey)
	return h
}

// ValidatePassword checks the password rules: 8..256 bytes of valid UTF-8.
// The error is a *RuleError wrapping ErrInvalidPassword.
func ValidatePassword(password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return &RuleError{Msg: fmt.Sprintf("the password is %d bytes long; it must be at least %d", len(password), MinPasswordLen), Err: ErrInvalidPassword}
	case len(password) > MaxPasswordLen:
		return &RuleError{Msg: fmt.Sprintf("the password is %d bytes long; it must be at most %d", len(password), MaxPasswordLen), Err: ErrInvalidPassword}
	case !utf8.ValidString(password):
		return &RuleError{Msg: "the password is not valid UTF-8", Err: ErrInvalidPassword}
	}
	return nil
}

// Hash checks password against ValidatePassword and returns its argon2id hash
// as a PHC string, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>`, with a fresh
// random salt. It waits for a free hashing slot and returns ctx's error if
// ctx ends first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	p := h.params
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: read salt: %w", err)
	}
	key, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return encodePHC(p, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, reading the
// argon2id parameters from phc and comparing keys in constant time. A wrong
// password gives (false, nil). A malformed phc, or parameters beyond sane
// limits, give an error; so does ctx ending while waiting for a hashing slot.
// A password longer than MaxPasswordLen can never match (Hash refuses them)
// and gives (false, nil) without hashing.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (bool, error) {
	p, salt, want, err := decodePHC(phc)
	if err != nil {
		return false, fmt.Errorf("auth: verify password: %w", err)
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, fmt.Errorf("auth: verify password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the same time and memory as Verify against a hash made
// with the default parameters, and always fails. Call it when the account in
// a sign-in attempt does not exist, so the response time does not reveal
// whether it does. It returns an error only if ctx ends while waiting.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	if len(password) > MaxPasswordLen {
		return nil
	}
	got, err := h.derive(ctx, password, h.dummySalt, h.params)
	if err != nil {
		return fmt.Errorf("auth: verify password: %w", err)
	}
	_ = subtle.ConstantTimeCompare(got, h.dummyKey)
	return nil
}

// derive runs argon2id once a hashing slot is free.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p argonParams) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for a hashing slot: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
	n := h.active.Add(1)
	for {
		peak := h.peak.Load()
		if n <= peak || h.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	h.active.Add(-1)
	<-h.sem
	return key, nil
}

// encodePHC formats a hash as a PHC string.
func encodePHC(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errMalformedHash is wrapped by every decodePHC error.
var errMalformedHash = errors.New("malformed argon2id PHC string")

// decodePHC parses `$argon2id$v=19$m=…,t=…,p=…$salt$key`, refusing other
// algorithms, other versions, parameters outside the sane limits and any
// spelling but the canonical one encodePHC writes.
func decodePHC(phc string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: want 5 '$'-separated fields", errMalformedHash)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: algorithm %q, want argon2id", errMalformedHash, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q, want v=%d", errMalformedHash, parts[2], argon2.Version)
	}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", errMalformedHash, kv)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", errMalformedHash, kv)
		}
		switch {
		case k == "m" && !seen[0] && n >= 8 && n <= maxArgon2Memory:
			p.memory, seen[0] = uint32(n), true
		case k == "t" && !seen[1] && n >= 1 && n <= maxArgon2Time:
			p.time, seen[1] = uint32(n), true
		case k == "p" && !seen[2] && n >= 1 && n <= maxArgon2Threads:
			p.threads, seen[2] = uint8(n), true
		default:
			return p, nil, nil, fmt.Errorf("%w: parameter %q unknown, repeated or out of range", errMalformedHash, kv)
		}
	}
	if seen != [3]bool{true, true, true} {
		return p, nil, nil, fmt.Errorf("%w: want m, t and p parameters", errMalformedHash)
	}
	if p.memory < 8*uint32(p.threads) {
		return p, nil, nil, fmt.Errorf("%w: memory below 8 KiB per lane", errMalformedHash)
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minArgon2SaltLen || len(salt) > maxArgon2SaltLen {
		return p, nil, nil, fmt.Errorf("%w: bad salt", errMalformedHash)
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minArgon2KeyLen || len(key) > maxArgon2KeyLen {
		return p, nil, nil, fmt.Errorf("%w: bad key", errMalformedHash)
	}
	p.saltLen, p.keyLen = len(salt), uint32(len(key))
	if encodePHC(p, salt, key) != phc {
		return p, nil, nil, fmt.Errorf("%w: not in canonical form (parameter order m,t,p; no leading zeros)", errMalformedHash)
	}
	return p, salt, key, nil
}
