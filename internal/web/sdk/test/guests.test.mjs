// Guests are distinct identities: ?name= is only a display name, every
// connection by name is a new guest, and the guest_token of a welcome
// brings the same guest back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClosedError } from "../parley.js";
import { client, countingWebSocket, nextEvent, startProxy, startServer } from "./helpers.mjs";

test("two guests of one name are two users; a reconnect comes back as the same guest", async (t) => {
  const srv = await startServer(t, ["--guests"]);
  const proxy = await startProxy(t, srv.port);
  const ws = countingWebSocket();
  const ada = client(t, { url: proxy.ws, guest: "ada", WebSocket: ws.WebSocket, backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  const other = client(t, { url: srv.ws, guest: "ada" });
  const [w1, w2] = await Promise.all([ada.connect(), other.connect()]);
  assert.match(w1.user.id, /^guest:/);
  assert.notEqual(w1.user.id, w2.user.id, "the same name, two guests");
  assert.deepEqual([w1.user.name, w2.user.name], ["ada", "ada"]);
  assert.equal(ada.guestToken, w1.guest_token);
  assert.match(ws.urls[0], /[?&]name=ada/);

  proxy.cut();
  const { welcome } = await nextEvent(ada, "connected", { timeout: 5000 });
  assert.equal(welcome.user.id, w1.user.id, "the same guest after the reconnect");
  assert.equal(ws.dials, 2);
  assert.doesNotMatch(ws.urls[1], /name=/, "the reconnect is not by name");
  assert.deepEqual(ws.sent.filter((f) => f.type === "auth").map((f) => f.body.token), [w1.guest_token],
    "the reconnect authenticated with the guest token");
  assert.equal(ada.guestToken, welcome.guest_token, "the fresh guest token is kept");

  // A second tab, or the next page load, with the stored token.
  const tab = client(t, { url: srv.ws, guestToken: ada.guestToken });
  assert.equal((await tab.connect()).user.id, w1.user.id);
});

test("guest: true is a new guest with a random name", async (t) => {
  const srv = await startServer(t, ["--guests"]);
  const anon = client(t, { url: srv.ws, guest: true });
  const w = await anon.connect();
  assert.match(w.user.id, /^guest:/);
  assert.match(w.user.name, /^guest-/);
  assert.equal(w.user.guest, true);
});

test("a refused guest token falls back to a new guest by name, or closes without one", async (t) => {
  const srv = await startServer(t, ["--guests"]);
  const ws = countingWebSocket();
  const back = client(t, { url: srv.ws, guest: "ada", guestToken: "not-a-guest-token", WebSocket: ws.WebSocket, backoffMinMs: 50 });
  const refused = nextEvent(back, "disconnected");
  const w = await back.connect();
  assert.equal((await refused).code, 4001);
  assert.equal(w.user.name, "ada");
  assert.match(w.user.id, /^guest:/);
  assert.equal(back.guestToken, w.guest_token);
  assert.equal(ws.dials, 2);
  assert.match(ws.urls[1], /[?&]name=ada/);

  const ws2 = countingWebSocket();
  const stuck = client(t, { url: srv.ws, guestToken: "not-a-guest-token", WebSocket: ws2.WebSocket });
  await assert.rejects(stuck.connect(), (err) => err instanceof ClosedError && err.closeCode === 4001);
  assert.equal(ws2.dials, 1);
});
