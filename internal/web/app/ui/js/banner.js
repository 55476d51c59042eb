// The connection banner: says when the connection is lost and being
// retried, and goes away by itself when it is back (the SDK re-joins and
// catches up every room, so there is nothing for the person to do). It
// also shows short notices: the server's, and actions that failed.

import { $, show } from "./dom.js";

// A lost connection is announced only if it is not back within this long,
// so a blip (a server restart takes well under a second) does not flash.
const GRACE_MS = 800;

export class Banner {
  #timer = 0;
  #noticeTimer = 0;
  #state = "connecting";

  constructor(client) {
    this.el = $("banner");
    this.text = $("banner-text");
    this.action = $("banner-action");
    client.on("state", ({ state }) => this.#onState(state));
  }

  #onState(state) {
    this.#state = state;
    clearTimeout(this.#timer);
    if (state === "connected" || state === "closed") {
      if (this.el.dataset.kind === "connection") this.hide();
      return;
    }
    const text = state === "reconnecting" ? "Connection lost. Reconnecting…" : "Connecting…";
    this.#timer = setTimeout(() => this.#set("connection", text), GRACE_MS);
  }

  /** Shows a notice for a few seconds (unless the connection banner is up). */
  notice(text, kind = "notice") {
    if (this.el.dataset.kind === "connection" && !this.el.hidden) return;
    this.#set(kind, text);
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => {
      if (this.el.dataset.kind === kind) this.hide();
    }, 6000);
  }

  #set(kind, text) {
    this.el.dataset.kind = kind;
    this.text.textContent = text;
    show(this.action, false);
    show(this.el, true);
  }

  hide() {
    show(this.el, false);
    delete this.el.dataset.kind;
  }
}
