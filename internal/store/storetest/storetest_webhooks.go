package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var webhookTests = []namedTest{
	{"Endpoints", func(t *testing.T, s store.Store) {
		c := ctx(t)
		at := store.Timestamp(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC))
		w1 := store.Webhook{ID: "w1", URL: "https://a.example/hook", Secret: "s1", Events: []string{"message.created", "user.online"},
			CreatedBy: "u_admin", CreatedAt: at}
		w2 := store.Webhook{ID: "w2", URL: "http://b.example/", Secret: "s2", Events: []string{"*"}, CreatedAt: at.Add(time.Second)}
		noErr(t, s.CreateWebhook(c, w1), "CreateWebhook")
		noErr(t, s.CreateWebhook(c, w2), "CreateWebhook")
		wantErr(t, s.CreateWebhook(c, w1), store.ErrConflict, "CreateWebhook with a taken id")
		got, err := s.Webhooks(c)
		noErr(t, err, "Webhooks")
		equal(t, got, []store.Webhook{w1, w2}, "webhooks, oldest first")
		noErr(t, s.DeleteWebhook(c, "w1"), "DeleteWebhook")
		wantErr(t, s.DeleteWebhook(c, "w1"), store.ErrNotFound, "DeleteWebhook again")
		got, err = s.Webhooks(c)
		noErr(t, err, "Webhooks")
		equal(t, got, []store.Webhook{w2}, "webhooks after a delete")
	}},
	{"Deliveries", func(t *testing.T, s store.Store) {
		c := ctx(t)
		noErr(t, s.CreateWebhook(c, store.Webhook{ID: "w1", URL: "https://a.example/", Events: []string{"*"}}), "CreateWebhook")
		noErr(t, s.CreateWebhook(c, store.Webhook{ID: "w2", URL: "https://b.example/", Events: []string{"*"}}), "CreateWebhook")
		now := store.Timestamp(time.Now())
		d1 := store.WebhookDelivery{ID: "d1", Webhook: "w1", EventID: "e1", Event: "message.created", Payload: `{"a":1}`,
			NextAt: now.Add(-time.Second), CreatedAt: now.Add(-time.Second)}
		d2 := store.WebhookDelivery{ID: "d2", Webhook: "w2", EventID: "e1", Event: "message.created", Payload: `{"a":1}`,
			NextAt: now, CreatedAt: now}
		d3 := store.WebhookDelivery{ID: "d3", Webhook: "w1", EventID: "e2", Event: "user.online", Payload: `{}`,
			NextAt: now.Add(time.Hour), CreatedAt: now}
		noErr(t, s.EnqueueWebhookDeliveries(c, []store.WebhookDelivery{d1, d2, d3}), "EnqueueWebhookDeliveries")
		d4 := store.WebhookDelivery{ID: "d4", Webhook: "w1", EventID: "e3", Event: "user.offline", Payload: `{}`,
			NextAt: now, CreatedAt: now}
		noErr(t, s.EnqueueWebhookDeliveries(c, []store.WebhookDelivery{d4}), "EnqueueWebhookDeliveries")
		due, err := s.DueWebhookDeliveries(c, "w1", now, 10)
		noErr(t, err, "DueWebhookDeliveries")
		equal(t, due, []store.WebhookDelivery{d1, d4}, "w1's due, soonest first")
		due, err = s.DueWebhookDeliveries(c, "w2", now, 10)
		noErr(t, err, "DueWebhookDeliveries of w2")
		equal(t, due, []store.WebhookDelivery{d2}, "w2's due")
		due, err = s.DueWebhookDeliveries(c, "w1", now, 1)
		noErr(t, err, "DueWebhookDeliveries with a limit")
		equal(t, len(due) == 1 && due[0].ID == "d1", true, "the soonest")
		noErr(t, s.FinishWebhookDelivery(c, "d4"), "FinishWebhookDelivery")

		later := now.Add(time.Minute)
		noErr(t, s.RetryWebhookDelivery(c, "d1", 1, later, "502 Bad Gateway"), "RetryWebhookDelivery")
		noErr(t, s.FinishWebhookDelivery(c, "d2"), "FinishWebhookDelivery")
		noErr(t, s.FinishWebhookDelivery(c, "d2"), "FinishWebhookDelivery again")
		due, err = s.DueWebhookDeliveries(c, "w1", now, 10)
		noErr(t, err, "DueWebhookDeliveries")
		equal(t, len(due), 0, "due after a retry")
		due, err = s.DueWebhookDeliveries(c, "w2", now, 10)
		noErr(t, err, "DueWebhookDeliveries")
		equal(t, len(due), 0, "due after a finish")
		due, err = s.DueWebhookDeliveries(c, "w1", later, 10)
		noErr(t, err, "DueWebhookDeliveries later")
		d1.Attempts, d1.NextAt, d1.LastError = 1, later, "502 Bad Gateway"
		equal(t, due, []store.WebhookDelivery{d1}, "the retried one, due later")

		noErr(t, s.DeleteWebhook(c, "w1"), "DeleteWebhook")
		wantErr(t, s.RetryWebhookDelivery(c, "d1", 2, later, "x"), store.ErrNotFound, "retrying a delivery of a deleted endpoint")
		due, err = s.DueWebhookDeliveries(c, "w1", now.Add(2*time.Hour), 10)
		noErr(t, err, "DueWebhookDeliveries")
		equal(t, len(due), 0, "deliveries of a deleted endpoint")
	}},
}
