package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var notifyTests = []namedTest{
	{"Subscriptions", func(t *testing.T, s store.Store) {
		c := ctx(t)
		for _, sub := range []struct{ user, pattern string }{
			{"ann", "orders.*"}, {"ann", "deploys.>"}, {"ann", "orders.*"}, {"bob", "orders.42"}, {"cat", "deploys.>"},
		} {
			noErr(t, s.Subscribe(c, sub.user, sub.pattern), "Subscribe")
		}
		got, err := s.Subscriptions(c, "ann")
		noErr(t, err, "Subscriptions")
		equal(t, got, []string{"deploys.>", "orders.*"}, "ann's patterns, sorted, once each")
		got, err = s.Subscribers(c, []string{"orders.42", "orders.*", "nothing"})
		noErr(t, err, "Subscribers")
		equal(t, got, []string{"ann", "bob"}, "subscribers of orders.42")
		got, err = s.Subscribers(c, nil)
		noErr(t, err, "Subscribers of no pattern")
		equal(t, len(got), 0, "subscribers of no pattern")
		noErr(t, s.Unsubscribe(c, "ann", "orders.*"), "Unsubscribe")
		wantErr(t, s.Unsubscribe(c, "ann", "orders.*"), store.ErrNotFound, "Unsubscribe again")
		got, err = s.Subscribers(c, []string{"orders.*", "orders.42"})
		noErr(t, err, "Subscribers")
		equal(t, got, []string{"bob"}, "subscribers after ann left")
	}},
	{"AllUsers", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u_b", Username: "b"})
		noErr(t, err, "CreateUser")
		_, err = s.CreateUser(c, store.User{ID: "u_a", Username: "a"})
		noErr(t, err, "CreateUser")
		noErr(t, s.SeeExternalUser(c, "ext-1", "E"), "SeeExternalUser")
		got, err := s.AllUsers(c)
		noErr(t, err, "AllUsers")
		equal(t, got, []string{"ext-1", "u_a", "u_b"}, "every account and external user, sorted")
	}},
	{"CreateListAndRead", func(t *testing.T, s store.Store) {
		c := ctx(t)
		at := store.Timestamp(time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC))
		n1 := store.Notification{ID: "n1", Topic: "orders.42", Title: "Shipped", Body: "Your order left", Data: `{"order":42}`,
			Link: "https://shop.example/orders/42", CreatedAt: at, CreatedBy: "k1"}
		n2 := store.Notification{ID: "n2", Title: "Hello", CreatedAt: at.Add(time.Second), CreatedBy: "k1"}
		n3 := store.Notification{ID: "n3", Title: "For bob", CreatedAt: at.Add(2 * time.Second)}
		noErr(t, s.CreateNotification(c, n1, []string{"ann", "bob"}), "CreateNotification")
		noErr(t, s.CreateNotification(c, n2, []string{"ann"}), "CreateNotification")
		noErr(t, s.CreateNotification(c, n3, []string{"bob"}), "CreateNotification")
		wantErr(t, s.CreateNotification(c, store.Notification{ID: "n1"}, nil), store.ErrConflict, "a taken id")

		got, err := s.Notifications(c, "ann", store.NotificationQuery{Limit: 10})
		noErr(t, err, "Notifications")
		equal(t, got, []store.UserNotification{{Notification: n2}, {Notification: n1}}, "ann's, newest first")
		unread, err := s.UnreadNotifications(c, "ann")
		noErr(t, err, "UnreadNotifications")
		equal(t, unread, 2, "ann's unread")

		got, err = s.Notifications(c, "ann", store.NotificationQuery{Before: "n2", Limit: 10})
		noErr(t, err, "Notifications before n2")
		equal(t, len(got) == 1 && got[0].ID == "n1", true, "the page before n2 is n1")
		got, err = s.Notifications(c, "ann", store.NotificationQuery{Limit: 1})
		noErr(t, err, "Notifications with a limit")
		equal(t, len(got) == 1 && got[0].ID == "n2", true, "one, the newest")

		before := time.Now()
		n, err := s.MarkNotificationsRead(c, "ann", []string{"n1", "n3", "nope"}, false)
		noErr(t, err, "MarkNotificationsRead")
		equal(t, n, 1, "marked: n1 only (n3 is bob's)")
		n, err = s.MarkNotificationsRead(c, "ann", []string{"n1"}, false)
		noErr(t, err, "MarkNotificationsRead again")
		equal(t, n, 0, "marked twice")
		got, err = s.Notifications(c, "ann", store.NotificationQuery{Limit: 10})
		noErr(t, err, "Notifications")
		storeTime(t, got[1].ReadAt, before, time.Now(), "n1's ReadAt")
		equal(t, got[0].ReadAt.IsZero(), true, "n2 still unread")
		got, err = s.Notifications(c, "ann", store.NotificationQuery{Unread: true, Limit: 10})
		noErr(t, err, "unread Notifications")
		equal(t, len(got) == 1 && got[0].ID == "n2", true, "ann's unread is n2")
		unread, err = s.UnreadNotifications(c, "bob")
		noErr(t, err, "UnreadNotifications")
		equal(t, unread, 2, "bob's unread, untouched by ann's reading")

		n, err = s.MarkNotificationsRead(c, "bob", nil, true)
		noErr(t, err, "MarkNotificationsRead all")
		equal(t, n, 2, "bob's marked")
		unread, err = s.UnreadNotifications(c, "bob")
		noErr(t, err, "UnreadNotifications")
		equal(t, unread, 0, "bob's unread after all")
		unread, err = s.UnreadNotifications(c, "ann")
		noErr(t, err, "UnreadNotifications")
		equal(t, unread, 1, "ann's unread after bob read all")
	}},
	{"ManyRecipients", func(t *testing.T, s store.Store) {
		c := ctx(t)
		users := make([]string, 1234)
		for i := range users {
			users[i] = fmt.Sprintf("u%04d", i)
		}
		noErr(t, s.CreateNotification(c, store.Notification{ID: "big", Title: "all"}, users), "CreateNotification")
		for _, u := range []string{"u0000", "u0499", "u0500", "u1233"} {
			unread, err := s.UnreadNotifications(c, u)
			noErr(t, err, "UnreadNotifications")
			equal(t, unread, 1, "unread of "+u)
		}
	}},
}
