-- Users of an integrating app's tokens whom the server has seen, so that
-- they can be told apart from ids that name nobody (a private message needs
-- a recipient that exists).
CREATE TABLE external_users (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);
