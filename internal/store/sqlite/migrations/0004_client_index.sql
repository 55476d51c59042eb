-- The unique index that makes a retried send idempotent leads with the
-- client id instead of the room and sender.
--
-- It holds the same (room, sender, client_id) triples and answers the same
-- look-ups; only the order of its entries changes. Led by room and sender,
-- every send wrote into that sender's part of the index, so a commit
-- carrying messages from 2,000 senders touched about as many index pages,
-- and the checkpoint copied each of them into the database file again. Led
-- by the client id, the keys Parley's clients make (they start with the
-- time; see docs/PROTOCOL.md) arrive in about the order they sort in, and a
-- commit writes them into the same few pages at the index's end. Keys that
-- do not start with the time still work, at the old cost.
DROP INDEX messages_client;
CREATE UNIQUE INDEX messages_client ON messages (client_id, room, sender) WHERE client_id <> '';
