// A place to chat: a room, or a private conversation with one user. Both
// have a timeline and the same calls; they differ in how a message is sent
// (room.send or client.sendPrivate) and in what they show (rooms have
// members online and typing; the protocol has neither for conversations).

import { Timeline } from "./timeline.js";

/** The key of the conversation of two users: "@" and the two ids in byte order. */
export function conversationKey(a, b) {
  return `@${[a, b].sort().join("+")}`;
}

export class Channel {
  /**
   * @param {object} chat the Chat it belongs to
   * @param {string} key the room's key, or the conversation's "@a+b"
   * @param {string|null} peerId for a conversation, the other user's id
   */
  constructor(chat, key, peerId = null) {
    this.chat = chat;
    this.key = key;
    this.peerId = peerId;
    this.kind = peerId ? "dm" : "room";
    const client = chat.client;
    this.timeline = new Timeline({
      me: chat.me.id,
      nameOf: (id) => chat.nameOf(id),
      edit: (msg, text) => client.edit(key, msg.id, text),
      remove: (msg) => client.delete(key, msg.id),
      react: (msg, emoji, remove) => client.react(key, msg.id, emoji, { remove }),
      report: (err) => chat.report(err),
    });
  }

  /** The SDK's Room for a room (undefined for a conversation or a room not joined yet). */
  get room() {
    return this.kind === "room" ? this.chat.client.room(this.key) : undefined;
  }

  /** What the sidebar and the header call it. */
  get title() {
    return this.kind === "room" ? this.key : this.chat.nameOf(this.peerId);
  }

  /** The route that opens it. */
  get href() {
    return this.kind === "room" ? `#/r/${encodeURIComponent(this.key)}` : `#/dm/${encodeURIComponent(this.peerId)}`;
  }

  /** Sends text; resolves with the ack once it is stored. */
  send(text) {
    if (this.kind === "dm") return this.chat.client.sendPrivate(this.peerId, text);
    const room = this.room;
    if (!room) return Promise.reject(Object.assign(new Error("not in this room"), { code: "not_joined" }));
    return room.send(text);
  }

  /** A page of history (newest first, as the protocol gives it). */
  history(opts) {
    return this.chat.client.history(this.key, opts);
  }

  /** Moves your read marker to seq. Guests have none. */
  markRead(seq) {
    if (this.chat.me.guest || !seq) return;
    const entry = this.chat.client.unread.get(this.key);
    if (entry && entry.read_seq >= seq && entry.unread === 0) return;
    this.chat.client.markRead(this.key, seq).catch(() => {
      // at-most-once: the next message or visit moves it again
    });
  }

  /** The highest seq delivered: the room's, or the newest message held for a conversation. */
  lastSeq() {
    return Math.max(this.room?.lastSeq ?? 0, this.timeline.newestSeq());
  }

  typing() {
    this.room?.typing();
  }

  stopTyping() {
    this.room?.stopTyping();
  }
}
