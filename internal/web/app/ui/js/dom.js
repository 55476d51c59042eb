// DOM helpers. Every piece of text from users goes into the page as a text
// node (textContent), never as markup: this module is the only place that
// builds elements, and it has no way to parse HTML. The page's Trusted
// Types policy (see internal/web/app/headers.go) would refuse innerHTML
// anyway.

/** Returns the element with this id; the page's markup is fixed, so a missing one is a bug. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no element #${id}`);
  return el;
}

/**
 * Builds an element. props: "class", "text" (textContent), "on<event>"
 * handlers, "dataset", or attributes (true: present, null/false: absent).
 * children: nodes or strings (as text).
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

/** Removes every child of el. */
export function clear(el) {
  el.replaceChildren();
}

// A URL in a message: http or https only, up to white space or a character
// that cannot start or end a link in running text.
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/**
 * Message text as nodes: plain text, with http(s) URLs as links that open
 * in a new tab with no access to this page (rel noopener noreferrer). A
 * "javascript:" or any other scheme stays text.
 * @param {string} text
 * @returns {(string|HTMLElement)[]}
 */
export function richText(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const raw = m[0].replace(TRAILING, "");
    let url;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    out.push(text.slice(last, m.index));
    out.push(h("a", { href: url.href, rel: "noopener noreferrer nofollow", target: "_blank" }, raw));
    last = m.index + raw.length;
  }
  out.push(text.slice(last));
  return out.filter((s) => s !== "");
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A <time> element for an RFC 3339 timestamp: the time of day, the full date as its title. */
export function timeEl(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return h("time", { text: "" });
  return h("time", { datetime: ts, title: fullFmt.format(d), text: timeFmt.format(d) });
}

/** One of eight colour classes, picked from an id, so each person keeps a colour. */
export function hue(id) {
  let n = 0;
  for (const c of id) n = (n * 31 + c.codePointAt(0)) >>> 0;
  return `hue-${n % 8}`;
}

/** The first letter of a name, for an avatar. */
export function initial(name) {
  const c = [...(name || "?").trim()][0] ?? "?";
  return c.toUpperCase();
}

/** Shows or hides an element (the hidden attribute, never inline styles, which the CSP forbids). */
export function show(el, visible) {
  el.hidden = !visible;
}

/** Sets the text of a form's error line. */
export function formError(form, message) {
  const p = form.querySelector(".error");
  if (p) p.textContent = message || "";
}
