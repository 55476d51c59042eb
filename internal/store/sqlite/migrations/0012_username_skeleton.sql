-- store.UsernameSkeleton(username): the UTS #39 confusable skeleton, so a
-- username that looks like a taken one ("pаypal" with a Cyrillic а beside
-- "paypal") is refused. SQL cannot compute it: Open fills it in Go for the
-- rows stored before this step (see backfillSkeletons). NULL is an account
-- that looked like an older one before the column existed; the unique index
-- allows any number of NULLs, so both accounts stay.
ALTER TABLE users ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
