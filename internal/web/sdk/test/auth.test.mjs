// Tokens: renewal before expiry, getToken after 4001/4002, and stopping
// when there is no way to get a good token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClosedError, HttpError, register, tokenRefresher } from "../parley.js";
import { client, countingWebSocket, hs256Issuer, nextEvent, startServer, unique, waitFor } from "./helpers.mjs";

test("a session is renewed with auth frames before its token expires, on one connection", async (t) => {
  const jwt = hs256Issuer(t);
  const srv = await startServer(t, jwt.flags);
  let calls = 0;
  const c = client(t, {
    url: srv.ws,
    token: jwt.sign("ext-renew", 3),
    getToken: () => { calls++; return jwt.sign("ext-renew", 3); },
  });
  const lost = [];
  c.on("disconnected", (d) => lost.push(d));
  const welcome = await c.connect();
  const firstExpiry = Date.parse(welcome.expires_at);
  const renewals = [];
  c.on("token", (e) => renewals.push(e));
  // Past the first token's expiry, where the server would close with 4002.
  await waitFor(() => Date.now() > firstExpiry + 500 && renewals.length >= 2, { timeout: 15000, message: "two renewals past the first expiry" });
  assert.deepEqual(lost, [], "never disconnected");
  assert.equal(c.welcome.session, welcome.session, "the same connection");
  assert.ok(calls >= 2);
  assert.ok(Date.parse(renewals.at(-1).expiresAt) > firstExpiry);
  assert.equal(await c.ping() >= 0, true);
});

test("a rejected token (4001) is replaced by getToken and the client reconnects", async (t) => {
  const jwt = hs256Issuer(t);
  const srv = await startServer(t, jwt.flags);
  const ws = countingWebSocket();
  let calls = 0;
  const c = client(t, {
    url: srv.ws, WebSocket: ws.WebSocket, token: "not-a-token",
    getToken: () => { calls++; return jwt.sign("ext-4001", 60); },
  });
  const lost = nextEvent(c, "disconnected");
  const welcome = await c.connect();
  assert.equal((await lost).code, 4001);
  assert.equal(welcome.user.id, "ext-4001");
  assert.equal(calls, 1);
  assert.equal(ws.dials, 2);
});

test("an expired session (4002) gets a fresh token and comes back", async (t) => {
  const jwt = hs256Issuer(t);
  const srv = await startServer(t, jwt.flags);
  let failing = true; // renewal fails until the server has closed with 4002
  const c = client(t, {
    url: srv.ws, token: jwt.sign("ext-4002", 2),
    getToken: () => {
      if (failing) throw new Error("offline");
      return jwt.sign("ext-4002", 60);
    },
  });
  c.on("disconnected", (d) => { if (d.code === 4002) failing = false; });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const first = await c.connect();
  const back = nextEvent(c, "connected", { timeout: 15000 });
  const { welcome } = await back;
  assert.notEqual(welcome.session, first.session);
  assert.equal(welcome.user.id, "ext-4002");
  assert.ok(errors.some((e) => e.message === "offline"), "the failed renewal was reported");
  assert.ok(Date.parse(welcome.expires_at) - Date.now() > 30000, "the new token is the fresh one");
});

test("4001 without getToken stops the client: no retry", async (t) => {
  const jwt = hs256Issuer(t);
  const srv = await startServer(t, jwt.flags);
  const ws = countingWebSocket();
  const c = client(t, { url: srv.ws, WebSocket: ws.WebSocket, token: "not-a-token" });
  const closed = nextEvent(c, "closed");
  await assert.rejects(c.connect(), (err) => err instanceof ClosedError && err.closeCode === 4001);
  assert.equal((await closed).error.closeCode, 4001);
  assert.equal(c.state, "closed");
  assert.equal(ws.dials, 1);
  await assert.rejects(c.join("x"), ClosedError);
});

test("accounts: tokenRefresher renews; after sign-out the refresh fails and the client stops", async (t) => {
  const srv = await startServer(t, ["--guests"]);
  const name = unique("acct");
  const tokens = await register(srv.http, { username: name, password: "correct horse battery" });
  const refreshed = [];
  const c = client(t, {
    url: srv.ws, token: "expired-or-bad",
    getToken: tokenRefresher(srv.http, tokens, (t2) => refreshed.push(t2)),
  });
  const welcome = await c.connect();
  assert.equal(welcome.user.id, tokens.user.id);
  assert.equal(refreshed.length, 1);
  // Lookup over the HTTP API with the client's current token.
  const me = await c.lookupUser(name.toUpperCase());
  assert.equal(me.id, tokens.user.id);
  await assert.rejects(c.lookupUser("nobody-here"), (e) => e instanceof HttpError && e.status === 404 && e.code === "not_found");

  // Sign out: the server closes the socket with 4001, the refresh token
  // is dead too, so getToken fails with a 401 and the client stops.
  const closed = nextEvent(c, "closed");
  const res = await fetch(srv.http + "/api/v1/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + refreshed[0].access_token } });
  assert.equal(res.status, 204);
  const { error } = await closed;
  assert.ok(error instanceof ClosedError);
  assert.equal(error.closeCode, 4001);
  assert.match(error.message, /getToken failed/);
  assert.equal(c.state, "closed");
});
