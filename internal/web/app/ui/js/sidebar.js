// The list of rooms and conversations, with unread badges, and the
// page title, which carries the total so a background tab shows it.

import { $, h } from "./dom.js";

/** Redraws both lists from chat.channels and the client's unread counts. */
export function renderSidebar(chat) {
  const rooms = [];
  const dms = [];
  let total = 0;
  for (const ch of chat.channels.values()) (ch.kind === "room" ? rooms : dms).push(ch);
  const byTitle = (a, b) => a.title.localeCompare(b.title);
  for (const [list, channels] of [
    [$("room-list"), rooms.sort(byTitle)],
    [$("dm-list"), dms.sort(byTitle)],
  ]) {
    list.replaceChildren(
      ...channels.map((ch) => {
        const unread = ch === chat.active ? 0 : (chat.client.unread.get(ch.key)?.unread ?? 0);
        total += unread;
        const isPrivate = ch.kind === "room" && ch.room?.private;
        return h(
          "li",
          {},
          h(
            "a",
            { href: ch.href, class: unread ? "unread" : null, "aria-current": ch === chat.active ? "page" : null, dataset: { key: ch.key } },
            h("span", { class: "sigil", "aria-hidden": "true", text: ch.kind === "dm" ? "@" : isPrivate ? "🔒" : "#" }),
            h("bdi", { class: "name", text: ch.title }),
            isPrivate ? h("span", { class: "visually-hidden", text: " (private)" }) : null,
            unread ? h("span", { class: "badge", text: unread > 99 ? "99+" : String(unread), "aria-label": `${unread} unread` }) : null,
          ),
        );
      }),
    );
    if (!channels.length) {
      list.append(h("li", { class: "none", text: list.id === "room-list" ? "No rooms yet" : "No conversations yet" }));
    }
  }
  document.title = total ? `(${total}) Parley` : "Parley";
}
