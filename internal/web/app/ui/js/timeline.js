// The messages of one room or conversation, as a list element kept in seq
// order: each message once (by id), whether it came from history, live or
// from your own send; messages being sent at the end; and who has read up
// to where.

import { fillMessage, markFailed, messageElement, pendingElement } from "./message.js";

export class Timeline {
  /** @param {import("./message.js").MessageContext} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.el = document.createElement("ol");
    this.el.className = "messages";
    /** @type {Map<string, HTMLLIElement>} */
    this.byId = new Map();
    /** Read receipts of others: user id → { name, seq }. */
    this.readers = new Map();
    /** The first page of history has been fetched. */
    this.loaded = false;
    /** History has no messages older than the oldest here. */
    this.complete = false;
  }

  /** The lowest seq held, or 0 when there is none. */
  oldestSeq() {
    const first = this.el.querySelector("li.msg:not(.pending)");
    return first ? Number(first.dataset.seq) : 0;
  }

  /** The highest seq held, or 0. */
  newestSeq() {
    const real = this.el.querySelectorAll("li.msg:not(.pending)");
    return real.length ? Number(real[real.length - 1].dataset.seq) : 0;
  }

  /**
   * Adds a stored message; one already held is left as it is (an update
   * changes it). Returns the new element, or null.
   */
  add(msg) {
    if (!msg?.id || this.byId.has(msg.id)) return null;
    const li = messageElement(msg, this.ctx);
    this.byId.set(msg.id, li);
    // Walk back from the newest message: live ones, the common case, go at the end.
    let after = null;
    for (let c = this.el.lastElementChild; c; c = c.previousElementSibling) {
      if (c.classList.contains("pending")) continue;
      if (Number(c.dataset.seq) < msg.seq) {
        after = c;
        break;
      }
    }
    if (after) after.after(li);
    else this.el.prepend(li);
    this.#placeReceipts();
    return li;
  }

  /** Replaces a held message with its new state (an edit, deletion or reaction). */
  update(msg) {
    const li = this.byId.get(msg.id);
    if (!li) return;
    const focused = li.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
    fillMessage(li, msg, this.ctx);
    // Keep the keyboard where it was: the same button in the redrawn message.
    if (focused) li.querySelector(`.actions button[aria-label="${focused}"]`)?.focus();
  }

  /**
   * Shows a message being sent and follows send(), a promise of its ack:
   * the stored message replaces it, or it turns "Not sent" with a retry
   * that calls resend().
   */
  pending(text, me, send, resend) {
    const li = pendingElement(text, me);
    this.el.append(li);
    send.then(
      (ack) => {
        li.remove();
        // The SDK emits our own message as an event too; whichever comes first shows it.
        this.add({ room: ack.room, id: ack.message_id, seq: ack.seq, ts: ack.ts, from: me, text });
      },
      (err) => {
        markFailed(li, describe(err), () => {
          li.remove();
          resend();
        });
      },
    );
    return li;
  }

  /** Records that user has read up to seq, and moves their "Seen by" mark. */
  read(user, seq) {
    if (user.id === this.ctx.me) return;
    const was = this.readers.get(user.id);
    if (was && was.seq >= seq) return;
    this.readers.set(user.id, { name: user.name, seq });
    this.#placeReceipts();
  }

  // Each reader's mark goes under the newest message at or below their
  // seq that someone else wrote: "Seen by alice" under her own words says
  // nothing.
  #placeReceipts() {
    const marks = new Map();
    const items = [...this.el.querySelectorAll("li.msg:not(.pending)")];
    for (const [id, { name, seq }] of this.readers) {
      for (let i = items.length - 1; i >= 0; i--) {
        if (Number(items[i].dataset.seq) <= seq && items[i].dataset.from !== id) {
          if (!marks.has(items[i])) marks.set(items[i], []);
          marks.get(items[i]).push(name);
          break;
        }
      }
    }
    for (const li of items) {
      const p = li.querySelector(".seen");
      if (!p) continue;
      const names = marks.get(li);
      p.hidden = !names;
      p.textContent = names ? `Seen by ${names.join(", ")}` : "";
    }
  }
}

const REASONS = {
  forbidden: "you may not write here",
  not_joined: "you are no longer in this room",
  not_found: "nobody to send it to",
  too_long: "the message is too long",
  too_large: "the message is too long",
  invalid: "the server refused it",
  unavailable: "the server could not store it",
  timeout: "no answer from the server",
};

/** A few words on why a send failed. */
export function describe(err) {
  return REASONS[err?.code] ?? err?.message ?? "unknown error";
}
