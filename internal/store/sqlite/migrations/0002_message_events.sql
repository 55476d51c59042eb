-- A new message's log event is its messages row, not a second row in events.
--
-- Writing the event (a WITHOUT ROWID row keyed by room and sequence, holding
-- a JSON copy of the message) cost the single writer about as much as the
-- message itself: one more index page per busy room in every commit. The
-- row in messages already holds everything that event says until the
-- message first changes, so now:
--
--   logged = 0  the message has never changed; its creation event is read
--               from this row (see eventsAfter in sqlite_messages.go);
--   logged = 1  its creation event is a row in events, written when the
--               message was created (before this migration) or just before
--               its first edit, deletion or reaction.
--
-- The default of 1 keeps every existing message's event where it is; the
-- update and delete below then move the events of messages that never
-- changed into their rows, so reading an old room's log does not step over
-- them.
ALTER TABLE messages ADD COLUMN logged INTEGER NOT NULL DEFAULT 1;

UPDATE messages SET logged = 0
WHERE edited_at = 0 AND deleted = 0
  AND id NOT IN (SELECT message_id FROM events WHERE kind <> 'message');

DELETE FROM events
WHERE kind = 'message' AND message_id IN (SELECT id FROM messages WHERE logged = 0);
