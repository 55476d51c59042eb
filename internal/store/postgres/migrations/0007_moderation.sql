-- Moderation: locked and archived rooms, bans and mutes, and the audit log
-- of what moderators and administrators did.
ALTER TABLE rooms ADD COLUMN locked boolean NOT NULL DEFAULT false;
ALTER TABLE rooms ADD COLUMN archived boolean NOT NULL DEFAULT false;
-- A deleted account stays as a row that keeps its username taken (so no
-- one can take the name of the author of old messages) and matches nothing.
ALTER TABLE users ADD COLUMN deleted boolean NOT NULL DEFAULT false;

CREATE TABLE sanctions (
    room       text NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id    text NOT NULL,
    kind       text NOT NULL,
    reason     text NOT NULL,
    by_user    text NOT NULL,
    created_at timestamptz NOT NULL,
    -- NULL: until lifted
    expires_at timestamptz,
    PRIMARY KEY (room, user_id, kind)
);

CREATE INDEX sanctions_user ON sanctions (user_id);

CREATE TABLE audit_log (
    id         text PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    actor_name text NOT NULL,
    action     text NOT NULL,
    room       text NOT NULL,
    target     text NOT NULL,
    detail     text NOT NULL
);

CREATE INDEX audit_log_room ON audit_log (room, id);
CREATE INDEX rooms_owner ON rooms (owner);
