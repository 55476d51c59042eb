-- Users of an integrating app's tokens whom the server has seen, so that
-- they can be told apart from ids that name nobody (a private message needs
-- a recipient that exists). Times are Unix milliseconds, as elsewhere.
CREATE TABLE external_users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) STRICT;
