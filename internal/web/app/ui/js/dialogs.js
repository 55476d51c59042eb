// The four dialogs: create a room, find (and join) one, invite someone to
// the open room, and start a private conversation. Each is a <dialog>,
// which keeps the keyboard inside it and closes on Escape.

import { seg } from "./api.js";
import { $, formError, h } from "./dom.js";

/** Opens dialog id with its form reset; submit calls onSubmit(form) and closes on success. */
function dialog(id, onSubmit, onOpen) {
  const dlg = $(id);
  const form = dlg.querySelector("form");
  dlg.querySelector("button[value=cancel]").onclick = () => dlg.close();
  form.onsubmit = async (e) => {
    e.preventDefault();
    formError(form, "");
    if (!form.checkValidity()) {
      formError(form, "Fill in the fields marked as required.");
      form.querySelector(":invalid")?.focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      if ((await onSubmit(form)) !== false) dlg.close();
    } catch (err) {
      formError(form, explain(err));
    } finally {
      submit.disabled = false;
    }
  };
  return () => {
    form.reset();
    formError(form, "");
    const ok = form.querySelector(".ok");
    if (ok) ok.textContent = "";
    dlg.showModal();
    onOpen?.(form);
  };
}

function explain(err) {
  if (err?.status === 404) return "No user has that name.";
  if (err?.status === 409) return "A room of that name exists already. Find it to join it.";
  if (err?.status === 403) return "You are not allowed to do that here.";
  if (err?.code === "invalid_room") return "Room names are letters, digits, '-', '_' and '.', starting with a letter or digit.";
  if (err?.code === "forbidden") return "That room is private; ask a member to invite you.";
  return err?.message || "Something went wrong.";
}

const go = (href) => {
  location.hash = href;
};

export function setupDialogs(chat) {
  const openCreate = dialog("dlg-create", async (form) => {
    const f = new FormData(form);
    const topic = f.get("topic").trim();
    const room = await chat.api("POST", "/rooms", { name: f.get("name").trim(), private: f.get("private") === "on", ...(topic ? { topic } : {}) });
    await chat.client.join(room.name);
    go(`#/r/${encodeURIComponent(room.name)}`);
  });

  const openFind = dialog(
    "dlg-find",
    async (form) => {
      const room = await chat.client.join(new FormData(form).get("name").trim());
      go(`#/r/${encodeURIComponent(room.name)}`);
    },
    async (form) => {
      const list = form.querySelector(".found");
      const input = form.elements.name;
      input.required = true;
      list.replaceChildren();
      if (chat.me.guest) {
        list.append(h("li", { class: "hint", text: "Guests cannot list rooms; type a room's name to join it." }));
        return;
      }
      let rooms = [];
      try {
        rooms = (await chat.api("GET", "/rooms")).rooms ?? [];
      } catch (err) {
        formError(form, explain(err));
      }
      const draw = () => {
        const q = input.value.trim().toLowerCase();
        const shown = rooms.filter((r) => r.name.includes(q)).slice(0, 50);
        list.replaceChildren(
          ...shown.map((r) =>
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: "room-choice",
                  onclick: async () => {
                    try {
                      await chat.client.join(r.name);
                      $("dlg-find").close();
                      go(`#/r/${encodeURIComponent(r.name)}`);
                    } catch (err) {
                      formError(form, explain(err));
                    }
                  },
                },
                h("span", { class: "sigil", "aria-hidden": "true", text: r.private ? "🔒" : "#" }),
                h("bdi", { class: "name", text: r.name }),
                r.topic ? h("span", { class: "hint", dir: "auto", text: ` ${r.topic}` }) : null,
                chat.channels.has(r.name) ? h("span", { class: "hint", text: " (joined)" }) : null,
              ),
            ),
          ),
        );
        if (!shown.length) list.append(h("li", { class: "hint", text: q ? "No public room matches; Join creates it." : "No rooms yet." }));
      };
      input.oninput = draw;
      draw();
    },
  );

  const openInvite = dialog("dlg-invite", async (form) => {
    const ch = chat.active;
    if (!ch || ch.kind !== "room") return;
    const name = new FormData(form).get("username").trim();
    const user = await chat.client.lookupUser(name);
    await chat.api("PUT", `/rooms/${seg(ch.key)}/members/${seg(user.id)}`);
    form.querySelector(".ok").textContent = `${user.name} (${user.username}) is now a member of ${ch.key}.`;
    form.elements.username.value = "";
    return false; // stay open: invite another
  });

  const openDM = dialog("dlg-dm", async (form) => {
    const name = new FormData(form).get("username").trim();
    const user = await chat.client.lookupUser(name);
    if (user.id === chat.me.id) throw new Error("That is you.");
    chat.names.set(user.id, user.name);
    chat.conversation(user.id);
    go(`#/dm/${encodeURIComponent(user.id)}`);
  });

  $("new-room").onclick = openCreate;
  $("find-room").onclick = openFind;
  $("invite").onclick = openInvite;
  $("new-dm").onclick = openDM;
  // Guests can neither create rooms over the API nor invite.
  $("new-room").hidden = chat.session.guest;
}
