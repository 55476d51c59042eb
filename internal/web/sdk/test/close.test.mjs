// Close codes that mean "do not retry" (PROTOCOL.md: 1000, 1003, 1007,
// 1009, 4003, 4009): the client stops at once, with the code, and dials no
// more. 1000 comes only when the client asked, and 1007 cannot be provoked
// through a WebSocket API, which sends only valid UTF-8.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClosedError, ParleyError, register } from "../parley.js";
import { client, countingWebSocket, hs256Issuer, nextEvent, startServer, unique } from "./helpers.mjs";

async function expectStop(t, c, ws, code) {
  const { error } = await nextEvent(c, "closed");
  assert.ok(error instanceof ClosedError);
  assert.equal(error.closeCode, code);
  assert.equal(c.state, "closed");
  assert.equal(ws.dials, 1, "no retry");
  return error;
}

test("4009 (too many connections) stops without a retry", async (t) => {
  const jwt = hs256Issuer(t);
  const srv = await startServer(t, [...jwt.flags, "--max-conns-per-user", "1"]);
  const first = client(t, { url: srv.ws, token: jwt.sign("ext-4009", 60) });
  await first.connect();
  const ws = countingWebSocket();
  const second = client(t, { url: srv.ws, token: jwt.sign("ext-4009", 60), WebSocket: ws.WebSocket });
  const stopped = expectStop(t, second, ws, 4009);
  second.connect().catch(() => {});
  await stopped;
  assert.equal(first.state, "connected");
});

// 4003: an administrator ended the user's sessions, or disabled the
// account. The client must not come back on its own, even when it could
// get a fresh token.
for (const [what, reason, act] of [
  ["an administrator's disconnect", "account suspended", (srv, admin, user) =>
    srv.api("DELETE", `/api/v1/connections/${encodeURIComponent(user.user.id)}`, admin.access_token, { reason: "account suspended" })],
  ["disabling the account", "", (srv, admin, user) =>
    srv.api("POST", `/api/v1/users/${user.user.username}/disable`, admin.access_token)],
]) {
  test(`4003 (${what}) stops without a retry`, async (t) => {
    const srv = await startServer(t, []);
    const admin = await srv.admin();
    const user = await register(srv.http, { username: unique("bob"), password: "correct horse battery" });
    const ws = countingWebSocket();
    let tokens = 0;
    const c = client(t, {
      url: srv.ws, token: user.access_token, WebSocket: ws.WebSocket, backoffMinMs: 10,
      getToken: () => { tokens++; return user.access_token; },
    });
    await c.connect();
    const room = await c.join(unique("r"));
    const stopped = expectStop(t, c, ws, 4003);
    await act(srv, admin, user);
    const error = await stopped;
    if (reason) assert.equal(error.reason, reason);
    assert.equal(tokens, 0, "no fresh token asked for");
    await assert.rejects(room.send("too late"), (err) => err instanceof ClosedError && err.closeCode === 4003);
  });
}

for (const [code, what, frame] of [
  [1003, "a binary frame", () => new Uint8Array([1, 2, 3])],
  [1009, "a frame over max_frame_bytes", () => JSON.stringify({ type: "ping", pad: "x".repeat(70000) })],
]) {
  test(`${code} (${what}) stops without a retry`, async (t) => {
    const srv = await startServer(t, ["--guests"]);
    const ws = countingWebSocket();
    const c = client(t, { url: srv.ws, guest: "raw", WebSocket: ws.WebSocket });
    await c.connect();
    const stopped = expectStop(t, c, ws, code);
    ws.last.send(frame()); // what the SDK never sends by itself
    await stopped;
  });
}

test("a frame over max_frame_bytes is refused locally and the session stays up", async (t) => {
  const srv = await startServer(t, ["--guests"]);
  const c = client(t, { url: srv.ws, guest: "big" });
  await c.connect();
  const room = await c.join(unique("big"));
  await assert.rejects(c.request("history", { room: room.name, pad: "x".repeat(70000) }),
    (err) => err instanceof ParleyError && err.code === "too_large");
  assert.equal(c.state, "connected");
  assert.ok((await room.send("still fine")).seq > 0);
});
