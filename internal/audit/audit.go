// Package audit records what moderators and administrators do — bans,
// mutes, deleted messages, disabled accounts, keys made and revoked — in
// the store's audit log, which administrators read over the API and the
// command line. It names the actions; the hub, the API and the command
// line call Record after each one succeeds.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// Actions, as the audit log and parley_admin_actions_total name them.
const (
	RoomBan       = "room.ban"
	RoomUnban     = "room.unban"
	RoomMute      = "room.mute"
	RoomUnmute    = "room.unmute"
	RoomKick      = "room.kick"      // a member removed by someone else
	RoomRole      = "room.role"      // a member's role changed
	RoomLock      = "room.lock"      // only owners and admins may post
	RoomUnlock    = "room.unlock"    //
	RoomArchive   = "room.archive"   // no one may post
	RoomUnarchive = "room.unarchive" //
	RoomUpdate    = "room.update"    // topic or privacy changed by a moderator
	RoomCreate    = "room.create"    // a room made from the command line
	RoomDelete    = "room.delete"
	MessageDelete = "message.delete" // someone else's message deleted by a moderator

	UserCreate     = "user.create" // an account made by an administrator
	UserDisable    = "user.disable"
	UserEnable     = "user.enable"
	UserDelete     = "user.delete"
	UserAdmin      = "user.admin"      // the admin flag given or taken
	UserPassword   = "user.password"   // a password reset by an administrator
	UserDisconnect = "user.disconnect" // every connection of a user closed

	KeyCreate     = "apikey.create"
	KeyRevoke     = "apikey.revoke"
	WebhookCreate = "webhook.create"
	WebhookDelete = "webhook.delete"
)

// Actions lists every action, in the order documented.
var Actions = []string{RoomBan, RoomUnban, RoomMute, RoomUnmute, RoomKick, RoomRole, RoomLock, RoomUnlock,
	RoomArchive, RoomUnarchive, RoomUpdate, RoomCreate, RoomDelete, MessageDelete, UserCreate, UserDisable, UserEnable,
	UserDelete, UserAdmin, UserPassword, UserDisconnect, KeyCreate, KeyRevoke, WebhookCreate, WebhookDelete}

// Actor is who did something: a user id and name, "key:<id>" and the
// key's name for an API key, or CLI.
type Actor struct {
	ID   string
	Name string
}

// CLI is the actor of the admin commands run on the server's machine.
var CLI = Actor{ID: "cli", Name: "command line"}

// Store is what a Recorder needs of the store.
type Store interface {
	AddAudit(ctx context.Context, e store.AuditEntry) error
}

// Recorder writes actions to the audit log. The zero value and nil record
// nothing.
type Recorder struct {
	st    Store
	log   *slog.Logger
	count func(action string)
}

// New returns a Recorder over st; count, when set, is told of each action
// (for metrics).
func New(st Store, log *slog.Logger, count func(action string)) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{st: st, log: log, count: count}
}

// Record writes one action. It is called after the action succeeded, so a
// failure to record it cannot undo it: it is logged at error level with
// everything the entry held, so that the log keeps what the table lost.
// detail, when non-nil, is stored as a JSON object. The write outlives a
// cancelled request.
func (r *Recorder) Record(ctx context.Context, who Actor, action, room, target string, detail map[string]any) {
	if r == nil || r.st == nil {
		return
	}
	e := store.AuditEntry{ID: store.NewID(), At: store.Now(), Actor: who.ID, ActorName: who.Name,
		Action: action, Room: room, Target: target}
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err == nil {
			e.Detail = string(b)
		}
	}
	if r.count != nil {
		r.count(action)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.st.AddAudit(ctx, e); err != nil {
		r.log.Error("audit: could not record an action", "action", action, "actor", who.ID, "room", room,
			"target", target, "detail", e.Detail, "err", err)
		return
	}
	r.log.Info("audit", "action", action, "actor", who.ID, "actor_name", who.Name, "room", room, "target", target, "detail", e.Detail)
}
