-- Keys a backend authenticates with on the HTTP API. Only the SHA-256 of a
-- key is kept. A NULL time is never.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    hash         text NOT NULL UNIQUE,
    scopes       text[] NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
