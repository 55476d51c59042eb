-- Who is connected where, for a cluster's nodes to agree on presence and
-- on a user's connections: rows are kept by each node for its own
-- connections and reaped when a node stops sending heartbeats.
CREATE TABLE nodes (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

CREATE TABLE presence (
    room    text NOT NULL,
    user_id text NOT NULL,
    node    text NOT NULL,
    name    text NOT NULL,
    guest   boolean NOT NULL,
    -- true for a row a restarted node has not confirmed yet
    stale   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (room, user_id, node)
);

CREATE INDEX presence_node ON presence (node);

CREATE TABLE connections (
    user_id text NOT NULL,
    node    text NOT NULL,
    conns   integer NOT NULL,
    PRIMARY KEY (user_id, node)
);

CREATE INDEX connections_node ON connections (node);
