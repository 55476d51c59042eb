// Room change frames: a room you are added to appears in client.rooms, a
// role or topic change updates its Room, and a room you are removed from
// goes to "left" and is not re-joined. Changes are made over the rooms API
// by the room's owner and by an API key made with `parley apikey create`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { register, ServerError } from "../parley.js";
import { client, countingWebSocket, nextEvent, record, startProxy, startServer, unique, waitFor } from "./helpers.mjs";

test("a room appears when you are added, follows role and topic changes, and goes when you are removed", async (t) => {
  const srv = await startServer(t, []);
  const proxy = await startProxy(t, srv.port);
  const key = await srv.apiKey(["rooms"]);
  const a = await register(srv.http, { username: unique("alice"), password: "correct horse battery" });
  const b = await register(srv.http, { username: unique("bob"), password: "correct horse battery" });
  const ws = countingWebSocket();
  const alice = client(t, { url: srv.ws, token: a.access_token });
  const bob = client(t, { url: proxy.ws, token: b.access_token, WebSocket: ws.WebSocket, backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  await Promise.all([alice.connect(), bob.connect()]);
  const name = unique("design");
  await srv.api("POST", "/api/v1/rooms", a.access_token, { name, private: true, topic: "Launch plans" });
  const ra = await alice.join(name);
  const seenByAlice = record(ra, ["room"]);
  const member = `/api/v1/rooms/${name}/members/${encodeURIComponent(b.user.id)}`;

  // Added: the room appears, invited, with what the frame says of it.
  const added = nextEvent(bob, "roomAdded");
  await srv.api("PUT", member, a.access_token);
  const { room, change } = await added;
  assert.equal(bob.room(name), room);
  assert.deepEqual({ state: room.state, role: room.role, topic: room.topic, private: room.private },
    { state: "invited", role: "member", topic: "Launch plans", private: true });
  assert.deepEqual(change, { room: name, event: "added", user: b.user.id, role: "member", by: a.user.id, private: true, topic: "Launch plans" });
  assert.equal(await room.join(), room, "joining keeps the same Room");
  assert.equal(room.state, "joined");

  // Role and topic changes update the Room and reach it as room events.
  const roleChanged = nextEvent(room, "room");
  await srv.api("PUT", member, a.access_token, { role: "admin" });
  assert.equal((await roleChanged).event, "role");
  assert.equal(room.role, "admin");
  const updated = nextEvent(room, "room");
  await srv.api("PATCH", `/api/v1/rooms/${name}`, key, { topic: "Launch on Friday" });
  assert.deepEqual(await updated, { room: name, event: "updated", by: "system", private: true, topic: "Launch on Friday" });
  assert.equal(room.topic, "Launch on Friday");
  await waitFor(() => ra.topic === "Launch on Friday", { message: "alice's Room to follow the topic" });
  assert.deepEqual(seenByAlice.map((e) => e.event), ["added", "role", "updated"]);

  // Removed: left, not re-joined after a reconnect, sends refused.
  const left = nextEvent(bob, "left");
  const removed = nextEvent(bob, "roomRemoved");
  await srv.api("DELETE", member, a.access_token);
  assert.deepEqual(await left, { room: name, removed: true });
  assert.equal((await removed).room, room);
  assert.deepEqual({ state: room.state, role: room.role }, { state: "left", role: null });
  const joinsBefore = ws.sent.filter((f) => f.type === "join").length;
  const synced = nextEvent(bob, "synced");
  proxy.cut();
  await synced;
  assert.equal(ws.sent.filter((f) => f.type === "join").length, joinsBefore, "no re-join of a room left");
  await assert.rejects(room.send("still here?"), (err) => err instanceof ServerError && err.code === "not_joined");
  await assert.rejects(room.join(), (err) => err instanceof ServerError && err.code === "forbidden");
});

test("an invitation withdrawn before it was joined goes to left, and a new one brings it back", async (t) => {
  const srv = await startServer(t, []);
  const key = await srv.apiKey(["rooms"]);
  const b = await register(srv.http, { username: unique("bob"), password: "correct horse battery" });
  const bob = client(t, { url: srv.ws, token: b.access_token });
  await bob.connect();
  const name = unique("secret");
  await srv.api("POST", "/api/v1/rooms", key, { name, private: true });
  const member = `/api/v1/rooms/${name}/members/${encodeURIComponent(b.user.id)}`;
  const added = nextEvent(bob, "roomAdded");
  await srv.api("PUT", member, key);
  const { room, change } = await added;
  assert.equal(change.by, "system");
  assert.equal(room.state, "invited");
  const removed = nextEvent(bob, "roomRemoved");
  await srv.api("DELETE", member, key);
  assert.equal((await removed).room, room);
  assert.equal(room.state, "left");
  assert.equal(bob.room(name), room, "still listed, as left");
  const again = nextEvent(bob, "roomAdded");
  await srv.api("PUT", member, key);
  assert.equal((await again).room, room);
  assert.deepEqual({ state: room.state, role: room.role }, { state: "invited", role: "member" });
});
