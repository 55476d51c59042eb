// The real server is stopped (SIGTERM: close 1012) and restarted on the
// same port and data directory in the middle of a conversation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { client, nextEvent, startServer, unique, waitFor, within } from "./helpers.mjs";

const FLAGS = ["--guests", "--rate-messages", "1000", "--rate-burst", "1000"];

/** Asserts that msgs hold seqs 1..n once each, in order, and the expected texts. */
function assertExactlyOnce(msgs, texts, who) {
  assert.deepEqual(msgs.map((m) => m.seq), texts.map((_, i) => i + 1), `${who}: seqs in order, no gap, no repeat`);
  assert.deepEqual(msgs.map((m) => m.text).sort(), [...texts].sort(), `${who}: every message once`);
}

test("a restart mid-conversation loses nothing, repeats nothing and delivers the outbox once", async (t) => {
  const srv = await startServer(t, FLAGS);
  const alice = client(t, { url: srv.ws, guest: "alice" });
  const bob = client(t, { url: srv.ws, guest: "bob" });
  await Promise.all([alice.connect(), bob.connect()]);
  const ids = [alice.welcome.user.id, bob.welcome.user.id];
  const name = unique("restart");
  const [ra, rb] = await Promise.all([alice.join(name), bob.join(name)]);
  const seenA = [];
  const seenB = [];
  ra.on("message", (m) => seenA.push(m));
  rb.on("message", (m) => seenB.push(m));

  const texts = [];
  for (let i = 0; i < 4; i++) {
    texts.push(`a${i}`, `b${i}`);
    await ra.send(`a${i}`);
    await rb.send(`b${i}`);
  }
  await waitFor(() => seenA.length === 8 && seenB.length === 8, { message: "the first 8 messages on both sides" });

  const lostA = nextEvent(alice, "disconnected");
  const lostB = nextEvent(bob, "disconnected");
  await srv.stop();
  assert.equal((await lostA).code, 1012);
  assert.equal((await lostB).code, 1012);
  assert.equal(alice.state, "reconnecting");

  // Sends while the server is down wait in the outbox.
  const down = [ra.send("a-down-1"), ra.send("a-down-2"), rb.send("b-down-1")];
  texts.push("a-down-1", "a-down-2", "b-down-1");
  assert.deepEqual(alice.outbox.map((e) => e.text), ["a-down-1", "a-down-2"]);

  await srv.restart();
  const acks = await within(30000, Promise.all(down), "the outbox to be acknowledged");
  assert.ok(acks.every((a) => a.seq > 8), "queued sends stored after the first 8");
  assert.equal(alice.outbox.length, 0);
  assert.equal(alice.state, "connected");
  assert.deepEqual([alice.welcome.user.id, bob.welcome.user.id], ids, "guests came back as themselves");

  texts.push("a-after", "b-after");
  await ra.send("a-after");
  await rb.send("b-after");
  await waitFor(() => seenA.length >= 13 && seenB.length >= 13, { message: "13 messages on both sides" });

  assertExactlyOnce(seenA, texts, "alice");
  assertExactlyOnce(seenB, texts, "bob");
  const stored = await ra.history({ after: 0, limit: 100 });
  assertExactlyOnce(stored, texts, "the server's history");
  assert.equal(ra.lastSeq, 13);
  assert.equal(rb.lastSeq, 13);
});

test("a client that missed messages during a restart recovers them on re-join (measured)", async (t) => {
  const srv = await startServer(t, FLAGS);
  const name = unique("recover");
  const rounds = Number(process.env.PARLEY_TEST_RESTART_ROUNDS || 3);
  const fromReady = [];
  const fromStop = [];
  let base = 0;
  for (let r = 0; r < rounds; r++) {
    // A client that has been up a while: its backoff starts from the
    // beginning (a reconnect that follows another within a minute waits
    // longer, as PROTOCOL.md asks).
    const alice = client(t, { url: srv.ws, guest: "alice" });
    await alice.connect();
    const room = await alice.join(name);
    const seen = [];
    room.on("message", (m) => seen.push(m));
    const lost = nextEvent(alice, "disconnected");
    const t0 = performance.now();
    await srv.stop();
    await lost;
    // Listen before the server is back: alice may re-join and sync before
    // carol below has even connected.
    const synced = nextEvent(alice, "synced", { timeout: 30000 });
    await srv.restart();
    const ready = performance.now();
    // Another client writes as soon as the server is back, racing alice's
    // reconnect: she gets these by replay or live, once either way.
    const carol = client(t, { url: srv.ws, guest: "carol" });
    await carol.connect();
    const rc = await carol.join(name);
    for (let i = 0; i < 5; i++) await rc.send(`r${r}-${i}`);
    carol.close();
    await synced;
    await waitFor(() => seen.length === 5, { message: "the 5 messages of the round" });
    const done = performance.now();
    fromReady.push(done - ready);
    fromStop.push(done - t0);
    assert.deepEqual(seen.map((m) => m.seq), [1, 2, 3, 4, 5].map((i) => base + i), "no gap, no repeat");
    base += 5;
    alice.close();
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(", ");
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const line = `SDK recover after restart over ${rounds} rounds: from server ready ms [${fmt(fromReady)}] median ${median(fromReady).toFixed(0)} max ${Math.max(...fromReady).toFixed(0)}; from SIGTERM ms [${fmt(fromStop)}] median ${median(fromStop).toFixed(0)}`;
  t.diagnostic(line);
  if (process.env.PARLEY_TEST_REPORT) console.log(line);
});
