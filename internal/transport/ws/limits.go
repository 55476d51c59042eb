package ws

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/protocol"
)

// noLimits stands in for a nil Config.Limits: its nil fields limit nothing.
var noLimits = &limit.Node{}

func (s *Server) limits() *limit.Node {
	if s.cfg.Limits == nil {
		return noLimits
	}
	return s.cfg.Limits
}

// refuse answers a connection the gate did not admit, before any upgrade:
// the status (429 for the address, 503 for the node), a Retry-After in
// whole seconds and a JSON error a person can read.
func (s *Server) refuse(w http.ResponseWriter, addrKey string, r *limit.Refusal) {
	// Logged at debug: a flood of refusals must not become a flood of logs;
	// parley_connections_refused_total counts them.
	s.log.Debug("refused a WebSocket before the upgrade", "reason", r.Reason, "address", addrKey)
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(r.RetryAfter.Seconds()))))
	writeHTTPError(w, r.Status, r.Message)
}

// Limit classes of the frames the per-user and per-address limits count.
const (
	classOther = iota
	classMessage
	classJoin
)

// frameClass says which per-user and per-address limit a frame type is
// counted against: the frames that write a message, joins, or none.
func frameClass(typ string) int {
	switch typ {
	case protocol.TypeChat, protocol.TypePrivate, protocol.TypeEdit, protocol.TypeDelete, protocol.TypeReact:
		return classMessage
	case protocol.TypeJoin:
		return classJoin
	}
	return classOther
}

// allowFrame applies the limits that follow the user and the address over
// all their connections to this node. It returns the refusal to answer
// with, or nil. Both buckets are taken together or not at all, so a frame
// one refuses costs nothing from the other.
func (c *conn) allowFrame(typ string) *protocol.Error {
	l := c.s.limits()
	var user, addr *limit.Keyed
	what := ""
	switch frameClass(typ) {
	case classMessage:
		user, addr, what = l.UserMessages, l.AddressMessages, "messages"
	case classJoin:
		user, addr, what = l.UserJoins, l.AddressJoins, "joins"
	default:
		return nil
	}
	ok, wait, by := limit.TakeAll(limit.Pick{Table: user, Key: c.user}, limit.Pick{Table: addr, Key: c.addrKey})
	if ok {
		return nil
	}
	msg := "too many " + what + " from you across your connections; slow down"
	if by == 1 {
		msg = "too many " + what + " from your network address; slow down"
	}
	return &protocol.Error{Code: protocol.CodeRateLimited, Message: msg, RetryAfter: max(wait, time.Millisecond)}
}
