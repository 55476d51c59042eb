// The outbox: a send whose ack never came is resent after the reconnect
// with the same client_id and stored once, whether the server had it or not;
// a send the server refuses fails at once and is never resent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { register, ServerError } from "../parley.js";
import { client, hs256Issuer, nextEvent, startProxy, startServer, unique, waitFor, within } from "./helpers.mjs";

// Short heartbeats, so that a muted connection is found dead quickly.
const FLAGS = ["--guests", "--rate-messages", "1000", "--rate-burst", "1000",
  "--heartbeat-interval", "200ms", "--heartbeat-timeout", "300ms"];

const CLIENT_ID = /^[0-9a-z]{9}-[0-9a-f]{12}-[0-9a-z]+$/;

async function setup(t) {
  const srv = await startServer(t, FLAGS);
  const proxy = await startProxy(t, srv.port);
  const alice = client(t, { url: proxy.ws, guest: "alice", backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  const bob = client(t, { url: srv.ws, guest: "bob" });
  await Promise.all([alice.connect(), bob.connect()]);
  return { srv, proxy, alice, bob };
}

test("a message stored but never acknowledged is delivered exactly once", async (t) => {
  const { proxy, alice, bob } = await setup(t);
  const name = unique("outbox");
  const ra = await alice.join(name);
  const rb = await bob.join(name);
  const seenA = [];
  const seenB = [];
  ra.on("message", (m) => seenA.push(m));
  rb.on("message", (m) => seenB.push(m));

  proxy.mode = "mute"; // the chat reaches the server; its ack never reaches alice
  const sent = ra.send("only once");
  await waitFor(() => seenB.length === 1, { message: "bob to get the message" });
  assert.equal(alice.outbox.length, 1, "still waiting for the ack");
  await nextEvent(alice, "disconnected", { timeout: 5000 });
  proxy.mode = "pass";
  const ack = await within(10000, sent, "the send to settle after the reconnect");

  assert.equal(ack.message_id, seenB[0].id);
  assert.equal(ack.seq, seenB[0].seq);
  assert.equal(ack.duplicate, true, "settled by the replayed echo or a duplicate ack");
  assert.match(seenB[0].client_id, CLIENT_ID);
  assert.ok(Math.abs(parseInt(seenB[0].client_id.slice(0, 9), 36) - Date.now()) < 60000, "client_id starts with the time");

  await rb.send("next");
  await waitFor(() => seenA.length === 2, { message: "alice to see both" });
  assert.deepEqual(seenA.map((m) => m.text), ["only once", "next"]);
  assert.deepEqual(seenB.map((m) => m.text), ["only once", "next"]);
  const stored = await rb.history({ after: 0 });
  assert.deepEqual(stored.map((m) => m.text), ["only once", "next"], "stored once");
});

test("a private message whose ack was lost gets a duplicate ack on resend", async (t) => {
  const { proxy, alice, bob } = await setup(t);
  const got = [];
  bob.on("private", (m) => got.push(m));
  const own = [];
  alice.on("private", (m) => own.push(m));

  proxy.mode = "mute";
  const sent = alice.sendPrivate(bob.welcome.user.id, "psst");
  await waitFor(() => got.length === 1, { message: "bob to get the private message" });
  await nextEvent(alice, "disconnected", { timeout: 5000 });
  proxy.mode = "pass";
  const ack = await within(10000, sent, "the resend's ack");
  assert.equal(ack.duplicate, true);
  assert.equal(ack.message_id, got[0].id);

  await alice.sendPrivate(bob.welcome.user.id, "again");
  await waitFor(() => got.length === 2, { message: "the second private message" });
  assert.deepEqual(got.map((m) => m.text), ["psst", "again"], "bob got each once");
  assert.deepEqual(own.map((m) => m.text), ["psst", "again"], "alice's own view, each once");
  const stored = await bob.history(got[0].room, { after: 0 });
  assert.deepEqual(stored.map((m) => m.text), ["psst", "again"], "stored once");
});

test("sends made while disconnected go out in order after the re-join", async (t) => {
  const { proxy, alice, bob } = await setup(t);
  const name = unique("queued");
  const ra = await alice.join(name);
  const rb = await bob.join(name);
  const seenB = [];
  rb.on("message", (m) => seenB.push(m));

  proxy.mode = "refuse";
  proxy.cut();
  await nextEvent(alice, "disconnected");
  const sends = Array.from({ length: 30 }, (_, i) => ra.send(`queued ${i}`));
  proxy.mode = "pass";
  const acks = await within(15000, Promise.all(sends), "30 acks");
  assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: 30 }, (_, i) => i + 1), "stored in the order sent");
  await waitFor(() => seenB.length === 30, { message: "bob to get 30" });
  assert.deepEqual(seenB.map((m) => m.text), Array.from({ length: 30 }, (_, i) => `queued ${i}`));
});

// A WebSocket that turns a chat frame whose text starts with "REFUSE:"
// into a join, with the same id, of a room the token's rooms claim
// excludes: the real server then answers the send's own id with
// forbidden, as it will answer a send from a muted or banned user.
function refusingWebSocket(room) {
  const info = { chats: [] };
  info.WebSocket = class extends globalThis.WebSocket {
    send(data) {
      const f = JSON.parse(data);
      if (f.type === "chat" && f.body.text.startsWith("REFUSE:")) {
        info.chats.push(f.body.client_id);
        data = JSON.stringify({ type: "join", id: f.id, body: { room } });
      }
      super.send(data);
    }
  };
  return info;
}

test("a send refused with forbidden rejects with the code and is not resent", async (t) => {
  const jwt = hs256Issuer(t);
  const srv = await startServer(t, [...jwt.flags, "--rate-messages", "1000", "--rate-burst", "1000"]);
  const proxy = await startProxy(t, srv.port);
  const ws = refusingWebSocket("closed");
  const alice = client(t, {
    url: proxy.ws, token: jwt.sign("ext-refused", 600, { rooms: ["open"] }),
    WebSocket: ws.WebSocket, backoffMinMs: 50, handshakeTimeoutMs: 2000,
  });
  await alice.connect();
  const room = await alice.join("open");

  const refused = room.send("REFUSE: you are muted");
  assert.equal(alice.outbox.length, 1);
  await within(5000, assert.rejects(refused, (err) => err instanceof ServerError && err.code === "forbidden"), "the send to fail");
  assert.deepEqual(alice.outbox, [], "out of the outbox");
  assert.equal((await room.send("fine")).seq, 1, "the session goes on");

  const synced = nextEvent(alice, "synced");
  proxy.cut();
  await synced;
  assert.equal((await room.send("after the reconnect")).seq, 2);
  assert.equal(ws.chats.length, 1, "sent once, never again");
});

test("a send queued for a room you were removed from meanwhile fails with not_joined", async (t) => {
  const srv = await startServer(t, FLAGS);
  const proxy = await startProxy(t, srv.port);
  const owner = await register(srv.http, { username: unique("owner"), password: "correct horse battery" });
  const a = await register(srv.http, { username: unique("alice"), password: "correct horse battery" });
  const name = unique("private");
  await srv.api("POST", "/api/v1/rooms", owner.access_token, { name, private: true });
  const member = `/api/v1/rooms/${name}/members/${encodeURIComponent(a.user.id)}`;
  await srv.api("PUT", member, owner.access_token);
  const alice = client(t, { url: proxy.ws, token: a.access_token, backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  await alice.connect();
  const room = await alice.join(name);

  proxy.mode = "refuse";
  proxy.cut();
  await nextEvent(alice, "disconnected");
  const queued = room.send("written while away");
  await srv.api("DELETE", member, owner.access_token);
  const refusedJoin = nextEvent(alice, "error");
  proxy.mode = "pass";
  await within(10000, assert.rejects(queued, (err) => err instanceof ServerError && err.code === "not_joined"), "the queued send to fail");
  assert.equal((await refusedJoin).code, "forbidden", "the re-join was refused");
  assert.equal(room.state, "left");
  assert.deepEqual(alice.outbox, []);
});
