// Parley JavaScript SDK: one dependency-free ES module for browsers and
// Node.js 22+ (any runtime with a global WebSocket, or one passed in).
// Served by the Parley binary at /sdk/parley.js, declared in parley.d.ts,
// documented in docs/SDK.md. It implements the "Writing a client" checklist
// of docs/PROTOCOL.md:
//
//   const client = new ParleyClient({ url: "wss://chat.example.com/ws", guest: "ada" });
//   client.on("message", (m) => console.log(`${m.from.name}: ${m.text}`));
//   await client.connect();
//   const lobby = await client.join("lobby");
//   await lobby.send("hello");           // resolves on the server's ack
//
// The client is a state machine: disconnected → connecting → connected,
// then reconnecting ⇄ connected after each lost connection, and closed when
// close() is called or the server says not to come back (close codes 1000,
// 1003, 1007, 1009, 4003, 4009; 4001/4002 without getToken). Every frame of a
// room is delivered once and in order across reconnects: rooms are re-joined
// with since, a gap the server cannot replay is paged from history, and
// duplicates are dropped by seq and by message id. Sends wait in an outbox
// until acknowledged and are resent with the same client_id, so the server
// stores each once.

const SUBPROTOCOL = "parley.v1";
/**
 * Close codes after which the client must not come back on its own: the
 * "fix the client" codes (1003, 1007, 1009), a normal closure (1000), an
 * administrator's disconnect or a disabled account (4003), and too many
 * connections (4009). PROTOCOL.md, "Close codes".
 */
const STOP_CODES = new Set([1000, 1003, 1007, 1009, 4003, 4009]);
/** Close codes that call for a fresh token before reconnecting. */
const REAUTH_CODES = new Set([4001, 4002]);
/** Events held above a gap before the gap is given up on. */
const MAX_HELD = 4096;
/** Message ids remembered per room for deduplication. */
const MAX_IDS = 2000;

const DEFAULTS = {
  requestTimeoutMs: 10000,
  sendTimeoutMs: 0,
  handshakeTimeoutMs: 10000,
  backoffMinMs: 500,
  backoffMaxMs: 30000,
  stableAfterMs: 60000,
  renewBeforeMs: 60000,
  readDelayMs: 1000,
  recoveryPageSize: 500,
  recoveryMaxMessages: 10000,
};

/** Full jitter: a random delay in [0, min(maxMs, minMs × 2^attempt)]. */
// restartWait is the wait a draining server gives in its 1012 close
// reason ("server restarting; reconnect after N ms", spread per client so
// they do not all come back at once), or undefined for the usual backoff.
function restartWait(code, reason, maxMs) {
  if (code !== 1012) return undefined;
  const m = /^server restarting; reconnect after (\d+) ms$/.exec(reason ?? "");
  return m ? Math.min(Number(m[1]), maxMs) : undefined;
}

function backoff(attempt, minMs, maxMs) {
  return Math.floor(Math.random() * Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30)));
}

function randomHex(bytes) {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function byteLength(s) {
  return s.length * 3 <= 65536 ? s.length * 3 : new TextEncoder().encode(s).length;
}

/** The http(s) origin of a ws(s) or http(s) URL. */
function httpBase(url) {
  const u = new URL(url);
  u.protocol = u.protocol === "wss:" ? "https:" : u.protocol === "ws:" ? "http:" : u.protocol;
  return u.origin;
}

// ───────────────────────────── Errors ─────────────────────────────

/** Base class of every error the SDK produces; `code` says what happened. */
export class ParleyError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (extra) Object.assign(this, extra);
  }
}

/** An `error` frame from the server; `code` is its stable error code. */
export class ServerError extends ParleyError {
  constructor(body = {}) {
    super(body.code ?? "internal", body.message ?? "", { retryAfterMs: body.retry_after_ms ?? 0 });
  }
}

/** A request got no reply within its timeout (code "timeout"). */
export class TimeoutError extends ParleyError {
  constructor(type, ms) {
    super("timeout", `no reply to ${type} within ${ms} ms`);
  }
}

/** The connection ended before a request's reply came (code "disconnected"); it may or may not have taken effect. */
export class DisconnectedError extends ParleyError {
  constructor(type) {
    super("disconnected", `the connection was lost before the reply to ${type}`);
  }
}

/** The client stopped for good (code "closed"); `closeCode` and `reason` are the server's close, if it closed. */
export class ClosedError extends ParleyError {
  constructor(message, closeCode = 0, reason = "") {
    super("closed", message, { closeCode, reason });
  }
}

/** A failed HTTP API request; `code` is the API's error code, `status` the HTTP status. */
export class HttpError extends ParleyError {
  constructor(status, error = {}) {
    super(error.code ?? "http_" + status, error.message ?? `HTTP ${status}`,
      { status, retryAfterMs: error.retry_after_ms ?? 0 });
  }
}

// ───────────────────────────── Events ─────────────────────────────

/** A minimal event emitter: on() returns a function that unsubscribes. */
class Emitter {
  #handlers = new Map();

  /** Calls fn with every event of this name; returns a function that stops it. */
  on(event, fn) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, new Set());
    this.#handlers.get(event).add(fn);
    return () => this.off(event, fn);
  }

  /** Stops calling fn for this event. */
  off(event, fn) {
    this.#handlers.get(event)?.delete(fn);
  }

  /** Calls fn with the next event of this name only. */
  once(event, fn) {
    const off = this.on(event, (payload) => {
      off();
      fn(payload);
    });
    return off;
  }

  // A throwing handler must not break the client's state: its error is
  // rethrown on its own task, where the runtime reports it.
  _emit(event, payload) {
    const set = this.#handlers.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        setTimeout(() => { throw err; });
      }
    }
  }
}

// ───────────────────────────── HTTP API ─────────────────────────────

async function api(base, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(httpBase(base) + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new HttpError(res.status, data?.error);
  return data;
}

/** Creates an account (POST /api/v1/auth/register); resolves with the token response. */
export function register(baseUrl, { username, password, displayName }) {
  const body = { username, password };
  if (displayName) body.display_name = displayName;
  return api(baseUrl, "POST", "/api/v1/auth/register", { body });
}

/** Signs in (POST /api/v1/auth/login); resolves with the token response. */
export function login(baseUrl, { username, password }) {
  return api(baseUrl, "POST", "/api/v1/auth/login", { body: { username, password } });
}

/** Trades a refresh token for a new token pair (POST /api/v1/auth/refresh). */
export function refresh(baseUrl, refreshToken) {
  return api(baseUrl, "POST", "/api/v1/auth/refresh", { body: { refresh_token: refreshToken } });
}

/**
 * Returns a getToken function for ParleyClient that refreshes an account's
 * tokens. Refresh tokens rotate, so calls that overlap share one refresh;
 * onTokens receives every new token response, for storing.
 */
export function tokenRefresher(baseUrl, tokens, onTokens) {
  let current = tokens;
  let inflight = null;
  return () => {
    inflight ??= refresh(baseUrl, current.refresh_token).then((t) => {
      current = t;
      onTokens?.(t);
      return t.access_token;
    }).finally(() => { inflight = null; });
    return inflight;
  };
}

// ───────────────────────── Sequence tracking ─────────────────────────

// A Tracker delivers a room's (or conversation's) stored events once and
// in seq order. last is the highest seq up to which everything was
// delivered; events above a gap wait in held until it is filled.
class Tracker {
  constructor(last) {
    this.last = last;
    this.held = new Map(); // seq → deliver()
    this.ids = new Set();
    this.idq = [];
    this.filling = false; // a re-join or history catch-up is on its way
  }

  seen(seq, id) {
    return seq <= this.last || this.held.has(seq) || (id != null && this.ids.has(id));
  }

  remember(id) {
    if (id == null) return;
    this.ids.add(id);
    this.idq.push(id);
    if (this.idq.length > MAX_IDS) this.ids.delete(this.idq.shift());
  }

  // offer delivers the event now or holds it; it returns true when the
  // event left a gap below it.
  offer(seq, id, deliver) {
    if (this.seen(seq, id)) return false;
    this.remember(id);
    if (seq !== this.last + 1) {
      this.held.set(seq, deliver);
      return true;
    }
    this.last = seq;
    deliver();
    this.flush();
    return false;
  }

  flush() {
    for (let f; (f = this.held.get(this.last + 1));) {
      this.held.delete(++this.last);
      f();
    }
  }

  // skipTo delivers, in order, what is held up to seq, and gives up on
  // what is missing there.
  skipTo(seq) {
    for (const s of [...this.held.keys()].sort((a, b) => a - b)) {
      if (s > seq) break;
      const f = this.held.get(s);
      this.held.delete(s);
      this.last = Math.max(this.last, s);
      f();
    }
    if (seq > this.last) this.last = seq;
    this.flush();
  }
}

// ───────────────────────────── Client ─────────────────────────────

/**
 * One Parley session over one WebSocket, for all rooms, re-established
 * across disconnects. See docs/SDK.md for options, events and guarantees.
 */
export class ParleyClient extends Emitter {
  constructor(options) {
    super();
    if (!options?.url) throw new TypeError("ParleyClient: options.url is required");
    if (!options.token && !options.getToken && options.guest == null && !options.guestToken) {
      throw new TypeError("ParleyClient: give token, getToken, guest or guestToken");
    }
    this.options = { ...DEFAULTS, ...options };
    this._WS = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this._WS !== "function") {
      throw new TypeError("ParleyClient: no WebSocket here; pass options.WebSocket (Node 20: --experimental-websocket)");
    }
    /** @type {"disconnected"|"connecting"|"connected"|"reconnecting"|"closed"} */
    this.state = "disconnected";
    /** The welcome of the current (or last) connection. */
    this.welcome = null;
    /** A guest's token: store it to come back as the same guest. */
    this.guestToken = options.guestToken ?? null;
    /** Unread state by room key, from the server's unread frame onwards. */
    this.unread = new Map();
    /** Rooms by normalised key: joined, invited (added by someone else) or left. */
    this.rooms = new Map();
    /** How many of your notifications are unread, as the server last counted them. */
    this.notificationsUnread = 0;
    this._notified = new Set(); // notification ids already emitted or paged
    this._notifiedQ = [];
    this._token = options.token ?? null;
    this._tokenStale = false;
    this._expiresAt = 0;
    this._gen = 0;
    this._conn = null;
    this._attempt = 0;
    this._everConnected = false;
    this._closeError = null;
    this._waiters = [];
    this._pending = new Map(); // frame id → entry, in creation order
    this._byCid = new Map(); // client_id → outbox entry
    this._nextId = 0;
    this._nextCid = 0;
    this._cidPrefix = randomHex(6);
    this._convs = new Map(); // conversation key → { key, _t }
    this._reads = new Map(); // room key → read-marker batch
    this._retryTimer = null;
    this._renewTimer = null;
    this._syncing = 0;
  }

  // ── State machine ──

  /**
   * Opens the session (from disconnected or closed) and resolves with the
   * welcome of the first connection. Transient failures are retried with
   * backoff; it rejects with a ClosedError if the client stops first.
   */
  connect() {
    if (this.state === "connected") return Promise.resolve(this.welcome);
    const p = new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
    if (this.state === "disconnected" || this.state === "closed") {
      this._closeError = null;
      this._attempt = 0;
      this._setState("connecting");
      this._dial();
    }
    return p;
  }

  /** Ends the session with a normal closure; waiting requests and sends reject with a ClosedError. */
  close() {
    if (this.state === "closed" || this.state === "disconnected") return;
    this._stop(null);
  }

  _setState(state) {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    this._emit("state", { state, previous });
  }

  async _dial() {
    const gen = ++this._gen;
    const o = this.options;
    const expired = this._expiresAt && Date.now() > this._expiresAt - 5000;
    if (o.getToken && (!this._token || this._tokenStale || expired)) {
      let token;
      try {
        token = await o.getToken();
      } catch (err) {
        if (gen !== this._gen) return;
        if (err instanceof HttpError && err.status >= 400 && err.status < 500 && err.status !== 429) {
          return this._stop(new ClosedError("getToken failed: " + err.message, 4001));
        }
        this._emit("error", err);
        return this._retry(1006, "getToken failed");
      }
      if (gen !== this._gen) return;
      if (!token) return this._stop(new ClosedError("getToken gave no token", 4001));
      this._token = token;
      this._tokenStale = false;
      this._expiresAt = 0;
    }
    let url = o.url;
    let auth = this._token;
    const usedGuestToken = !auth && !!this.guestToken;
    if (usedGuestToken) auth = this.guestToken;
    if (!auth) {
      const u = new URL(url);
      if (o.guest === true || o.guest === "") u.searchParams.set("guest", "");
      else u.searchParams.set("name", o.guest);
      url = u.toString();
    }
    let ws;
    try {
      ws = new this._WS(url, SUBPROTOCOL);
    } catch (err) {
      return this._stop(new ClosedError("cannot open a WebSocket: " + err.message));
    }
    const c = { ws, gen, welcome: null, usedGuestToken, lastRecv: 0, pingAt: 0, hbTimer: null, wq: [], wqTimer: null };
    this._conn = c;
    c.hsTimer = setTimeout(() => this._lost(c, 1006, "no welcome within the handshake timeout"), o.handshakeTimeoutMs);
    ws.onopen = () => {
      c.opened = true;
      if (auth) ws.send(JSON.stringify({ type: "auth", body: { token: auth } }));
    };
    ws.onmessage = (ev) => this._onData(c, ev.data);
    ws.onclose = (ev) => this._lost(c, ev.code, ev.reason);
    // A close event follows an error, except for a failed opening in some
    // runtimes (Node 20's WebSocket); the handshake timer covers one that
    // fires neither.
    ws.onerror = () => c.opened || this._lost(c, 1006, "could not connect");
  }

  _detach(c, code, reason) {
    clearTimeout(c.hsTimer);
    clearTimeout(c.hbTimer);
    clearTimeout(c.wqTimer);
    const ws = c.ws;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      if (ws.readyState < 2) ws.close(code, reason);
    } catch { /* already closing */ }
  }

  // _lost handles the end of connection c: requests that cannot outlive it
  // fail, and the close code decides between reconnecting and stopping.
  _lost(c, code, reason = "") {
    if (this._conn !== c) return;
    this._conn = null;
    this._detach(c, 4000, "abandoned");
    this._dropConnection();
    if (code === 4001 && c.usedGuestToken && !c.welcome && this.options.guest != null) {
      this.guestToken = null; // refused: come back by name, as a new guest
      return this._retry(code, reason);
    }
    if (STOP_CODES.has(code) || (REAUTH_CODES.has(code) && !this.options.getToken)) {
      return this._stop(new ClosedError(`the server closed the connection with ${code}: ${reason}`, code, reason));
    }
    if (REAUTH_CODES.has(code)) this._tokenStale = true;
    if (c.welcome && Date.now() - c.welcomedAt >= this.options.stableAfterMs) this._attempt = 0;
    if (code === 1008) this._attempt = Math.max(this._attempt, 10); // persistent abuse: back off long
    this._retry(code, reason, code === 4002 ? 0 : restartWait(code, reason, this.options.backoffMaxMs));
  }

  _retry(code, reason, delayMs) {
    const o = this.options;
    const delay = delayMs ?? backoff(this._attempt++, o.backoffMinMs, o.backoffMaxMs);
    this._setState(this._everConnected ? "reconnecting" : "connecting");
    this._emit("disconnected", { code, reason, willRetry: true, delayMs: delay });
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => this._dial(), delay);
  }

  // _dropConnection fails what cannot outlive a connection: requests already
  // written on it and internal tasks. Sends stay in the outbox; requests not
  // yet written wait for the next connection.
  _dropConnection() {
    clearTimeout(this._renewTimer);
    for (const e of [...this._pending.values()]) {
      if (e.kind === "internal" || (e.kind === "request" && e.sentOn > 0)) this._finish(e, new DisconnectedError(e.type));
      else e.sentOn = 0;
    }
    for (const room of this.rooms.values()) {
      room.typingUsers.clear();
      if (room._t) room._t.filling = false;
    }
    for (const conv of this._convs.values()) conv._t.filling = false;
  }

  _stop(err) {
    clearTimeout(this._retryTimer);
    clearTimeout(this._renewTimer);
    this._gen++;
    if (this._conn) this._detach(this._conn, 1000, "");
    this._conn = null;
    this._closeError = err;
    const why = err ?? new ClosedError("the client was closed");
    for (const e of [...this._pending.values()]) this._finish(e, why);
    for (const r of this._reads.values()) {
      clearTimeout(r.timer);
      r.waiters.forEach((w) => w.reject(why));
    }
    this._reads.clear();
    this._setState("closed");
    this._emit("closed", { error: err });
    const waiters = this._waiters.splice(0);
    waiters.forEach((w) => w.reject(why));
  }

  // ── Frames in ──

  _onData(c, data) {
    if (this._conn !== c) return;
    c.lastRecv = Date.now();
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return; // not ours to judge
    }
    if (!f || typeof f !== "object") return;
    if (!c.welcome) {
      if (f.type === "welcome") this._onWelcome(c, f.body ?? {});
      return;
    }
    if (f.id) this._onReply(f);
    else this._onEvent(f.type, f.body ?? {});
  }

  _onWelcome(c, w) {
    clearTimeout(c.hsTimer);
    c.welcome = w;
    c.welcomedAt = Date.now();
    c.hb = w.heartbeat_ms > 0 ? w.heartbeat_ms : 25000;
    c.to = w.timeout_ms > c.hb ? w.timeout_ms : c.hb + 10000;
    const lim = w.limits ?? {};
    const rate = lim.rate_messages > 0 ? lim.rate_messages * 0.9 : 9;
    const cap = Math.max(1, Math.floor((lim.rate_burst > 0 ? lim.rate_burst : 20) * 0.8));
    c.bucket = { rate, cap, tokens: cap, at: c.welcomedAt };
    c.reconnected = this._everConnected;
    this._everConnected = true;
    this.welcome = w;
    if (w.guest_token) this.guestToken = w.guest_token;
    this._expiresAt = w.expires_at ? Date.parse(w.expires_at) : 0;
    // Re-joins and resends go out before any handler of the events below
    // can write to the new connection.
    const previous = this.state;
    this.state = "connected";
    this._resume(c);
    this._checkNotifications(c, w);
    this._beat(c);
    this._scheduleRenewal();
    this._emit("state", { state: "connected", previous });
    this._emit("connected", { welcome: w, reconnected: c.reconnected });
    this._waiters.splice(0).forEach((x) => x.resolve(w));
  }

  // _resume re-joins every room with since and resends what waits, before
  // anything else may be written on the new connection.
  _resume(c) {
    this._syncing = 1;
    for (const room of this.rooms.values()) {
      if (room.state === "joined") this._rejoin(room, true);
    }
    for (const e of this._pending.values()) {
      if (!e.sentOn && e.kind !== "internal" && !e.waiting) this._transmit(e);
    }
    this._synced(c);
  }

  // _synced counts one recovery task of connection c done; the last one
  // emits "synced". Tasks of an older connection no longer count.
  _synced(c) {
    if (this._conn === c && --this._syncing === 0) this._emit("synced", { reconnected: c.reconnected });
  }

  // _onReply settles the request a reply names. An error settles it too,
  // a send from the outbox included: the frame had no effect, and sending
  // it again as it is would mostly meet the same answer (forbidden,
  // not_joined, not_found, too_long, …). Only rate_limited, which is about
  // pace, is resent; a send stays queued only across a lost connection.
  _onReply(f) {
    const e = this._pending.get(f.id);
    if (!e) return; // a heartbeat pong, or a reply for a caller who gave up
    if (f.type === "error") {
      const err = new ServerError(f.body);
      if (err.code === "rate_limited") {
        e.sentOn = 0;
        e.waiting = true;
        setTimeout(() => {
          e.waiting = false;
          if (this._pending.get(e.id) === e && !e.sentOn && this.state === "connected") this._transmit(e);
        }, Math.max(err.retryAfterMs, 50));
        return;
      }
      return this._finish(e, err);
    }
    let value = f.body ?? {};
    try {
      if (e.handle) value = e.handle(value, f.type, e);
    } catch (err) {
      return this._finish(e, err);
    }
    this._finish(e, null, value);
  }

  _onEvent(type, b) {
    switch (type) {
      case "message": {
        const room = this.rooms.get(b.room);
        if (room?._t && room.state === "joined") this._offer(room, b.seq, b.id, () => this._deliver(room, "message", b));
        return;
      }
      case "private": {
        const conv = this._conv(b.room, b.seq - 1);
        return this._offer(conv, b.seq, b.id, () => this._deliver(null, "private", b));
      }
      case "update": {
        const owner = b.room?.startsWith("@") ? this._conv(b.room, b.seq - 1) : this.rooms.get(b.room);
        if (owner?._t && owner.state !== "left") this._offer(owner, b.seq, null, () => this._deliver(owner.name ? owner : null, "update", b));
        return;
      }
      case "presence": return this._onPresence(b);
      // A busy room's changes, gathered: applied one by one, leaves first.
      case "presence_diff":
        for (const user of b.leaves ?? []) this._onPresence({ room: b.room, user, event: "leave" });
        for (const user of b.joins ?? []) this._onPresence({ room: b.room, user, event: "join" });
        // The lists are bounded (the first by id): the count comes whole.
        if (typeof b.member_count === "number" && this.rooms.get(b.room)) {
          const room = this.rooms.get(b.room);
          room.memberCount = b.member_count;
          room._emit("members", room.members);
        }
        return;
      case "typing": return this._onTyping(b);
      case "read": return this._roomEvent("read", b);
      case "unread": return this._onUnread(b);
      case "system": return this._roomEvent("system", b);
      case "joined": return void this._onJoined(b); // the implicit join of /ws/{room}
      case "left": return this._onLeft(b.room, true);
      case "room": return this._onRoomChange(b);
      case "notification": return this._notify(b);
      case "notifications": return this._onNotifications(b, true); // unread ones, after welcome
      case "notifications_read": return this._onNotificationsRead(b); // from another device
      case "error": return this._emit("error", new ServerError(b));
      default: return this._emit("frame", { type, body: b });
    }
  }

  _roomEvent(type, b) {
    const room = b.room ? this.rooms.get(b.room) : null;
    room?._emit(type, b);
    this._emit(type, b);
  }

  // _deliver emits one stored event; the tracker has made sure it is new
  // and in order.
  _deliver(room, type, b) {
    if (type !== "update") {
      this._settleEcho(b);
      this._countUnread(b);
    }
    room?._emit(type, b);
    this._emit(type, b);
  }

  _offer(owner, seq, id, deliver) {
    const t = owner._t;
    if (!t.offer(seq, id, deliver)) return this._checkSync(owner);
    if (t.held.size > MAX_HELD) {
      const top = Math.max(...t.held.keys());
      this._gap(owner, t.last, top);
      t.skipTo(top);
    } else if (!t.filling) {
      if (owner instanceof Room) this._rejoin(owner, false);
      else this._catchUp(owner, t.last, 0);
    }
  }

  _gap(owner, since, lastSeq, pagedFrom = lastSeq) {
    const g = { room: owner.name ?? owner.key, since, lastSeq, pagedFrom };
    if (owner instanceof Room) owner._emit("gap", g);
    this._emit("gap", g);
  }

  _settleEcho(m) {
    if (!m.client_id || m.from?.id !== this.welcome?.user?.id) return;
    const e = this._byCid.get(m.client_id);
    if (e) this._finish(e, null, { room: m.room, message_id: m.id, seq: m.seq, ts: m.ts, duplicate: true });
  }

  _countUnread(m) {
    const u = this.unread.get(m.room) ?? { room: m.room, unread: 0, last_seq: 0, read_seq: 0 };
    if (m.room.startsWith("@")) u.direct = true;
    if (m.seq <= u.last_seq) return;
    u.last_seq = m.seq;
    if (m.from?.id !== this.welcome?.user?.id && m.seq > u.read_seq) u.unread++;
    this.unread.set(m.room, u);
    this._emit("unread", u);
  }

  _onUnread(b) {
    for (const u of b.rooms ?? []) {
      this.unread.set(u.room, u);
      if (u.direct) {
        const conv = this._convs.get(u.room);
        if (!conv) this._conv(u.room, u.last_seq);
        else if (u.last_seq > conv._t.last && !conv._t.filling) {
          const c = this._conn;
          this._syncing++;
          this._catchUp(conv, conv._t.last, 0).then(() => this._synced(c));
        }
      }
      this._emit("unread", u);
    }
  }

  _onPresence(b) {
    const room = this.rooms.get(b.room);
    if (!room || b.user?.id === this.welcome?.user?.id) return;
    // members holds at most the server's bound; memberCount follows every
    // change it hears of (a join of someone already counted but not
    // listed makes it one too high until the next join of the room).
    if (b.event === "join") {
      if (!room.members.has(b.user.id)) room.memberCount++;
      room.members.set(b.user.id, b.user);
    } else if (b.event === "leave") {
      room.members.delete(b.user.id);
      room.memberCount = Math.max(room.members.size, room.memberCount - 1);
    }
    room._emit("presence", b);
    room._emit("members", room.members);
    this._emit("presence", b);
  }

  _onTyping(b) {
    const room = this.rooms.get(b.room);
    if (!room || b.user?.id === this.welcome?.user?.id) return;
    if (b.state === "start") room.typingUsers.set(b.user.id, b.user);
    else room.typingUsers.delete(b.user.id);
    room._emit("typing", b);
    this._emit("typing", b);
  }

  _onJoined(b, since) {
    let room = this.rooms.get(b.room);
    if (!room) this.rooms.set(b.room, (room = new Room(this, b.room)));
    // A room joined already keeps its tracker: a replay from an older since
    // repeats what was delivered, and is dropped by seq.
    const rejoin = room.state === "joined" && !!room._t;
    if (!rejoin) room._t = new Tracker(since ?? b.last_seq);
    room._apply(b);
    const payload = { room, joined: b, rejoin };
    room._emit("joined", payload);
    this._emit("joined", payload);
    if (since != null && b.recovered === false) this._catchUp(room, since, b.last_seq);
    return room;
  }

  _onLeft(key, removed) {
    const room = this.rooms.get(key);
    if (!room) return;
    room.state = "left";
    room._t = null;
    room.typingUsers.clear();
    room._emit("left", { room: key, removed });
    this._emit("left", { room: key, removed });
  }

  // _onRoomChange applies a room frame (PROTOCOL.md, "room"): the frame
  // carries the room as it now is, and a change about you adds the room to
  // client.rooms (invited, until joined) or takes your membership away. A
  // removal takes a joined room to "left" by the left frame the server
  // sends its connections, not here: someone leaving a public room over
  // the API keeps the connections that joined it.
  _onRoomChange(b) {
    const mine = b.user != null && b.user === this.welcome?.user?.id;
    let room = this.rooms.get(b.room);
    if (!room && mine && b.event !== "removed") this.rooms.set(b.room, (room = new Room(this, b.room, "invited")));
    if (room) {
      room.private = !!b.private;
      room.topic = b.topic ?? "";
      room.locked = !!b.locked;
      room.archived = !!b.archived;
      if (mine && b.event === "removed") {
        room.role = null;
        if (room.state === "invited") room.state = "left";
      } else if (mine && b.role) {
        room.role = b.role;
        if (b.event === "added" && room.state === "left") room.state = "invited"; // invited again
      }
      room._emit("room", b);
    }
    this._emit("room", b);
    if (mine && b.event === "added") this._emit("roomAdded", { room, change: b });
    if (mine && b.event === "removed") this._emit("roomRemoved", { room: room ?? null, change: b });
  }

  // ── Notifications ──

  // _notify emits a notification this client has not seen yet.
  _notify(n) {
    if (!this._seenNotification(n.id)) return;
    if (!n.read) this._setNotificationsUnread(this.notificationsUnread + 1);
    this._emit("notification", n);
  }

  // _onNotifications takes a notifications frame: the unread ones pushed
  // after welcome (emitted, oldest first, when new) or a page asked for.
  _onNotifications(b, pushed) {
    if (pushed && this._conn) this._conn.notified = true;
    this._setNotificationsUnread(b.unread ?? 0);
    const list = b.notifications ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      if (this._seenNotification(list[i].id) && pushed) this._emit("notification", list[i]);
    }
  }

  _onNotificationsRead(b) {
    if (b.unread != null) this._setNotificationsUnread(b.unread);
    this._emit("notificationsRead", b);
  }

  // _seenNotification remembers an id; false when it was already known.
  _seenNotification(id) {
    if (this._notified.has(id)) return false;
    this._notified.add(id);
    this._notifiedQ.push(id);
    if (this._notifiedQ.length > MAX_IDS) this._notified.delete(this._notifiedQ.shift());
    return true;
  }

  _setNotificationsUnread(n) {
    if (n === this.notificationsUnread) return;
    this.notificationsUnread = n;
    this._emit("notificationsUnread", { unread: n });
  }

  // _checkNotifications keeps notificationsUnread right across reconnects.
  // The server pushes its notifications frame after welcome only when some
  // are unread, and before it reads anything from the new connection; so
  // when the reply to a ping comes first, none are unread (they were read
  // on another device while this one was away).
  _checkNotifications(c, w) {
    c.notified = false;
    if (w.user?.guest || !this.notificationsUnread) return;
    this._call("ping", {}, {
      kind: "internal",
      handle: () => c.notified || this._conn !== c || this._setNotificationsUnread(0),
    }).catch(() => {});
  }

  _conv(key, last) {
    let conv = this._convs.get(key);
    if (!conv) this._convs.set(key, (conv = { key, _t: new Tracker(Math.max(0, last)) }));
    return conv;
  }

  // ── Recovery ──

  // _rejoin sends join with since for a room: after a reconnect (counted
  // towards "synced") or to fill a gap noticed live.
  _rejoin(room, counted) {
    const t = room._t;
    const since = t.last;
    const c = this._conn;
    t.filling = true;
    if (counted) this._syncing++;
    this._call("join", { room: room.name, since }, {
      kind: "internal",
      handle: (b) => {
        room._apply(b);
        const payload = { room, joined: b, rejoin: true };
        room._emit("joined", payload);
        this._emit("joined", payload);
        if (b.recovered === false) {
          this._catchUp(room, since, b.last_seq).then(() => counted && this._synced(c));
          return;
        }
        t.filling = false;
        if (counted) {
          room._syncUntil = b.last_seq;
          room._syncConn = c;
          this._checkSync(room);
        }
      },
    }).catch((err) => {
      if (this._conn !== c) return;
      t.filling = false;
      if (counted) this._synced(c);
      if (err instanceof ServerError && (err.code === "forbidden" || err.code === "not_found")) this._onLeft(room.name, true);
      this._emit("error", err);
    });
  }

  // _checkSync counts a re-joined room as synced once its replay is in.
  _checkSync(owner) {
    if (owner._syncConn && owner._t.last >= owner._syncUntil) {
      const c = owner._syncConn;
      owner._syncConn = null;
      this._synced(c);
    }
  }

  // _catchUp pages history forward after since, delivering what was missed
  // in order: for a room the server could not replay (up to its last_seq),
  // or for a conversation (up to the newest message). Live events wait in
  // the tracker meanwhile. It never rejects.
  async _catchUp(owner, since, upTo) {
    const t = owner._t;
    const key = owner.name ?? owner.key;
    const c = this._conn;
    const o = this.options;
    t.filling = true;
    let after = since;
    if (upTo) {
      after = Math.max(since, upTo - o.recoveryMaxMessages);
      this._gap(owner, since, upTo, after);
    }
    let top = since;
    try {
      for (;;) {
        const page = await this._call("history", { room: key, after, limit: o.recoveryPageSize }, { kind: "internal" });
        if (this._conn !== c) return;
        const msgs = page.messages ?? [];
        for (const m of msgs) {
          if (upTo && m.seq > upTo) break;
          top = Math.max(top, m.seq);
          if (t.seen(m.seq, m.id)) continue;
          t.skipTo(m.seq - 1);
          t.offer(m.seq, m.id, () => this._deliver(owner instanceof Room ? owner : null, owner.name ? "message" : "private", m));
        }
        if (msgs.length < o.recoveryPageSize || (upTo && msgs.at(-1).seq >= upTo)) break;
        after = msgs.at(-1).seq;
      }
    } catch (err) {
      if (this._conn !== c) return;
      this._emit("error", err);
    }
    t.filling = false;
    t.skipTo(upTo || Math.max(top, ...t.held.keys()));
  }

  // ── Heartbeat and token renewal ──

  // _beat sends an application ping after heartbeat_ms of silence and
  // gives the connection up when nothing at all arrives for the rest of
  // timeout_ms (browsers cannot see the server's WebSocket pings).
  _beat(c) {
    if (this._conn !== c) return;
    const now = Date.now();
    const grace = c.to - c.hb;
    if (c.pingAt && c.lastRecv < c.pingAt) {
      if (now - c.pingAt >= grace) return this._lost(c, 1006, `nothing from the server for ${now - c.lastRecv} ms`);
      c.hbTimer = setTimeout(() => this._beat(c), c.pingAt + grace - now);
      return;
    }
    const idle = now - (c.lastRecv || c.welcomedAt);
    if (idle >= c.hb) {
      c.pingAt = now;
      this._write(c, JSON.stringify({ type: "ping", id: "hb" + (++this._nextId).toString(36) }));
      c.hbTimer = setTimeout(() => this._beat(c), grace);
    } else {
      c.pingAt = 0;
      c.hbTimer = setTimeout(() => this._beat(c), c.hb - idle);
    }
  }

  _scheduleRenewal() {
    clearTimeout(this._renewTimer);
    if (!this._expiresAt || !this.options.getToken) return;
    const left = this._expiresAt - Date.now();
    const lead = Math.min(this.options.renewBeforeMs, left / 2);
    this._renewTimer = setTimeout(() => this._renew(), Math.max(0, left - lead));
  }

  // _renew hands the server a fresh token before the session's expires
  // (PROTOCOL.md, "Token expiry"), so it is not closed with 4002.
  async _renew() {
    const c = this._conn;
    if (!c?.welcome) return;
    try {
      const token = await this.options.getToken();
      if (!token || this._conn !== c) return;
      const b = await this._call("auth", { token }, { kind: "internal" });
      this._token = token;
      this._expiresAt = b.expires_at ? Date.parse(b.expires_at) : 0;
      this._emit("token", { expiresAt: b.expires_at ?? null });
      this._scheduleRenewal();
    } catch (err) {
      if (this._conn !== c) return;
      this._emit("error", err);
      const left = this._expiresAt - Date.now();
      if (left > 200) this._renewTimer = setTimeout(() => this._renew(), Math.min(left / 2, 5000));
    }
  }

  // ── Requests, outbox and pacing ──

  // _call registers a request and writes it when a connection is up.
  // kinds: "request" (fails if its connection is lost after it was
  // written), "send" (outbox: survives reconnects), "internal" (the SDK's
  // own, dropped with its connection).
  _call(type, body, { kind = "request", timeout, handle, cid } = {}) {
    if (this.state === "closed") return Promise.reject(this._closeError ?? new ClosedError("the client was closed"));
    const id = (++this._nextId).toString(36);
    return new Promise((resolve, reject) => {
      const e = { id, type, body, kind, handle, cid, resolve, reject, sentOn: 0, timer: null };
      const ms = timeout ?? (kind === "send" ? this.options.sendTimeoutMs : this.options.requestTimeoutMs);
      if (ms > 0) e.timer = setTimeout(() => this._finish(e, new TimeoutError(type, ms)), ms);
      this._pending.set(id, e);
      if (cid) this._byCid.set(cid, e);
      if (this.state === "connected" && (kind !== "internal" || this._conn)) this._transmit(e);
    });
  }

  _finish(e, err, value) {
    if (this._pending.get(e.id) !== e) return;
    this._pending.delete(e.id);
    if (e.cid) this._byCid.delete(e.cid);
    clearTimeout(e.timer);
    if (err) e.reject(err);
    else e.resolve(value);
  }

  _transmit(e) {
    const c = this._conn;
    const frame = JSON.stringify({ type: e.type, id: e.id, body: e.body });
    const max = c.welcome.limits?.max_frame_bytes;
    if (max && byteLength(frame) > max) {
      return this._finish(e, new ParleyError("too_large", `the ${e.type} frame is over max_frame_bytes (${max})`));
    }
    this._write(c, frame, e);
  }

  // _write queues a frame and writes as many as the session's rate limit
  // allows (a token bucket a little under the server's), so a burst of
  // sends after a reconnect is paced instead of refused.
  _write(c, frame, e) {
    c.wq.push([frame, e]);
    if (e) e.sentOn = -1; // queued
    this._drain(c);
  }

  _drain(c) {
    if (c.wqTimer || this._conn !== c) return;
    const b = c.bucket;
    while (c.wq.length) {
      const now = Date.now();
      b.tokens = Math.min(b.cap, b.tokens + ((now - b.at) * b.rate) / 1000);
      b.at = now;
      if (b.tokens < 1) {
        c.wqTimer = setTimeout(() => {
          c.wqTimer = null;
          this._drain(c);
        }, Math.ceil(((1 - b.tokens) * 1000) / b.rate));
        return;
      }
      const [frame, e] = c.wq.shift();
      if (e && this._pending.get(e.id) !== e) continue; // timed out while queued
      b.tokens--;
      if (e) e.sentOn = c.gen;
      c.ws.send(frame);
    }
  }

  _newClientId() {
    return Date.now().toString(36).padStart(9, "0") + "-" + this._cidPrefix + "-" + (++this._nextCid).toString(36);
  }

  // _send puts a chat or private message in the outbox.
  _send(type, body, opts = {}) {
    const cid = this._newClientId();
    body.client_id = cid;
    return this._call(type, body, {
      kind: "send", cid, timeout: opts.timeout,
      handle: (ack) => {
        this._byCid.delete(cid); // settled by this ack, not by its echo below
        const own = { room: ack.room, id: ack.message_id, seq: ack.seq, ts: ack.ts, from: this.welcome.user, text: body.text, client_id: cid };
        if (type === "private") {
          own.to = body.to;
          this._offer(this._conv(ack.room, ack.seq - 1), ack.seq, ack.message_id, () => this._deliver(null, "private", own));
        } else {
          const room = this.rooms.get(ack.room);
          if (room?._t) this._offer(room, ack.seq, ack.message_id, () => this._deliver(room, "message", own));
        }
        return ack;
      },
    });
  }

  /** Pending sends, oldest first: what is still "sending". */
  get outbox() {
    const out = [];
    for (const e of this._pending.values()) {
      if (e.kind === "send") out.push({ type: e.type, client_id: e.cid, ...e.body });
    }
    return out;
  }

  // ── Public requests ──

  /**
   * Joins a room and resolves with its Room. With since, the events after
   * it are delivered first (or paged from history if the server cannot
   * replay them). The room is re-joined after every reconnect.
   */
  join(name, opts = {}) {
    const body = { room: name };
    if (opts.since != null) body.since = opts.since;
    return this._call("join", body, { timeout: opts.timeout, handle: (b) => this._onJoined(b, opts.since) });
  }

  /** The Room with this normalised key: joined, invited or left. */
  room(key) {
    return this.rooms.get(key);
  }

  /** Leaves a room on this connection; it is no longer re-joined. */
  leave(room, opts = {}) {
    return this._call("leave", { room }, {
      timeout: opts.timeout,
      handle: (b) => {
        this._onLeft(b.room, false);
        return b;
      },
    });
  }

  /** Sends a private message to the user with this id; resolves with the ack (outbox rules apply). */
  sendPrivate(to, text, opts) {
    return this._send("private", { to, text }, opts);
  }

  /** Replaces the text of your own message. */
  edit(room, messageId, text, opts = {}) {
    return this._call("edit", { room, message_id: messageId, text }, { timeout: opts.timeout });
  }

  /** Deletes a message (your own, or anyone's as a moderator). */
  delete(room, messageId, opts = {}) {
    return this._call("delete", { room, message_id: messageId }, { timeout: opts.timeout });
  }

  /** Adds an emoji reaction, or removes it with { remove: true }. */
  react(room, messageId, emoji, opts = {}) {
    const body = { room, message_id: messageId, emoji };
    if (opts.remove) body.remove = true;
    return this._call("react", body, { timeout: opts.timeout });
  }

  /** A page of a room's or conversation's messages: newest first, or oldest first with after. */
  async history(room, opts = {}) {
    const body = { room };
    for (const k of ["before", "after", "limit"]) if (opts[k] != null) body[k] = opts[k];
    const b = await this._call("history", body, { timeout: opts.timeout });
    return b.messages ?? [];
  }

  /**
   * Moves your read marker in a room or conversation up to seq. Calls are
   * batched to one frame per readDelayMs per room; resolves with the
   * marker in force.
   */
  markRead(room, seq) {
    let r = this._reads.get(room);
    if (!r) this._reads.set(room, (r = { seq: 0, sentAt: 0, timer: null, waiters: [] }));
    r.seq = Math.max(r.seq, seq);
    return new Promise((resolve, reject) => {
      r.waiters.push({ resolve, reject });
      if (r.timer) return;
      const wait = Math.max(0, r.sentAt + this.options.readDelayMs - Date.now());
      r.timer = setTimeout(() => {
        r.timer = null;
        r.sentAt = Date.now();
        const waiters = r.waiters.splice(0);
        this._call("read", { room, seq: r.seq }, {
          handle: (b) => {
            const u = this.unread.get(b.room) ?? { room: b.room, unread: 0, last_seq: 0, read_seq: 0 };
            u.read_seq = b.seq;
            if (b.seq >= u.last_seq) u.unread = 0;
            this.unread.set(b.room, u);
            this._emit("unread", u);
            return b;
          },
        }).then((b) => waiters.forEach((w) => w.resolve(b)), (err) => waiters.forEach((w) => w.reject(err)));
      }, wait);
    });
  }

  /** Sends an application ping; resolves with the round trip in milliseconds. */
  async ping(opts = {}) {
    const start = Date.now();
    await this._call("ping", {}, { timeout: opts.timeout });
    return Date.now() - start;
  }

  /**
   * Subscribes your account to notifications on the topics a pattern
   * matches ("orders.*", "deploys.>"); it holds on every device until
   * unsubscribe. Resolves with { topic }.
   */
  subscribe(pattern, opts = {}) {
    return this._call("subscribe", { topic: pattern }, { timeout: opts.timeout });
  }

  /** Ends a subscription; a pattern you do not hold rejects with not_found. */
  unsubscribe(pattern, opts = {}) {
    return this._call("unsubscribe", { topic: pattern }, { timeout: opts.timeout });
  }

  /**
   * A page of your notifications, newest first: { notifications, unread }.
   * opts: before (a notification id), unread (only unread ones), limit.
   */
  notifications(opts = {}) {
    const body = {};
    for (const k of ["before", "unread", "limit"]) if (opts[k] != null) body[k] = opts[k];
    return this._call("notifications", body, {
      timeout: opts.timeout,
      handle: (b) => {
        this._onNotifications(b, false);
        return b;
      },
    });
  }

  /**
   * Marks notifications read: an array of ids, or "all". Resolves with
   * { ids | all, unread }; your other devices are told too.
   */
  markNotificationsRead(ids, opts = {}) {
    return this._call("notifications_read", ids === "all" ? { all: true } : { ids: [...ids] }, {
      timeout: opts.timeout,
      handle: (b) => {
        this._onNotificationsRead(b);
        return b;
      },
    });
  }

  /**
   * Sends any client frame and resolves with its reply's body: the
   * extension point for frames this SDK does not wrap yet.
   */
  request(type, body, opts = {}) {
    return this._call(type, body ?? {}, { timeout: opts.timeout });
  }

  /** Finds an account's public profile by username (GET /api/v1/users/{username}). */
  lookupUser(username) {
    return api(this.options.url, "GET", "/api/v1/users/" + encodeURIComponent(username),
      { token: this._token ?? this.guestToken });
  }

  // _signal writes a fire-and-forget frame (typing) when connected.
  _signal(type, body) {
    if (this.state === "connected" && this._conn) this._write(this._conn, JSON.stringify({ type, body }));
  }
}

// ───────────────────────────── Room ─────────────────────────────

/**
 * A room: its members, who is typing, its contiguous sequence, and the
 * requests that concern it. Get one from client.join(), or from
 * client.rooms once someone adds you to a room (state "invited"); the same
 * object lives across reconnects.
 */
export class Room extends Emitter {
  constructor(client, name, state = "joined") {
    super();
    /** The client this room belongs to. */
    this.client = client;
    /** The room's normalised key. */
    this.name = name;
    /** @type {"joined"|"invited"|"left"} */
    this.state = state;
    this.topic = "";
    this.private = false;
    /** Your role in the room as the last room frame about you told it; null until one does. */
    this.role = null;
    /** Users connected to the room, by id, rebuilt on every (re)join. */
    this.members = new Map();
    this.memberCount = 0;
    this.locked = false;
    this.archived = false;
    /** Users typing now, by id; cleared on every (re)join. */
    this.typingUsers = new Map();
    this._t = null;
    this._typingAt = 0;
    this._syncConn = null;
    this._syncUntil = 0;
  }

  /** The highest seq up to which every event of the room was delivered. */
  get lastSeq() {
    return this._t ? this._t.last : 0;
  }

  _apply(b) {
    this.state = "joined";
    this.topic = b.topic ?? "";
    this.private = !!b.private;
    this.members = new Map((b.members ?? []).map((u) => [u.id, u]));
    this.memberCount = b.member_count ?? this.members.size;
    this.locked = !!b.locked;
    this.archived = !!b.archived;
    this.typingUsers.clear();
    this._emit("members", this.members);
  }

  /** Sends a message; resolves with the ack once it is stored (it waits in the outbox across reconnects). */
  send(text, opts) {
    this._typingAt = 0; // the server stops the indicator
    return this.client._send("chat", { room: this.name, text }, opts);
  }

  /** Replaces the text of your own message. */
  edit(messageId, text, opts) {
    return this.client.edit(this.name, messageId, text, opts);
  }

  /** Deletes a message. */
  delete(messageId, opts) {
    return this.client.delete(this.name, messageId, opts);
  }

  /** Adds an emoji reaction, or removes it with { remove: true }. */
  react(messageId, emoji, opts) {
    return this.client.react(this.name, messageId, emoji, opts);
  }

  /** A page of past messages (see ParleyClient.history). */
  history(opts) {
    return this.client.history(this.name, opts);
  }

  /** Moves your read marker, by default to the newest event delivered. */
  markRead(seq = this.lastSeq) {
    return this.client.markRead(this.name, seq);
  }

  /**
   * Call on every keystroke: sends typing "start" at most once per half
   * typing_timeout_ms, as the protocol asks.
   */
  typing() {
    const now = Date.now();
    const half = (this.client.welcome?.limits?.typing_timeout_ms ?? 6000) / 2;
    if (now - this._typingAt < half) return;
    this._typingAt = now;
    this.client._signal("typing", { room: this.name, state: "start" });
  }

  /** Sends typing "stop" if a start is still in force (the user cleared the input). */
  stopTyping() {
    const timeout = this.client.welcome?.limits?.typing_timeout_ms ?? 6000;
    const active = this._typingAt && Date.now() - this._typingAt < timeout;
    this._typingAt = 0;
    if (active) this.client._signal("typing", { room: this.name, state: "stop" });
  }

  /** Joins the room (an invited or a left one); resolves with this Room. */
  join(opts) {
    return this.client.join(this.name, opts);
  }

  /** Leaves the room on this connection. */
  leave(opts) {
    return this.client.leave(this.name, opts);
  }
}
