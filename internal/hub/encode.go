package hub

import (
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// MessageBody converts a stored message to its wire form, the one shape
// WebSocket frames and the HTTP API share; in a direct conversation it
// names the recipient.
func MessageBody(m store.Message) protocol.MessageBody {
	b := protocol.MessageBody{
		Room:     m.Room,
		ID:       m.ID,
		Seq:      m.Seq,
		TS:       protocol.FormatTime(m.CreatedAt),
		From:     protocol.User{ID: m.Sender, Name: m.SenderName, Guest: m.Guest},
		Text:     m.Text,
		ClientID: m.ClientID,
		Deleted:  m.Deleted,
	}
	if protocol.IsDirectRoom(m.Room) {
		b.To = store.DirectPeer(m.Room, m.Sender)
	}
	if !m.EditedAt.IsZero() {
		b.EditedAt = protocol.FormatTime(m.EditedAt)
	}
	for _, r := range m.Reactions {
		b.Reactions = append(b.Reactions, protocol.Reaction{Emoji: r.Emoji, Users: r.Users})
	}
	return b
}

// encodeEvent renders a room log entry as the frame members receive live and
// on recovery: message for new messages, update for changes to earlier ones.
// Entries of direct conversations are private frames.
func encodeEvent(ev store.Event) []byte {
	body := MessageBody(ev.Message)
	if ev.Kind == store.EventMessage {
		if protocol.IsDirectRoom(ev.Room) {
			return protocol.Encode(protocol.TypePrivate, "", body)
		}
		return protocol.Encode(protocol.TypeMessage, "", body)
	}
	return protocol.Encode(protocol.TypeUpdate, "", protocol.UpdateBody{
		Room:    ev.Room,
		Seq:     ev.Seq,
		Kind:    string(ev.Kind),
		Actor:   ev.Actor,
		Emoji:   ev.Emoji,
		Removed: ev.Kind == store.EventReaction && !ev.Added,
		Message: body,
	})
}
