package store

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so ids survive
// being read aloud or retyped, and its ASCII order matches its value order,
// so ids compare as strings the same way they compare as numbers.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// IDLen is the length of every id NewID returns.
const IDLen = 26

// idGen remembers the last id handed out so ids made in the same millisecond
// still sort in the order they were made (the random part is incremented
// instead of redrawn).
var idGen struct {
	sync.Mutex
	ms     uint64 // 48-bit millisecond timestamp of the last id
	hi     uint16 // top 16 of the 80 random bits
	lo     uint64 // bottom 64 of the 80 random bits
	inited bool
}

// NewID returns a new unique id: a 48-bit Unix millisecond timestamp followed
// by 80 random bits, written as 26 characters of Crockford base32 (the ULID
// layout). Ids made by one process sort in the order they were made, also
// within one millisecond; ids made by different processes sort by their
// millisecond. It is safe for concurrent use.
func NewID() string {
	return newIDAt(time.Now())
}

// newIDAt is NewID with the clock passed in, so tests can make many ids in
// one millisecond and across a clock step back.
func newIDAt(now time.Time) string {
	ms := uint64(now.UnixMilli()) & (1<<48 - 1)
	idGen.Lock()
	if idGen.inited && ms <= idGen.ms {
		// Same millisecond, or the clock stepped back: keep the previous
		// timestamp and count up, so order is kept.
		ms = idGen.ms
		idGen.lo++
		if idGen.lo == 0 {
			idGen.hi++
			if idGen.hi == 0 {
				// 2^80 ids in one millisecond cannot happen; if the random
				// part ever wraps, borrow the next millisecond.
				ms++
			}
		}
	} else {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("store: reading random bytes: " + err.Error()) // crypto/rand never fails on supported platforms
		}
		idGen.hi = binary.BigEndian.Uint16(b[:2])
		idGen.lo = binary.BigEndian.Uint64(b[2:])
		// Clear the top bit so a run of increments in one millisecond
		// cannot realistically overflow into the timestamp.
		idGen.hi &^= 0x8000
		idGen.inited = true
	}
	idGen.ms = ms
	hi, lo := idGen.hi, idGen.lo
	idGen.Unlock()
	return encodeID(ms, hi, lo)
}

// encodeID writes the 128-bit value ms<<80 | hi<<64 | lo as 26 base32 digits,
// most significant first (the top two bits of the first digit are always 0).
func encodeID(ms uint64, hi uint16, lo uint64) string {
	var b [IDLen]byte
	// Work on the 128-bit value as two halves: h holds the top 64 bits
	// (48 of timestamp, 16 random), l the bottom 64.
	h := ms<<16 | uint64(hi)
	l := lo
	for i := IDLen - 1; i >= 0; i-- {
		b[i] = crockford[l&31]
		l = l>>5 | h<<59
		h >>= 5
	}
	return string(b[:])
}
