// The rest of the checklist with two accounts: typing debounce, presence
// and members, edits, deletions and reactions, history, read markers and
// unread counts, private messages and their catch-up, typed errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { register, ServerError, TimeoutError } from "../parley.js";
import { client, countingWebSocket, nextEvent, startProxy, startServer, unique, waitFor } from "./helpers.mjs";

async function accounts(t, srv, WebSocket) {
  const a = await register(srv.http, { username: unique("alice"), password: "correct horse battery" });
  const b = await register(srv.http, { username: unique("bob"), password: "correct horse battery" });
  const alice = client(t, { url: srv.ws, token: a.access_token, WebSocket });
  const bob = client(t, { url: srv.ws, token: b.access_token });
  await Promise.all([alice.connect(), bob.connect()]);
  return { a, b, alice, bob };
}

const FLAGS = ["--rate-messages", "1000", "--rate-burst", "1000"];

test("typing is debounced; presence and members follow joins and leaves", async (t) => {
  const srv = await startServer(t, FLAGS);
  const ws = countingWebSocket();
  const { alice, bob } = await accounts(t, srv, ws.WebSocket);
  const name = unique("typing");
  const ra = await alice.join(name);
  const joinedSeen = nextEvent(ra, "presence");
  const rb = await bob.join(name);
  assert.equal((await joinedSeen).event, "join");
  assert.deepEqual([...ra.members.keys()].sort(), [alice.welcome.user.id, bob.welcome.user.id].sort());

  const seen = [];
  rb.on("typing", (e) => seen.push(e.state));
  for (let i = 0; i < 20; i++) ra.typing(); // twenty keystrokes
  await waitFor(() => rb.typingUsers.has(alice.welcome.user.id), { message: "bob to see alice typing" });
  ra.stopTyping();
  await waitFor(() => seen.includes("stop"), { message: "typing stop" });
  assert.deepEqual(seen, ["start", "stop"]);
  const typingFrames = ws.sent.filter((f) => f.type === "typing").map((f) => f.body.state);
  assert.deepEqual(typingFrames, ["start", "stop"], "one start sent for twenty keystrokes, then the stop");
  assert.equal(rb.typingUsers.size, 0);

  const left = nextEvent(ra, "presence");
  await rb.leave();
  assert.equal((await left).event, "leave");
  assert.deepEqual([...ra.members.keys()], [alice.welcome.user.id]);
  assert.equal(rb.state, "left");
});

test("a busy room's presence_diff sets memberCount whole", async (t) => {
  // Past one connection the room is busy: presence comes as diffs.
  const srv = await startServer(t, [...FLAGS, "--guests", "--presence-batch-above", "1", "--presence-interval", "100ms"]);
  const ws = countingWebSocket();
  const { alice, bob } = await accounts(t, srv, ws.WebSocket);
  const name = unique("busy");
  const ra = await alice.join(name);
  await bob.join(name);
  await waitFor(() => ra.members.has(bob.welcome.user.id), { message: "alice to hear of bob from a diff" });
  // The count comes from the diff's member_count, not from adding it up:
  // a wrong local count is set right by the next diff.
  ra.memberCount = 7;
  const carol = client(t, { url: srv.ws, guest: "carol" });
  await carol.connect();
  await carol.join(name);
  await waitFor(() => ra.memberCount === 3, { message: "memberCount to be the diff's member_count, 3" });
});

test("edit, react and delete arrive as updates in seq order; history pages both ways", async (t) => {
  const srv = await startServer(t, FLAGS);
  const { alice, bob } = await accounts(t, srv);
  const name = unique("edits");
  const ra = await alice.join(name);
  const rb = await bob.join(name);
  const updates = [];
  rb.on("update", (u) => updates.push(u));
  const own = [];
  ra.on("update", (u) => own.push(u));

  const ack = await ra.send("Lunch at noon?");
  await ra.edit(ack.message_id, "Lunch at 12:30?");
  await rb.react(ack.message_id, "👍");
  await ra.delete(ack.message_id);
  await waitFor(() => updates.length === 3 && own.length === 3, { message: "three updates on both sides" });
  assert.deepEqual(updates.map((u) => u.kind), ["edit", "reaction", "delete"]);
  assert.deepEqual(updates.map((u) => u.seq), [2, 3, 4]);
  assert.equal(updates[0].message.text, "Lunch at 12:30?");
  assert.equal(updates[2].message.deleted, true);
  assert.equal(ra.lastSeq, 4);
  assert.equal(rb.lastSeq, 4);

  for (let i = 1; i <= 5; i++) await rb.send(`m${i}`);
  const newest = await ra.history({ limit: 3 });
  assert.deepEqual(newest.map((m) => m.text), ["m5", "m4", "m3"]);
  const older = await ra.history({ before: newest.at(-1).seq, limit: 2 });
  assert.deepEqual(older.map((m) => m.text), ["m2", "m1"]);
  const forward = await ra.history({ after: 0, limit: 2 });
  assert.deepEqual(forward.map((m) => [m.text, !!m.deleted]), [["", true], ["m1", false]]);
});

test("read markers are batched and reset unread counts; receipts reach the others", async (t) => {
  const srv = await startServer(t, FLAGS);
  const { alice, bob } = await accounts(t, srv);
  const name = unique("reads");
  const ra = await alice.join(name);
  const rb = await bob.join(name);
  for (let i = 1; i <= 3; i++) await rb.send(`unread ${i}`);
  await waitFor(() => alice.unread.get(name)?.unread === 3, { message: "3 unread for alice" });

  const receipt = nextEvent(rb, "read");
  const marks = [ra.markRead(1), ra.markRead(2), ra.markRead()]; // one frame, the highest seq
  const replies = await Promise.all(marks);
  assert.deepEqual(replies.map((r) => r.seq), [3, 3, 3]);
  assert.equal(alice.unread.get(name).unread, 0);
  const r = await receipt;
  assert.equal(r.user.id, alice.welcome.user.id);
  assert.equal(r.seq, 3);

  // A new session starts from the server's unread frame.
  const again = client(t, { url: srv.ws, token: alice.options.token });
  const entry = nextEvent(again, "unread", { filter: (u) => u.room === name });
  await again.connect();
  assert.deepEqual(await entry, { room: name, unread: 0, last_seq: 3, read_seq: 3 });
});

test("private messages both ways; missed ones are caught up after a reconnect", async (t) => {
  const srv = await startServer(t, FLAGS);
  const proxy = await startProxy(t, srv.port);
  const b = await register(srv.http, { username: unique("bob"), password: "correct horse battery" });
  const a = await register(srv.http, { username: unique("alice"), password: "correct horse battery" });
  const bob = client(t, { url: proxy.ws, token: b.access_token, backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  const alice = client(t, { url: srv.ws, token: a.access_token });
  await Promise.all([alice.connect(), bob.connect()]);
  const got = [];
  bob.on("private", (m) => got.push(m));

  const bobId = (await alice.lookupUser(b.user.username)).id;
  assert.equal(bobId, b.user.id);
  await alice.sendPrivate(bobId, "hello bob");
  await waitFor(() => got.length === 1, { message: "the first private message" });
  await bob.sendPrivate(alice.welcome.user.id, "hi alice");

  proxy.mode = "refuse";
  proxy.cut();
  await nextEvent(bob, "disconnected");
  await alice.sendPrivate(bobId, "while you were out 1");
  await alice.sendPrivate(bobId, "while you were out 2");
  const synced = nextEvent(bob, "synced");
  proxy.mode = "pass";
  await synced;
  await waitFor(() => got.length === 4, { message: "bob to catch up" });
  assert.deepEqual(got.map((m) => m.text), ["hello bob", "hi alice", "while you were out 1", "while you were out 2"]);
  assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4]);
  assert.equal(bob.unread.get(got[0].room).unread, 3);
});

test("errors are typed: the server's code, or a timeout", async (t) => {
  const srv = await startServer(t, FLAGS);
  const { alice } = await accounts(t, srv);
  await assert.rejects(alice.edit("never-joined", "01JA0C9B2KX7M4T1W8Z6N3Q5RD", "x"),
    (err) => err instanceof ServerError && err.code === "not_joined");
  await assert.rejects(alice.join("bad name!"), (err) => err instanceof ServerError && err.code === "invalid_room");
  await srv.pause();
  try {
    await assert.rejects(alice.ping({ timeout: 200 }), (err) => err instanceof TimeoutError && err.code === "timeout");
  } finally {
    srv.resume();
  }
  assert.ok((await alice.ping()) >= 0);
});
