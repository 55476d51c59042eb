// Who is signed in, and where their credentials are kept.
//
// The access token lives in memory only. The refresh token (or a guest's
// guest_token) is kept in sessionStorage, which ends with the tab, unless
// the person ticks "stay signed in", when it goes to localStorage and
// survives closing the browser. Either store is readable by any script of
// this origin, which the strict CSP limits to the app's own files; cookies
// are not used, so there is nothing for cross-site requests to ride on.
// docs/WEBAPP.md explains the choice to people.

import { login, refresh, register } from "/sdk/parley.js";

const KEY = "parley.session";

function read(store) {
  try {
    const v = store.getItem(KEY);
    return v ? JSON.parse(v) : null;
  } catch {
    return null; // storage disabled, or a value another version wrote
  }
}

/** The WebSocket endpoint of the server that served this page. */
export function wsURL() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

/** A signed-in account or a guest, with where its credentials are stored. */
export class Session {
  #store;
  #data;
  #access = null;
  #renewing = null;

  constructor(store, data, access = null) {
    this.#store = store;
    this.#data = data;
    this.#access = access;
  }

  /** The session kept by an earlier page load of this tab (or, if stayed, of this browser), or null. */
  static restore() {
    for (const store of [sessionStorage, localStorage]) {
      const data = read(store);
      if (data?.kind === "account" && data.refresh) return new Session(store, data);
      if (data?.kind === "guest" && data.name !== undefined) return new Session(store, data);
    }
    return null;
  }

  static async signIn({ username, password, stay }) {
    return Session.#fromTokens(await login(location.origin, { username, password }), stay);
  }

  static async signUp({ username, password, displayName, stay }) {
    return Session.#fromTokens(await register(location.origin, { username, password, displayName }), stay);
  }

  static guest({ name, stay }) {
    const s = new Session(stay ? localStorage : sessionStorage, { kind: "guest", name });
    s.#save();
    return s;
  }

  static #fromTokens(tokens, stay) {
    const s = new Session(stay ? localStorage : sessionStorage, { kind: "account", refresh: tokens.refresh_token }, tokens.access_token);
    s.#save();
    return s;
  }

  get guest() {
    return this.#data.kind === "guest";
  }

  /** The current access token (null for guests and before the first refresh). */
  accessToken() {
    return this.#access;
  }

  /**
   * A fresh access token from the refresh token, for the SDK's getToken and
   * for an API call refused with 401. Tabs sharing localStorage take turns
   * (Web Locks where the browser has them) and each reads the newest
   * refresh token first, because refreshing rotates it: a tab holding an
   * old copy would otherwise be signed out. Returns null when the session
   * was ended in another tab.
   */
  renew() {
    this.#renewing ??= this.#locked(async () => {
      const stored = read(this.#store);
      if (!stored || stored.kind !== "account") return null;
      const tokens = await refresh(location.origin, stored.refresh);
      this.#data = { kind: "account", refresh: tokens.refresh_token };
      this.#access = tokens.access_token;
      this.#save();
      return tokens.access_token;
    }).finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  #locked(fn) {
    return navigator.locks ? navigator.locks.request("parley.refresh", fn) : fn();
  }

  /** The ParleyClient options that connect as this session. */
  clientOptions() {
    if (this.guest) {
      return { url: wsURL(), guest: this.#data.name, guestToken: this.#data.guestToken };
    }
    return { url: wsURL(), token: this.#access ?? undefined, getToken: () => this.renew() };
  }

  /** Keeps a guest's newest guest_token, so a reload comes back as the same guest. */
  keepGuestToken(token) {
    if (!this.guest || !token || token === this.#data.guestToken) return;
    this.#data = { ...this.#data, guestToken: token };
    this.#save();
  }

  /**
   * The rooms a guest had joined, kept with the session: the server keeps
   * no memberships for guests, so a reload re-joins these.
   */
  get guestRooms() {
    return this.guest ? (this.#data.rooms ?? []) : [];
  }

  set guestRooms(rooms) {
    if (!this.guest) return;
    this.#data = { ...this.#data, rooms };
    this.#save();
  }

  /** True while this session is still the one stored (not signed out in another tab). */
  stillStored() {
    return read(this.#store) !== null;
  }

  /** Ends the session on the server (accounts) and forgets it here. */
  async signOut() {
    const data = this.#data;
    this.forget();
    if (data.kind === "account") {
      await fetch("/api/v1/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: data.refresh }),
      }).catch(() => {});
    }
  }

  /** Forgets the session in this browser. */
  forget() {
    try {
      this.#store.removeItem(KEY);
    } catch {
      // storage disabled: nothing was kept
    }
  }

  #save() {
    try {
      this.#store.setItem(KEY, JSON.stringify(this.#data));
    } catch {
      // storage disabled or full: the session lasts as long as the page
    }
  }
}

/**
 * Calls fn when another tab of this browser signs out (removes the shared
 * session); returns a function that stops listening.
 */
export function onSignedOutElsewhere(fn) {
  const listener = (e) => {
    if (e.key === KEY && e.newValue === null && e.storageArea === localStorage) fn();
  };
  addEventListener("storage", listener);
  return () => removeEventListener("storage", listener);
}
