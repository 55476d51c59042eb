// The sign-in screen: sign in, create an account, or enter as a guest,
// showing only the ways in the server offers (GET /api/v1/config).

import { $, formError, show } from "./dom.js";
import { Session } from "./session.js";

const MESSAGES = {
  unauthorized: "Wrong username or password.",
  rate_limited: "Too many attempts; wait a minute and try again.",
  forbidden: "This account is disabled.",
};

/** A person-readable sentence for a failed sign-in or sign-up. */
function explain(err) {
  if (err instanceof TypeError) return "The server cannot be reached. Check your connection and try again.";
  // The server's sentence names the existing name it looks like.
  if (err?.code === "lookalike") return err.message;
  if (err?.status === 409) return "That username is taken.";
  return MESSAGES[err?.code] ?? err?.message ?? "Something went wrong.";
}

/**
 * Shows the sign-in screen and resolves with a Session once the person is
 * in. notice, if given, is shown first (why they are here again).
 * @param {{ accounts: boolean, guests: boolean }} config
 * @param {string} [notice]
 * @returns {Promise<Session>}
 */
export function signIn(config, notice) {
  document.body.dataset.screen = "signin";
  show($("signin"), true);
  show($("chat"), false);
  const tabs = { login: $("tab-login"), register: $("tab-register"), guest: $("tab-guest") };
  const forms = { login: $("form-login"), register: $("form-register"), guest: $("form-guest") };
  show(tabs.login, config.accounts);
  show(tabs.register, config.accounts);
  show(tabs.guest, config.guests);
  show($("signin-off"), !config.accounts && !config.guests);

  const select = (name) => {
    for (const [k, tab] of Object.entries(tabs)) {
      tab.setAttribute("aria-selected", String(k === name));
      tab.tabIndex = k === name ? 0 : -1;
      show(forms[k], k === name);
    }
  };
  const available = Object.keys(tabs).filter((k) => !tabs[k].hidden);
  if (available.length === 0) return new Promise(() => {});
  select(available[0]);
  if (notice) formError(forms[available[0]], notice);
  for (const [k, tab] of Object.entries(tabs)) {
    tab.onclick = () => {
      select(k);
      forms[k].querySelector("input")?.focus();
    };
    // Arrow keys move between tabs, as the ARIA tabs pattern has it.
    tab.onkeydown = (e) => {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      const i = available.indexOf(k);
      const next = available[(i + (e.key === "ArrowRight" ? 1 : available.length - 1)) % available.length];
      select(next);
      tabs[next].focus();
    };
  }
  forms[available[0]].querySelector("input")?.focus();

  return new Promise((resolve) => {
    const handle = (form, attempt) => {
      form.onsubmit = async (e) => {
        e.preventDefault();
        const button = form.querySelector("button[type=submit]");
        formError(form, "");
        if (!form.checkValidity()) {
          formError(form, "Fill in the fields marked as required.");
          form.querySelector(":invalid")?.focus();
          return;
        }
        button.disabled = true;
        try {
          const f = new FormData(form);
          const session = await attempt(f, f.get("stay") === "on");
          form.reset();
          show($("signin"), false);
          resolve(session);
        } catch (err) {
          formError(form, explain(err));
        } finally {
          button.disabled = false;
        }
      };
    };
    handle(forms.login, (f, stay) => Session.signIn({ username: f.get("username").trim(), password: f.get("password"), stay }));
    handle(forms.register, (f, stay) =>
      Session.signUp({
        username: f.get("username").trim(),
        password: f.get("password"),
        displayName: f.get("display").trim() || undefined,
        stay,
      }),
    );
    handle(forms.guest, async (f, stay) => Session.guest({ name: f.get("name").trim(), stay }));
  });
}
