-- Who is connected where, for a cluster's nodes to agree on presence and
-- on a user's connections: rows are kept by each node for its own
-- connections and reaped when a node stops sending heartbeats. A single
-- node uses the same tables.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) STRICT;

CREATE TABLE presence (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    node    TEXT NOT NULL,
    name    TEXT NOT NULL,
    guest   INTEGER NOT NULL,
    -- 1 for a row a restarted node has not confirmed yet
    stale   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, user_id, node)
) STRICT, WITHOUT ROWID;

CREATE INDEX presence_node ON presence (node);

CREATE TABLE connections (
    user_id TEXT NOT NULL,
    node    TEXT NOT NULL,
    conns   INTEGER NOT NULL,
    PRIMARY KEY (user_id, node)
) STRICT, WITHOUT ROWID;

CREATE INDEX connections_node ON connections (node);
