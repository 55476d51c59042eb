// One message in a timeline: its element, kept up to date as the message
// is edited, deleted or reacted to, and the actions on it (react, and edit
// and delete for your own). Text goes in as text nodes only (dom.js).

import { h, hue, initial, richText, timeEl } from "./dom.js";

/** The reactions offered in the picker. Any text of 1–16 characters is allowed by the server. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/**
 * What a message element needs from its timeline.
 * @typedef {object} MessageContext
 * @property {string} me the signed-in user's id
 * @property {(id: string) => string} nameOf a user's display name, for reactions
 * @property {(msg: object, text: string) => Promise<unknown>} edit
 * @property {(msg: object) => Promise<unknown>} remove
 * @property {(msg: object, emoji: string, remove: boolean) => Promise<unknown>} react
 * @property {(err: unknown) => void} report shows a failed action to the person
 */

/** Builds the element of a stored message. */
export function messageElement(msg, ctx) {
  const li = h("li", { class: "msg", tabindex: "-1" });
  fillMessage(li, msg, ctx);
  return li;
}

/** Makes li show msg (its newest state). Any edit or confirmation in progress is dropped. */
export function fillMessage(li, msg, ctx) {
  const mine = msg.from?.id === ctx.me;
  li.className = `msg${mine ? " mine" : ""}${msg.deleted ? " deleted" : ""}`;
  li.dataset.id = msg.id;
  li.dataset.seq = String(msg.seq);
  li.dataset.from = msg.from?.id ?? "";
  const seen = li.querySelector(".seen");
  const body = h(
    "div",
    { class: "body" },
    h("div", { class: "meta" }, h("bdi", { class: "author", text: msg.from?.name || msg.from?.id || "?" }), " ", timeEl(msg.ts), msg.edited_at && !msg.deleted ? h("span", { class: "edited", text: " (edited)" }) : null, mine && !msg.deleted ? h("span", { class: "sent", title: "Sent: stored by the server", text: " ✓" }) : null),
    msg.deleted ? h("p", { class: "text", text: "This message was deleted." }) : h("p", { class: "text", dir: "auto" }, ...richText(msg.text)),
    msg.deleted ? null : reactionsElement(msg, ctx),
    seen ?? h("p", { class: "seen", hidden: true }),
  );
  li.replaceChildren(h("div", { class: `avatar ${hue(msg.from?.id ?? "")}`, "aria-hidden": "true", text: initial(msg.from?.name) }), body, msg.deleted ? null : actionsElement(li, msg, mine, ctx));
  li.message = msg;
}

function reactionsElement(msg, ctx) {
  const list = h("div", { class: "reactions" });
  for (const r of msg.reactions ?? []) {
    if (!r.users?.length) continue;
    const mine = r.users.includes(ctx.me);
    const names = r.users.map((id) => (id === ctx.me ? "you" : ctx.nameOf(id))).join(", ");
    list.append(
      h("button", {
        type: "button",
        class: "reaction",
        "aria-pressed": String(mine),
        title: names,
        "aria-label": `${r.emoji} ${r.users.length}: ${names}. ${mine ? "Remove your reaction" : "React too"}`,
        text: `${r.emoji} ${r.users.length}`,
        onclick: () => ctx.react(msg, r.emoji, mine).catch(ctx.report),
      }),
    );
  }
  return list;
}

function actionsElement(li, msg, mine, ctx) {
  const bar = h("div", { class: "actions" });
  bar.append(h("button", { type: "button", class: "icon", "aria-label": "React", title: "React", "aria-expanded": "false", text: "☺", onclick: (e) => togglePicker(li, msg, ctx, e.currentTarget) }));
  if (mine) {
    bar.append(
      h("button", { type: "button", class: "icon", "aria-label": "Edit", title: "Edit", text: "✎", onclick: () => startEdit(li, msg, ctx) }),
      h("button", { type: "button", class: "icon", "aria-label": "Delete", title: "Delete", text: "✕", onclick: () => confirmDelete(li, msg, ctx) }),
    );
  }
  return bar;
}

function togglePicker(li, msg, ctx, opener) {
  const open = li.querySelector(".picker");
  if (open) {
    open.remove();
    opener.setAttribute("aria-expanded", "false");
    return;
  }
  const close = () => {
    picker.remove();
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  };
  const picker = h("div", { class: "picker", role: "group", "aria-label": "Pick a reaction", onkeydown: (e) => e.key === "Escape" && close() });
  for (const emoji of QUICK_REACTIONS) {
    const mine = (msg.reactions ?? []).some((r) => r.emoji === emoji && r.users.includes(ctx.me));
    picker.append(
      h("button", {
        type: "button",
        class: "icon",
        "aria-pressed": String(mine),
        text: emoji,
        onclick: () => {
          close();
          ctx.react(msg, emoji, mine).catch(ctx.report);
        },
      }),
    );
  }
  li.querySelector(".body").append(picker);
  opener.setAttribute("aria-expanded", "true");
  picker.querySelector("button").focus();
}

function startEdit(li, msg, ctx) {
  const text = li.querySelector(".text");
  if (!text || li.querySelector(".editor")) return;
  const input = h("textarea", { class: "edit-input", "aria-label": "Edit message", rows: "2" });
  input.value = msg.text;
  const cancel = () => {
    form.replaceWith(text);
    li.querySelector(".actions button[aria-label=Edit]")?.focus();
  };
  const form = h(
    "form",
    {
      class: "editor",
      onsubmit: async (e) => {
        e.preventDefault();
        const value = input.value.trim();
        if (!value || value === msg.text) return cancel();
        input.disabled = true;
        try {
          await ctx.edit(msg, value);
          // The update event redraws the message; until then show the new text.
          if (form.isConnected) {
            text.replaceChildren(...richText(value));
            cancel();
          }
        } catch (err) {
          input.disabled = false;
          ctx.report(err);
        }
      },
    },
    input,
    h("div", { class: "buttons" }, h("button", { type: "button", text: "Cancel", onclick: cancel }), h("button", { type: "submit", class: "primary", text: "Save" })),
  );
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      cancel();
    } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  text.replaceWith(form);
  input.focus();
}

function confirmDelete(li, msg, ctx) {
  if (li.querySelector(".confirm")) return;
  const back = () => {
    box.remove();
    li.querySelector(".actions button[aria-label=Delete]")?.focus();
  };
  const box = h(
    "div",
    { class: "confirm", role: "group", "aria-label": "Delete this message?", onkeydown: (e) => e.key === "Escape" && back() },
    h("span", { text: "Delete this message?" }),
    h("button", { type: "button", text: "Cancel", onclick: back }),
    h("button", {
      type: "button",
      class: "danger",
      text: "Delete",
      onclick: () => {
        box.remove();
        ctx.remove(msg).catch(ctx.report);
      },
    }),
  );
  li.querySelector(".body").append(box);
  box.querySelector("button").focus();
}

/**
 * The element of a message being sent: "Sending…" until it is stored,
 * then replaced by the stored message, or "Not sent" with a retry.
 */
export function pendingElement(text, me) {
  return h(
    "li",
    { class: "msg mine pending" },
    h("div", { class: `avatar ${hue(me.id)}`, "aria-hidden": "true", text: initial(me.name) }),
    h(
      "div",
      { class: "body" },
      h("div", { class: "meta" }, h("bdi", { class: "author", text: me.name })),
      h("p", { class: "text", dir: "auto" }, ...richText(text)),
      h("p", { class: "status", text: "Sending…" }),
    ),
  );
}

/** Turns a pending element into a failed one, with a Retry button that calls retry. */
export function markFailed(li, why, retry) {
  li.classList.add("failed");
  const status = li.querySelector(".status");
  status.replaceChildren(h("span", { text: `Not sent: ${why}. ` }), h("button", { type: "button", class: "link", text: "Retry", onclick: retry }), " ", h("button", { type: "button", class: "link", text: "Discard", onclick: () => li.remove() }));
}
