// The chat screen: one ParleyClient session, the rooms and conversations
// it knows of, and the one that is open. Everything shown comes from the
// SDK's events; this module routes them to the right Channel and keeps
// the sidebar, header and timeline in step.

import { Banner } from "./banner.js";
import { Channel, conversationKey } from "./channel.js";
import { setupDialogs } from "./dialogs.js";
import { $, show } from "./dom.js";
import { renderSidebar } from "./sidebar.js";
import { renderHeader, renderMembers, renderTyping, setupComposer } from "./view.js";
import { seg } from "./api.js";

const PAGE = 50; // messages per history page

export class Chat {
  #done;
  #ended = false;
  #loadingOlder = false;

  constructor({ client, session, api }) {
    this.client = client;
    this.session = session;
    this.api = api;
    /** @type {{ id: string, name: string, guest?: boolean }} */
    this.me = { id: "", name: "" };
    /** @type {Map<string, Channel>} by room key or conversation key */
    this.channels = new Map();
    /** @type {Map<string, string>} user id → display name, learnt from what arrives */
    this.names = new Map();
    /** @type {Channel|null} */
    this.active = null;
    this.banner = new Banner(client);
    this.finished = new Promise((resolve) => (this.#done = resolve));
  }

  /** Runs the chat until the session ends; resolves with why (null: signed out). */
  async run() {
    document.body.dataset.screen = "chat";
    show($("chat"), true);
    this.#wire();
    try {
      await this.client.connect();
    } catch (err) {
      this.end(err);
    }
    return this.finished;
  }

  /** Ends the session: closes the client and resolves run() with err. */
  end(err) {
    if (this.#ended) return;
    this.#ended = true;
    this.client.close();
    removeEventListener("hashchange", this.onHash);
    this.banner.hide();
    show($("chat"), false);
    for (const ch of this.channels.values()) ch.timeline.el.remove();
    this.#done(err);
  }

  nameOf(id) {
    return this.names.get(id) ?? (id?.startsWith("guest:") ? "guest" : id);
  }

  /** Shows a failed action in the banner. */
  report(err) {
    this.banner.notice(err?.message || String(err), "error");
  }

  #learn(user) {
    if (user?.id && user.name) this.names.set(user.id, user.name);
  }

  #wire() {
    const c = this.client;
    setupComposer(this);
    setupDialogs(this);
    $("signout").onclick = async () => {
      await this.session.signOut();
      this.end(null);
    };
    $("older").onclick = () => this.loadOlder();
    $("scroller").addEventListener("scroll", () => this.#onScroll(), { passive: true });
    $("jump").onclick = () => this.#scrollToEnd();
    $("leave").onclick = () => this.leave(this.active);
    this.onHash = () => this.route();
    addEventListener("hashchange", this.onHash);
    document.addEventListener("visibilitychange", () => this.#markActiveRead());

    c.on("connected", ({ welcome, reconnected }) => {
      this.me = welcome.user;
      this.#learn(welcome.user);
      this.session.keepGuestToken(c.guestToken);
      $("me-name").textContent = welcome.user.name + (welcome.user.guest ? " (guest)" : "");
      $("input").maxLength = welcome.limits?.max_message_length ?? 4000;
      if (!reconnected) {
        performance.mark("parley:connected");
        for (const key of this.session.guestRooms) this.client.join(key).catch(() => this.#drop(key));
        renderSidebar(this);
        this.route();
      }
    });
    c.on("closed", ({ error }) => this.end(error));
    c.on("synced", () => this.#markActiveRead());
    c.on("unread", (u) => this.#onUnread(u));
    c.on("message", (m) => this.#onMessage(m));
    c.on("private", (m) => {
      const peer = m.from?.id === this.me.id ? m.to : m.from?.id;
      this.#onMessage(m, peer);
    });
    c.on("update", (u) => {
      this.#learn(u.message?.from);
      this.channels.get(u.room)?.timeline.update(u.message);
    });
    c.on("read", (r) => this.channels.get(r.room)?.timeline.read(r.user, r.seq));
    c.on("typing", (t) => {
      this.#learn(t.user);
      if (t.room === this.active?.key) renderTyping(this.active);
    });
    c.on("presence", (p) => {
      this.#learn(p.user);
      if (p.room === this.active?.key) renderMembers(this.active);
    });
    c.on("joined", ({ room }) => {
      for (const u of room.members.values()) this.#learn(u);
      this.#channel(room.name);
      if (room.name === this.active?.key) renderHeader(this, this.active);
      this.#changed();
    });
    c.on("room", (change) => {
      if (change.room === this.active?.key) renderHeader(this, this.active);
      renderSidebar(this);
    });
    c.on("roomAdded", ({ room }) => {
      // An invitation: join at once, so the room shows with its unread count.
      room?.join().catch((err) => this.report(err));
      this.banner.notice(`You were added to ${room?.name}.`);
    });
    c.on("left", ({ room, removed }) => {
      if (removed) this.#drop(room, `You were removed from ${room}.`);
    });
    c.on("roomRemoved", ({ change }) => this.#drop(change.room, `You were removed from ${change.room}.`));
    c.on("system", (b) => {
      if (!b.room || b.room === this.active?.key) this.banner.notice(b.text);
    });
  }

  /** The Channel of a room key, made on first use. */
  #channel(key) {
    let ch = this.channels.get(key);
    if (!ch) {
      ch = new Channel(this, key);
      this.channels.set(key, ch);
    }
    return ch;
  }

  /** The Channel of the conversation with peerId, made on first use. */
  conversation(peerId) {
    const key = conversationKey(this.me.id, peerId);
    let ch = this.channels.get(key);
    if (!ch) {
      ch = new Channel(this, key, peerId);
      this.channels.set(key, ch);
      // Its history names the peer (the unread frame gives only ids).
      if (!this.names.has(peerId)) this.#loadFirstPage(ch).then(() => renderSidebar(this));
    }
    return ch;
  }

  #onUnread(u) {
    if (u.direct) {
      const peer = u.room.slice(1).split("+").find((id) => id !== this.me.id);
      if (peer) this.conversation(peer);
    } else {
      const room = this.client.room(u.room);
      // A room the account belongs to: join it, so its messages and count arrive live.
      if (!room || room.state !== "joined") {
        this.client.join(u.room).catch(() => {
          // refused (removed meanwhile, or a private room no longer ours): leave it off the list
          this.#drop(u.room);
        });
      }
      this.#channel(u.room);
    }
    renderSidebar(this);
  }

  #onMessage(m, peerId = null) {
    this.#learn(m.from);
    const ch = peerId ? this.conversation(peerId) : this.channels.get(m.room);
    if (!ch) return;
    const atEnd = ch === this.active && this.#atEnd();
    const li = ch.timeline.add(m);
    if (li && ch === this.active) {
      if (!performance.getEntriesByName("parley:first-message").length) performance.mark("parley:first-message");
      if (atEnd || m.from?.id === this.me.id) this.#scrollToEnd();
      else show($("jump"), true);
      this.#markActiveRead();
    }
    renderSidebar(this);
  }

  /** Opens the room or conversation the address names (#/r/name, #/dm/id). */
  async route() {
    if (!this.me.id) return; // before the first welcome; "connected" routes again
    const [, kind, arg] = /^#\/(r|dm)\/(.+)$/.exec(location.hash) ?? [];
    let ch = null;
    try {
      if (kind === "r") ch = this.#channel(decodeURIComponent(arg).normalize("NFKC").toLowerCase());
      else if (kind === "dm") ch = this.conversation(decodeURIComponent(arg));
    } catch {
      ch = null;
    }
    await this.open(ch);
  }

  /** Makes ch the open one (null: none), loading its newest messages the first time. */
  async open(ch) {
    this.active?.stopTyping();
    this.active = ch;
    document.body.dataset.pane = ch ? "room" : "list";
    $("timeline").replaceChildren(...(ch ? [ch.timeline.el] : []));
    show($("jump"), false);
    renderHeader(this, ch);
    renderSidebar(this);
    if (!ch) return;
    if (ch.kind === "room" && ch.room?.state !== "joined") {
      try {
        const room = await this.client.join(ch.key);
        // The server answers with the normalised key; follow it if it differs.
        if (room.name !== ch.key) {
          this.channels.delete(ch.key);
          location.replace(`#/r/${encodeURIComponent(room.name)}`);
          return;
        }
      } catch (err) {
        this.report(err.code === "forbidden" ? new Error(`${ch.key} is private; ask a member to invite you.`) : err);
        this.channels.delete(ch.key);
        location.hash = "#/";
        return;
      }
      if (this.active !== ch) return;
      renderHeader(this, ch);
    }
    await this.#loadFirstPage(ch);
    if (this.active !== ch) return;
    this.#scrollToEnd();
    this.#markActiveRead();
    renderSidebar(this);
    if (matchMedia("(hover: hover)").matches) $("input").focus();
  }

  async #loadFirstPage(ch) {
    if (ch.timeline.loaded) return;
    ch.timeline.loaded = true;
    try {
      const page = await ch.history({ limit: PAGE });
      this.#addPage(ch, page);
    } catch (err) {
      ch.timeline.loaded = false;
      if (ch === this.active) this.report(err);
    }
  }

  #addPage(ch, page) {
    for (const m of page) {
      this.#learn(m.from);
      ch.timeline.add(m);
    }
    if (page.length < PAGE) ch.timeline.complete = true;
    if (ch === this.active) {
      this.#updateStart(ch);
      if (page.length && !performance.getEntriesByName("parley:first-message").length) performance.mark("parley:first-message");
    }
  }

  #updateStart(ch) {
    show($("older"), !ch.timeline.complete);
    show($("start"), ch.timeline.complete);
    $("start").textContent = ch.kind === "dm" ? `This is the start of your conversation with ${ch.title}.` : `This is the start of ${ch.title}.`;
  }

  /** Fetches the page of history before the oldest message shown, keeping the view still. */
  async loadOlder() {
    const ch = this.active;
    if (!ch || ch.timeline.complete || this.#loadingOlder) return;
    this.#loadingOlder = true;
    const scroller = $("scroller");
    try {
      const before = ch.timeline.oldestSeq();
      const page = await ch.history(before ? { before, limit: PAGE } : { limit: PAGE });
      if (this.active !== ch) return;
      const height = scroller.scrollHeight;
      this.#addPage(ch, page);
      scroller.scrollTop += scroller.scrollHeight - height;
    } catch (err) {
      this.report(err);
    } finally {
      this.#loadingOlder = false;
    }
  }

  #onScroll() {
    const s = $("scroller");
    if (s.scrollTop < 150) this.loadOlder();
    if (this.#atEnd()) show($("jump"), false);
  }

  #atEnd() {
    const s = $("scroller");
    return s.scrollHeight - s.scrollTop - s.clientHeight < 60;
  }

  #scrollToEnd() {
    const s = $("scroller");
    s.scrollTop = s.scrollHeight;
    show($("jump"), false);
  }

  #markActiveRead() {
    const ch = this.active;
    if (!ch || document.visibilityState !== "visible") return;
    ch.markRead(ch.lastSeq());
  }

  /** Sends text to ch, showing it as "Sending…" until it is stored. */
  send(ch, text) {
    const promise = ch.send(text);
    ch.timeline.pending(text, this.me, promise, () => this.send(ch, text));
    if (ch === this.active) this.#scrollToEnd();
  }

  /** Leaves a room: ends the membership (accounts), and stops following it here. */
  async leave(ch) {
    if (!ch || ch.kind !== "room") return;
    try {
      if (!this.me.guest) await this.api("DELETE", `/rooms/${seg(ch.key)}/members/${seg(this.me.id)}`);
      await ch.room?.leave();
    } catch (err) {
      this.report(err.status === 403 ? new Error("The owner of a room cannot leave it.") : err);
      return;
    }
    this.#drop(ch.key);
  }

  /** Forgets a room (left or removed), closing it if it is open. */
  #drop(key, why) {
    const ch = this.channels.get(key);
    if (!ch) return;
    this.channels.delete(key);
    ch.timeline.el.remove();
    if (why) this.banner.notice(why);
    if (this.active === ch) location.hash = "#/";
    this.#changed();
  }

  /** Redraws the sidebar after the list of rooms changed, and keeps a guest's list. */
  #changed() {
    renderSidebar(this);
    if (this.me.guest) this.session.guestRooms = [...this.channels.values()].filter((c) => c.kind === "room").map((c) => c.key);
  }
}
