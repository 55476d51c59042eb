package client

import (
	"context"

	"github.com/parley-chat/parley/internal/protocol"
)

// Subscribe subscribes the user to the notifications published to topics
// that pattern matches: up to 8 dot-separated segments, where "*" stands
// for one segment and a final ">" for one or more ("orders.*",
// "deploys.>"). Subscriptions are stored with the account and hold on
// every device until Unsubscribe; subscribing twice is harmless. Matching
// notifications arrive as EventNotification. Guests cannot subscribe
// (CodeForbidden).
func (c *Client) Subscribe(ctx context.Context, pattern string) error {
	return c.request(ctx, protocol.TypeSubscribe, protocol.SubscribeBody{Topic: pattern}, nil)
}

// Unsubscribe ends the subscription to pattern, which must be held as
// given (CodeNotFound otherwise).
func (c *Client) Unsubscribe(ctx context.Context, pattern string) error {
	return c.request(ctx, protocol.TypeUnsubscribe, protocol.SubscribeBody{Topic: pattern}, nil)
}

// Notifications returns a page of the user's notifications, newest first,
// and the number of all their unread ones. Page backwards by passing the
// last notification's id as the next query's Before.
func (c *Client) Notifications(ctx context.Context, q NotificationsQuery) (NotificationsPage, error) {
	var page NotificationsPage
	err := c.request(ctx, protocol.TypeNotifications, q, &page)
	if page.Notifications == nil {
		page.Notifications = []Notification{}
	}
	return page, err
}

// MarkNotificationsRead marks the notifications with these ids read (1 to
// 1000 of them, CodeInvalid otherwise; ids that are not the user's, or
// already read, change nothing) and returns how many of the user's
// notifications stay unread. The user's other connections receive an
// EventNotificationsRead.
func (c *Client) MarkNotificationsRead(ctx context.Context, ids ...string) (unread int, err error) {
	return c.markNotifications(ctx, protocol.NotificationsReadBody{IDs: ids})
}

// MarkAllNotificationsRead marks every notification of the user read and
// returns how many stay unread (0, unless new ones arrived meanwhile).
func (c *Client) MarkAllNotificationsRead(ctx context.Context) (unread int, err error) {
	return c.markNotifications(ctx, protocol.NotificationsReadBody{All: true})
}

func (c *Client) markNotifications(ctx context.Context, body protocol.NotificationsReadBody) (int, error) {
	var r NotificationsRead
	if err := c.request(ctx, protocol.TypeNotificationsRead, body, &r); err != nil {
		return 0, err
	}
	if r.Unread == nil {
		return 0, nil
	}
	return *r.Unread, nil
}
