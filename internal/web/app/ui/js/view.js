// The open room's frame around its timeline: header, who is online, who
// is typing, and the composer.

import { $, h, hue, initial, show } from "./dom.js";

/** Redraws the header for channel (or for none). */
export function renderHeader(chat, ch) {
  const room = ch?.room;
  $("room-title").textContent = ch ? (ch.kind === "dm" ? `@${ch.title}` : `${room?.private ? "🔒 " : "#"}${ch.title}`) : "";
  $("room-topic").textContent = room?.topic ?? (ch?.kind === "dm" ? "Private conversation" : "");
  const canManage = ch?.kind === "room" && !chat.me.guest;
  show($("invite"), canManage);
  show($("leave"), ch?.kind === "room");
  show($("show-members"), ch?.kind === "room");
  show($("room-h"), !!ch);
  show($("composer"), !!ch);
  show($("scroller"), !!ch);
  show($("empty"), !ch);
  renderMembers(ch);
  renderTyping(ch);
}

/** Redraws the online list and its button. */
export function renderMembers(ch) {
  const room = ch?.room;
  const users = room ? [...room.members.values()].sort((a, b) => a.name.localeCompare(b.name)) : [];
  const button = $("show-members");
  button.textContent = `${users.length} online`;
  $("member-list").replaceChildren(
    ...users.map((u) =>
      h(
        "li",
        { class: "member" },
        h("span", { class: `avatar small ${hue(u.id)}`, "aria-hidden": "true", text: initial(u.name) }),
        h("bdi", { text: u.name }),
        u.guest ? h("span", { class: "hint", text: " (guest)" }) : null,
      ),
    ),
  );
  if (!room) {
    show($("members"), false);
    button.setAttribute("aria-expanded", "false");
  }
}

/** "alice is typing…", from the SDK's typingUsers of the open room. */
export function renderTyping(ch) {
  const names = ch?.room ? [...ch.room.typingUsers.values()].map((u) => u.name) : [];
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = "Several people are typing…";
  $("typing").textContent = text;
}

/**
 * Wires the composer: Enter sends, Shift+Enter is a new line, typing is
 * announced on each keystroke (the SDK spaces the frames out) and stopped
 * when the input is cleared.
 */
export function setupComposer(chat) {
  const form = $("composer");
  const input = $("input");
  form.onsubmit = (e) => {
    e.preventDefault();
    const text = input.value.trim();
    const ch = chat.active;
    if (!text || !ch) return;
    input.value = "";
    chat.send(ch, text);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    const ch = chat.active;
    if (!ch) return;
    if (input.value.trim()) ch.typing();
    else ch.stopTyping();
  });
  $("show-members").onclick = () => {
    const aside = $("members");
    show(aside, aside.hidden);
    $("show-members").setAttribute("aria-expanded", String(!aside.hidden));
  };
}
