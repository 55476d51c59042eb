-- Moderation: locked and archived rooms, bans and mutes, and the audit log
-- of what moderators and administrators did.
ALTER TABLE rooms ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
-- A deleted account stays as a row that keeps its username taken (so no
-- one can take the name of the author of old messages) and matches nothing.
ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE sanctions (
    room       TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    by_user    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- 0: until lifted
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (room, user_id, kind)
) STRICT, WITHOUT ROWID;

CREATE INDEX sanctions_user ON sanctions (user_id);

CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    room       TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL
) STRICT;

CREATE INDEX rooms_owner ON rooms (owner);
