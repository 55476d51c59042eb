-- An administrator may disable an account: it cannot sign in, and its
-- sessions end.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
