package client_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/client"
)

// TestReadMarkersAndUnread counts unread messages from the server's unread
// frame on, and resets them with a read marker that also reaches the other
// member as a receipt.
func TestReadMarkersAndUnread(t *testing.T) {
	ts := startServer(t, nil)
	alice, bob := register(t, ts, "alice"), register(t, ts, "bob")
	bc := dial(t, ts, client.Options{Token: bob.token})
	ac := dial(t, ts, client.Options{Token: alice.token})
	join(t, ac, "lobby")
	join(t, bc, "lobby")
	for _, text := range []string{"one", "two", "three"} {
		if _, err := bc.Send(ctx(t), "lobby", text); err != nil {
			t.Fatal(err)
		}
	}
	// Alice comes back on another connection: the unread frame counts the
	// three messages.
	ac2 := dial(t, ts, client.Options{Token: alice.token})
	ev := next(t, ac2, client.EventUnread)
	if len(ev.Unread.Rooms) != 1 || ev.Unread.Rooms[0] != (client.UnreadRoom{Room: "lobby", Unread: 3, LastSeq: 3}) {
		t.Fatalf("unread frame %+v", ev.Unread.Rooms)
	}
	if got := ac2.Unread(); len(got) != 1 || got[0].Unread != 3 {
		t.Fatalf("Unread() = %+v", got)
	}
	join(t, ac2, "lobby")
	if _, err := bc.Send(ctx(t), "lobby", "four"); err != nil {
		t.Fatal(err)
	}
	next(t, ac2, client.EventMessage)
	if got := ac2.Unread(); got[0].Unread != 4 || got[0].LastSeq != 4 {
		t.Fatalf("after a fourth message Unread() = %+v, want 4 unread up to seq 4", got)
	}
	// Alice's own message is not unread for her.
	if _, err := ac.Send(ctx(t), "lobby", "mine"); err != nil {
		t.Fatal(err)
	}
	next(t, ac2, client.EventMessage)
	if got := ac2.Unread(); got[0].Unread != 4 || got[0].LastSeq != 5 {
		t.Fatalf("after her own message Unread() = %+v, want still 4 unread, seq 5", got)
	}

	r, err := ac2.MarkRead(ctx(t), "lobby", 5)
	if err != nil || r.Seq != 5 || r.User.ID != alice.id {
		t.Fatalf("mark read = %+v, %v", r, err)
	}
	if got := ac2.Unread(); got[0].Unread != 0 || got[0].ReadSeq != 5 {
		t.Fatalf("after reading Unread() = %+v", got)
	}
	// Markers never move back: the reply says where it stays.
	if r, err := ac2.MarkRead(ctx(t), "lobby", 2); err != nil || r.Seq != 5 {
		t.Fatalf("marker moved back: %+v, %v", r, err)
	}
	if ev := next(t, bc, client.EventRead); ev.Read.User.ID != alice.id || ev.Read.Seq != 5 {
		t.Fatalf("bob's receipt = %+v", ev.Read)
	}
	// Guests have no markers.
	guest := dial(t, ts, client.Options{Name: "gus"})
	join(t, guest, "lobby")
	if _, err := guest.MarkRead(ctx(t), "lobby", 1); client.ErrorCode(err) != client.CodeForbidden {
		t.Fatalf("a guest's read marker: %v, want forbidden", err)
	}
	if guest.Unread() != nil {
		t.Fatalf("a guest has unread state %+v", guest.Unread())
	}
}

// TestRoomChangesAndRemoval: an invited user sees the room appear, and a
// removed one is taken out of it, and it is not re-joined.
func TestRoomChangesAndRemoval(t *testing.T) {
	ts := startServer(t, nil)
	owner, bob := register(t, ts, "owner"), register(t, ts, "bob")
	bc := dial(t, ts, client.Options{Token: bob.token})
	apiCall(t, ts, owner.token, "POST", "/api/v1/rooms", `{"name":"Plans","private":true,"topic":"launch"}`, http.StatusCreated, nil)
	if _, err := bc.Join(ctx(t), "plans"); client.ErrorCode(err) != client.CodeForbidden {
		t.Fatalf("join before the invitation: %v, want forbidden", err)
	}
	apiCall(t, ts, owner.token, "PUT", "/api/v1/rooms/plans/members/"+bob.id, "", http.StatusCreated, nil)
	ev := next(t, bc, client.EventRoom)
	if rc := ev.RoomChange; ev.Room != "plans" || rc.Event != "added" || rc.User != bob.id || rc.Role != "member" ||
		rc.By != owner.id || !rc.Private || rc.Topic != "launch" {
		t.Fatalf("room change = %+v", rc)
	}
	join(t, bc, "plans")
	apiCall(t, ts, owner.token, "DELETE", "/api/v1/rooms/plans/members/"+bob.id, "", http.StatusNoContent, nil)
	if ev := next(t, bc, client.EventLeft); ev.Room != "plans" {
		t.Fatalf("left event for %q", ev.Room)
	}
	if ev := next(t, bc, client.EventRoom); ev.RoomChange.Event != "removed" {
		t.Fatalf("room change = %+v, want removed", ev.RoomChange)
	}
	if got := bc.Members("plans"); got != nil {
		t.Fatalf("members of a room bob was removed from: %+v", got)
	}
	if _, err := bc.Send(ctx(t), "plans", "still here?"); client.ErrorCode(err) != client.CodeNotJoined {
		t.Fatalf("send after the removal: %v, want not_joined", err)
	}
}

// TestNotifications subscribes, receives a notification live, pages and
// marks it read, sees the mark on another connection, and unsubscribes.
func TestNotifications(t *testing.T) {
	ts := startServer(t, nil)
	key := publishKey(t, ts)
	alice := register(t, ts, "alice")
	c := dial(t, ts, client.Options{Token: alice.token})
	other := dial(t, ts, client.Options{Token: alice.token})
	if err := c.Subscribe(ctx(t), "orders.*"); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := c.Subscribe(ctx(t), "orders.*"); err != nil {
		t.Fatalf("subscribing twice: %v", err)
	}
	var pub struct {
		ID string `json:"id"`
	}
	apiCall(t, ts, key, "POST", "/api/v1/notifications",
		`{"topic":"orders.42","title":"Order 42 shipped","data":{"order":42}}`, http.StatusCreated, &pub)
	for _, cl := range []*client.Client{c, other} {
		ev := next(t, cl, client.EventNotification)
		if n := ev.Notification; n.ID != pub.ID || n.Topic != "orders.42" || n.Title != "Order 42 shipped" || string(n.Data) != `{"order":42}` {
			t.Fatalf("notification = %+v", n)
		}
	}
	page, err := c.Notifications(ctx(t), client.NotificationsQuery{Unread: true})
	if err != nil || page.Unread != 1 || len(page.Notifications) != 1 || page.Notifications[0].ID != pub.ID {
		t.Fatalf("notifications = %+v, %v", page, err)
	}

	// A new connection gets the unread ones after its welcome.
	third := dial(t, ts, client.Options{Token: alice.token})
	if ev := next(t, third, client.EventNotifications); ev.Notifications.Unread != 1 || ev.Notifications.Notifications[0].ID != pub.ID {
		t.Fatalf("notifications after welcome = %+v", ev.Notifications)
	}

	if unread, err := c.MarkNotificationsRead(ctx(t), pub.ID); err != nil || unread != 0 {
		t.Fatalf("mark read = %d, %v", unread, err)
	}
	if ev := next(t, other, client.EventNotificationsRead); len(ev.NotificationsRead.IDs) != 1 || *ev.NotificationsRead.Unread != 0 {
		t.Fatalf("the other connection saw %+v", ev.NotificationsRead)
	}
	if page, err := c.Notifications(ctx(t), client.NotificationsQuery{Unread: true}); err != nil || len(page.Notifications) != 0 || page.Notifications == nil {
		t.Fatalf("unread after marking = %+v, %v", page, err)
	}
	if page, err := c.Notifications(ctx(t), client.NotificationsQuery{}); err != nil || len(page.Notifications) != 1 || !page.Notifications[0].Read {
		t.Fatalf("all notifications = %+v, %v", page, err)
	}
	apiCall(t, ts, key, "POST", "/api/v1/notifications", `{"user":"`+alice.id+`","title":"hello"}`, http.StatusCreated, nil)
	next(t, c, client.EventNotification)
	if unread, err := c.MarkAllNotificationsRead(ctx(t)); err != nil || unread != 0 {
		t.Fatalf("mark all read = %d, %v", unread, err)
	}
	if _, err := c.MarkNotificationsRead(ctx(t)); client.ErrorCode(err) != client.CodeInvalid {
		t.Fatalf("marking no ids: %v, want invalid", err)
	}

	if err := c.Unsubscribe(ctx(t), "orders.*"); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if err := c.Unsubscribe(ctx(t), "orders.*"); client.ErrorCode(err) != client.CodeNotFound {
		t.Fatalf("unsubscribing twice: %v, want not_found", err)
	}
	guest := dial(t, ts, client.Options{Name: "gus"})
	if err := guest.Subscribe(ctx(t), "orders.*"); client.ErrorCode(err) != client.CodeForbidden {
		t.Fatalf("a guest's subscription: %v, want forbidden", err)
	}
}
