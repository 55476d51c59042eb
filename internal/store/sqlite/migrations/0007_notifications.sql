-- Notifications: stored once, with a row of read state per recipient; and
-- the topic patterns users subscribe to. Times are Unix milliseconds, 0 for
-- never.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    topic      TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    data       TEXT NOT NULL,
    link       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;

CREATE TABLE notification_recipients (
    user_id         TEXT NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    read_at         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, notification_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE subscriptions (
    user_id    TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, pattern)
) STRICT, WITHOUT ROWID;

-- A topic's subscribers are found by the patterns that match it.
CREATE INDEX subscriptions_pattern ON subscriptions (pattern, user_id);
