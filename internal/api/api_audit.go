package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// AuditEntryJSON turns a stored entry into its API form.
func AuditEntryJSON(e store.AuditEntry) AuditJSON {
	out := AuditJSON{ID: e.ID, At: protocol.FormatTime(e.At), Actor: e.Actor, ActorName: e.ActorName,
		Action: e.Action, Room: e.Room, Target: e.Target}
	if e.Detail != "" {
		_ = json.Unmarshal([]byte(e.Detail), &out.Detail)
	}
	return out
}

// listAudit pages through the audit log, newest first, for administrators
// and admin keys.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	q := r.URL.Query()
	if err := noEmptyParams(q, "before", "action", "room", "actor", "limit"); err != nil {
		a.fail(w, r, err)
		return
	}
	aq := store.AuditQuery{Before: q.Get("before"), Action: q.Get("action"), Room: q.Get("room"), Actor: q.Get("actor"), Limit: 50}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxLimit {
			a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "limit must be 1 to %d", store.MaxLimit))
			return
		}
		aq.Limit = n
	}
	if aq.Action != "" && !slices.Contains(audit.Actions, aq.Action) {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"action %q is not one the audit log records; they are %s", aq.Action, strings.Join(audit.Actions, ", ")))
		return
	}
	for name, v := range map[string]string{"before": aq.Before, "room": aq.Room, "actor": aq.Actor} {
		if len(v) > 256 {
			a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s is longer than 256 bytes", name))
			return
		}
	}
	if aq.Room != "" {
		// Rooms are named as users typed them; the log keeps their keys.
		if key, perr := protocol.NormaliseRoom(aq.Room, a.cfg.MaxRoomNameLength); perr == nil {
			aq.Room = key
		}
	}
	entries, err := a.store.Audit(r.Context(), aq)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: audit log: %w", err))
		return
	}
	out := AuditResponse{Entries: make([]AuditJSON, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, AuditEntryJSON(e))
	}
	writeJSON(w, http.StatusOK, out)
}
