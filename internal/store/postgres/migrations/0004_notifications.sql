-- Notifications: stored once, with a row of read state per recipient; and
-- the topic patterns users subscribe to. A NULL read_at is unread.
CREATE TABLE notifications (
    id         text PRIMARY KEY,
    topic      text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    data       text NOT NULL,
    link       text NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL
);

CREATE TABLE notification_recipients (
    user_id         text NOT NULL,
    notification_id text NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    read_at         timestamptz,
    PRIMARY KEY (user_id, notification_id)
);

CREATE TABLE subscriptions (
    user_id    text NOT NULL,
    pattern    text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, pattern)
);

-- A topic's subscribers are found by the patterns that match it.
CREATE INDEX subscriptions_pattern ON subscriptions (pattern, user_id);
