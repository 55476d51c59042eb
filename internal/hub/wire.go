package hub

import (
	"encoding/binary"
	"errors"
)

// Events cross the broker as a small header followed by the encoded frame that
// clients receive, so the frame is encoded once on the publishing node and the
// receiving nodes hand the very same bytes to their connections.
//
//	kind (1) | seq (8, big endian) | len(exclude) (1) | exclude | frame
//
// seq is the room sequence of a stored event and 0 for ephemeral ones;
// exclude is the id of the connection that must not receive it (the sender,
// which gets an ack instead).
const (
	kindStored    byte = 's'
	kindEphemeral byte = 'e'
	// kindPresence is an ephemeral presence frame, which a room with many
	// local connections gathers into presence_diff frames.
	kindPresence byte = 'p'
	// Control events go to a user's subject and act on that user's
	// connections instead of being delivered; the frame names the target
	// (a room for kindRemoved, a session id for kindSignedOut).
	kindRemoved   byte = 'r'
	kindSignedOut byte = 'x'
	// kindDisconnect closes every connection of the user (the frame is
	// the reason given).
	kindDisconnect byte = 'd'
	// kindSignedOutExcept closes the user's connections of every session
	// but the one the frame names.
	kindSignedOutExcept byte = 'o'
	// Room controls go to a room's subject: kindRules makes each node
	// read the room's rules again; kindRoomGone takes every connection
	// out of a deleted room.
	kindRules    byte = 'g'
	kindRoomGone byte = 'z'
)

const headerFixed = 1 + 8 + 1

var errShortEvent = errors.New("hub: malformed broker event")

// packEvent builds a broker event; frame is copied once, here.
func packEvent(kind byte, seq int64, exclude string, frame []byte) []byte {
	if len(exclude) > 255 {
		exclude = exclude[:255]
	}
	b := make([]byte, headerFixed+len(exclude)+len(frame))
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:9], uint64(seq))
	b[9] = byte(len(exclude))
	n := copy(b[headerFixed:], exclude)
	copy(b[headerFixed+n:], frame)
	return b
}

// unpackEvent splits a broker event. The returned frame aliases data.
func unpackEvent(data []byte) (kind byte, seq int64, exclude string, frame []byte, err error) {
	if len(data) < headerFixed {
		return 0, 0, "", nil, errShortEvent
	}
	kind = data[0]
	seq = int64(binary.BigEndian.Uint64(data[1:9]))
	n := int(data[9])
	if len(data) < headerFixed+n {
		return 0, 0, "", nil, errShortEvent
	}
	exclude = string(data[headerFixed : headerFixed+n])
	return kind, seq, exclude, data[headerFixed+n:], nil
}
