// Notifications: subscriptions, live delivery to every device, the unread
// ones after a (re)connect, paging, and read state kept the same on every
// device. Published with an API key made by `parley apikey create`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { register, ServerError } from "../parley.js";
import { client, nextEvent, startProxy, startServer, unique, waitFor } from "./helpers.mjs";

async function publish(srv, key, body) {
  return (await srv.api("POST", "/api/v1/notifications", key, body)).body.id;
}

test("notifications reach every device once, with one unread count kept across devices and reconnects", async (t) => {
  const srv = await startServer(t, []);
  const proxy = await startProxy(t, srv.port);
  const key = await srv.apiKey(["publish"]);
  const a = await register(srv.http, { username: unique("alice"), password: "correct horse battery" });
  const phone = client(t, { url: proxy.ws, token: a.access_token, backoffMinMs: 50, handshakeTimeoutMs: 2000 });
  const desk = client(t, { url: srv.ws, token: a.access_token });
  await Promise.all([phone.connect(), desk.connect()]);
  const got = { phone: [], desk: [] };
  phone.on("notification", (n) => got.phone.push(n));
  desk.on("notification", (n) => got.desk.push(n));
  const counts = [];
  phone.on("notificationsUnread", (e) => counts.push(e.unread));

  assert.deepEqual(await phone.subscribe("orders.*"), { topic: "orders.*" });
  const n1 = await publish(srv, key, { topic: "orders.42", title: "Order 42 shipped", data: { order: 42 }, link: "https://shop.example.com/orders/42" });
  await waitFor(() => got.phone.length === 1 && got.desk.length === 1, { message: "the notification on both devices" });
  assert.deepEqual(got.phone[0], { id: n1, topic: "orders.42", title: "Order 42 shipped", data: { order: 42 }, link: "https://shop.example.com/orders/42", ts: got.phone[0].ts });
  assert.equal(phone.notificationsUnread, 1);
  assert.equal(desk.notificationsUnread, 1);

  // Read on the desk: the phone is told.
  const told = nextEvent(phone, "notificationsRead");
  assert.deepEqual(await desk.markNotificationsRead([n1]), { ids: [n1], unread: 0 });
  assert.deepEqual(await told, { ids: [n1], unread: 0 });
  assert.equal(phone.notificationsUnread, 0);
  assert.equal(desk.notificationsUnread, 0);

  // One to the user alone, live; then one while the phone is away.
  const n2 = await publish(srv, key, { user: a.user.id, title: "Welcome" });
  await waitFor(() => got.phone.length === 2, { message: "the second notification" });
  proxy.mode = "refuse";
  proxy.cut();
  await nextEvent(phone, "disconnected");
  const n3 = await publish(srv, key, { topic: "orders.7", title: "Order 7 shipped" });
  await waitFor(() => desk.notificationsUnread === 2, { message: "two unread on the desk" });
  const back = nextEvent(phone, "connected");
  proxy.mode = "pass";
  await back;
  await waitFor(() => phone.notificationsUnread === 2, { message: "two unread on the phone" });
  await waitFor(() => got.phone.length === 3, { message: "the missed notification" });
  assert.deepEqual(got.phone.map((n) => n.id), [n1, n2, n3], "each once, the missed one after the reconnect");

  // Everything read on the desk while the phone is away: the phone, which
  // hears no notifications frame on connecting, knows none are unread.
  proxy.mode = "refuse";
  proxy.cut();
  await nextEvent(phone, "disconnected");
  assert.deepEqual(await desk.markNotificationsRead("all"), { all: true, unread: 0 });
  const again = nextEvent(phone, "connected");
  proxy.mode = "pass";
  await again;
  await waitFor(() => phone.notificationsUnread === 0, { message: "no unread on the phone after the reconnect" });
  assert.deepEqual(counts, [1, 0, 1, 2, 0]);

  // A new device hears of the unread ones, oldest first.
  const n4 = await publish(srv, key, { user: a.user.id, title: "four" });
  const n5 = await publish(srv, key, { user: a.user.id, title: "five" });
  const tablet = client(t, { url: srv.ws, token: a.access_token });
  const onTablet = [];
  tablet.on("notification", (n) => onTablet.push(n.id));
  await tablet.connect();
  await waitFor(() => tablet.notificationsUnread === 2, { message: "two unread on the tablet" });
  assert.deepEqual(onTablet, [n4, n5]);

  // Paging: newest first, with read state.
  const page = await tablet.notifications({ limit: 3 });
  assert.deepEqual(page.notifications.map((n) => [n.id, !!n.read]), [[n5, false], [n4, false], [n3, true]]);
  assert.equal(page.unread, 2);
  const older = await tablet.notifications({ before: n3 });
  assert.deepEqual(older.notifications.map((n) => n.id), [n2, n1]);
  const unread = await tablet.notifications({ unread: true });
  assert.deepEqual(unread.notifications.map((n) => n.id), [n5, n4]);

  assert.deepEqual(await phone.unsubscribe("orders.*"), { topic: "orders.*" });
  await assert.rejects(phone.unsubscribe("orders.*"), (err) => err instanceof ServerError && err.code === "not_found");
});

test("guests have no notifications: forbidden", async (t) => {
  const srv = await startServer(t, ["--guests"]);
  const guest = client(t, { url: srv.ws, guest: "ada" });
  await guest.connect();
  await assert.rejects(guest.subscribe("orders.*"), (err) => err instanceof ServerError && err.code === "forbidden");
  await assert.rejects(guest.notifications(), (err) => err instanceof ServerError && err.code === "forbidden");
  await assert.rejects(guest.markNotificationsRead("all"), (err) => err instanceof ServerError && err.code === "forbidden");
});
