-- Parley schema v1 for SQLite. Times are INTEGER Unix milliseconds (0 = unset)
-- so they round-trip exactly; booleans are 0/1.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    -- store.UsernameKey(username): uniqueness and look-up are case-insensitive
    -- without depending on SQLite's ASCII-only lower().
    username_key  TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    admin         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE rooms (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    private    INTEGER NOT NULL,
    owner      TEXT NOT NULL,
    topic      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- last_seq is the room's sequence counter: every log event takes
    -- last_seq + 1 in the transaction that writes it.
    last_seq   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE members (
    room      TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    read_seq  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    room        TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    sender      TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    guest       INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (room, seq)
) STRICT;

-- Idempotent sends: one message per (room, sender, client id).
CREATE UNIQUE INDEX messages_client ON messages (room, sender, client_id) WHERE client_id <> '';

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    -- ord is the room sequence of the event that added the reaction, which
    -- orders users (and emojis) by when they reacted.
    ord        INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX reactions_order ON reactions (message_id, ord);

CREATE TABLE events (
    room       TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    emoji      TEXT NOT NULL,
    added      INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    -- The message's state right after the event (msgstate JSON), so replaying
    -- the log shows each step rather than only the current state.
    message    TEXT NOT NULL,
    PRIMARY KEY (room, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
