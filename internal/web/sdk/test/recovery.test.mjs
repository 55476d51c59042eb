// Recovery after a lost connection, through a proxy that can cut a
// connection without a close frame (1006), refuse new ones while others
// write, or silence the server (a dead network that only heartbeats find).
import assert from "node:assert/strict";
import { test } from "node:test";
import { client, nextEvent, startProxy, startServer, unique, waitFor } from "./helpers.mjs";

const FLAGS = ["--guests", "--rate-messages", "1000", "--rate-burst", "1000"];

async function pair(t, srv, proxy) {
  const alice = client(t, { url: proxy.ws, guest: "alice", backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  const bob = client(t, { url: srv.ws, guest: "bob" });
  await Promise.all([alice.connect(), bob.connect()]);
  const name = unique("room");
  const ra = await alice.join(name);
  const rb = await bob.join(name);
  const seen = [];
  ra.on("message", (m) => seen.push(m));
  return { alice, bob, ra, rb, seen };
}

test("a cut connection is re-joined with since: the missed messages once, in order", async (t) => {
  const srv = await startServer(t, FLAGS);
  const proxy = await startProxy(t, srv.port);
  const { alice, bob, ra, rb, seen } = await pair(t, srv, proxy);
  for (let i = 1; i <= 3; i++) await rb.send(`before ${i}`);
  await waitFor(() => seen.length === 3, { message: "3 messages" });

  proxy.mode = "refuse";
  const lost = nextEvent(alice, "disconnected");
  proxy.cut();
  assert.equal((await lost).code, 1006);
  await waitFor(() => rb.members.size === 1, { message: "bob to see alice leave" });
  for (let i = 1; i <= 10; i++) await rb.send(`missed ${i}`);
  const carol = client(t, { url: srv.ws, guest: "carol" }); // arrives while alice is away
  await carol.connect();
  await carol.join(ra.name);
  const joined = nextEvent(ra, "joined");
  const synced = nextEvent(alice, "synced");
  proxy.mode = "pass";
  const j = await joined;
  await synced;
  assert.equal(j.rejoin, true);
  assert.equal(j.joined.recovered, true);
  assert.equal(j.joined.replayed, 10);
  assert.deepEqual([...ra.members.keys()].sort(), [alice.welcome.user.id, bob.welcome.user.id, carol.welcome.user.id].sort(),
    "members rebuilt from the new joined");

  await rb.send("after");
  await waitFor(() => seen.length === 14, { message: "14 messages" });
  assert.deepEqual(seen.map((m) => m.seq), Array.from({ length: 14 }, (_, i) => i + 1));
  assert.deepEqual(seen.slice(3, 13).map((m) => m.text), Array.from({ length: 10 }, (_, i) => `missed ${i + 1}`));
});

test("a replay that repeats what was delivered is dropped: nothing twice", async (t) => {
  const srv = await startServer(t, FLAGS);
  const proxy = await startProxy(t, srv.port);
  const { alice, ra, rb, seen } = await pair(t, srv, proxy);
  const all = [];
  alice.on("message", (m) => all.push(m));
  for (let i = 1; i <= 5; i++) await rb.send(`m${i}`);
  await waitFor(() => seen.length === 5, { message: "5 messages" });
  const again = await alice.join(ra.name, { since: 0 }); // the server replays 1..5 again
  assert.equal(again, ra, "the same Room object");
  assert.equal(ra.lastSeq, 5);
  await rb.send("m6");
  await waitFor(() => seen.length >= 6, { message: "the sixth message" });
  assert.deepEqual(seen.map((m) => m.text), ["m1", "m2", "m3", "m4", "m5", "m6"]);
  assert.deepEqual(all.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
});

test("a gap beyond the recovery window is paged from history, then live traffic, in order", async (t) => {
  const srv = await startServer(t, [...FLAGS, "--recovery-window", "5"]);
  const proxy = await startProxy(t, srv.port);
  const alice = client(t, { url: proxy.ws, guest: "alice", backoffMinMs: 50, handshakeTimeoutMs: 2000, recoveryPageSize: 7 });
  const bob = client(t, { url: srv.ws, guest: "bob" });
  await Promise.all([alice.connect(), bob.connect()]);
  const name = unique("paged");
  const ra = await alice.join(name);
  const rb = await bob.join(name);
  const seen = [];
  ra.on("message", (m) => seen.push(m));
  await rb.send("first");
  await waitFor(() => seen.length === 1, { message: "the first message" });

  proxy.mode = "refuse";
  proxy.cut();
  await nextEvent(alice, "disconnected");
  for (let i = 1; i <= 20; i++) await rb.send(`missed ${i}`);
  const gap = nextEvent(alice, "gap");
  const synced = nextEvent(alice, "synced");
  proxy.mode = "pass";
  // Live traffic keeps coming while alice pages: it must follow the hole.
  const live = (async () => {
    await nextEvent(ra, "joined");
    for (let i = 1; i <= 10; i++) await rb.send(`live ${i}`);
  })();
  const g = await gap;
  assert.deepEqual({ since: g.since, lastSeq: g.lastSeq }, { since: 1, lastSeq: 21 });
  await synced;
  await live;
  await waitFor(() => seen.length === 31, { message: "31 messages" });
  assert.deepEqual(seen.map((m) => m.seq), Array.from({ length: 31 }, (_, i) => i + 1), "no gap, no repeat, in order");
  assert.equal(seen[1].text, "missed 1");
  assert.equal(seen[30].text, "live 10");
  assert.equal(ra.lastSeq, 31);
});

test("a silent connection is found dead by heartbeat and replaced", async (t) => {
  const srv = await startServer(t, [...FLAGS, "--heartbeat-interval", "200ms", "--heartbeat-timeout", "300ms"]);
  const proxy = await startProxy(t, srv.port);
  const { alice, rb, seen } = await pair(t, srv, proxy);
  assert.equal(alice.welcome.timeout_ms, 500);

  proxy.mode = "mute"; // the server still hears alice, alice hears nothing
  const started = Date.now();
  const lost = await nextEvent(alice, "disconnected", { timeout: 5000 });
  const took = Date.now() - started;
  proxy.mode = "pass";
  assert.equal(lost.code, 1006);
  assert.match(lost.reason, /nothing from the server/);
  assert.ok(took >= 250 && took < 2000, `dead after ${took} ms; want about timeout_ms (500 ms)`);
  await nextEvent(alice, "synced");
  await rb.send("still here");
  await waitFor(() => seen.length === 1, { message: "the message after the reconnect" });
});
