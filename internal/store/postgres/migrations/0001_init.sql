-- Parley schema v1 for PostgreSQL. Times are timestamptz written at
-- millisecond precision (store.Timestamp); a NULL edited_at means never.

CREATE TABLE users (
    id            text PRIMARY KEY,
    username      text NOT NULL,
    -- store.UsernameKey(username), computed in Go so both backends agree on
    -- what "the same name" means.
    username_key  text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    admin         boolean NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE rooms (
    name       text PRIMARY KEY,
    kind       text NOT NULL,
    private    boolean NOT NULL,
    owner      text NOT NULL,
    topic      text NOT NULL,
    created_at timestamptz NOT NULL,
    -- The room's sequence counter. Every log event runs
    -- UPDATE rooms SET last_seq = last_seq + 1 … RETURNING last_seq in the
    -- transaction that writes it: the row lock orders a room's writers and a
    -- rollback returns the number, so the log stays gap-free.
    last_seq   bigint NOT NULL DEFAULT 0
);

CREATE TABLE members (
    room      text NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id   text NOT NULL,
    role      text NOT NULL,
    joined_at timestamptz NOT NULL,
    read_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (room, user_id)
);

CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
    id          text PRIMARY KEY,
    room        text NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    sender      text NOT NULL,
    sender_name text NOT NULL,
    guest       boolean NOT NULL,
    client_id   text NOT NULL,
    text        text NOT NULL,
    created_at  timestamptz NOT NULL,
    edited_at   timestamptz,
    deleted     boolean NOT NULL DEFAULT false,
    UNIQUE (room, seq)
);

-- Idempotent sends: one message per (room, sender, client id).
CREATE UNIQUE INDEX messages_client ON messages (room, sender, client_id) WHERE client_id <> '';

CREATE TABLE reactions (
    message_id text NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji      text NOT NULL,
    user_id    text NOT NULL,
    -- The room sequence of the event that added the reaction: orders users
    -- (and emojis) by when they reacted.
    ord        bigint NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE INDEX reactions_order ON reactions (message_id, ord);

CREATE TABLE events (
    room       text NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    kind       text NOT NULL,
    actor      text NOT NULL,
    emoji      text NOT NULL,
    added      boolean NOT NULL,
    at         timestamptz NOT NULL,
    message_id text NOT NULL,
    -- The message's state right after the event (msgstate JSON). text, not
    -- jsonb: it is only ever read back whole.
    message    text NOT NULL,
    PRIMARY KEY (room, seq)
);

CREATE TABLE sessions (
    id         text PRIMARY KEY,
    user_id    text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
