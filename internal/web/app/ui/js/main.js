// The web app's entry point: find out how the server lets people in, sign
// in (or resume the session this browser kept), then run the chat until
// the session ends, and start over.

import { ClosedError, HttpError, ParleyClient } from "/sdk/parley.js";
import { createApi } from "./api.js";
import { Chat } from "./chat.js";
import { onSignedOutElsewhere, Session } from "./session.js";
import { signIn } from "./signin.js";

async function serverConfig() {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
    try {
      const res = await fetch("/api/v1/config", { cache: "no-store" });
      if (res.ok) return await res.json();
    } catch {
      // the server is unreachable: try again, as the chat itself would
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Why a session ended, for the sign-in screen; "" when the person signed out. */
function reason(err) {
  if (!err) return "";
  if (err instanceof HttpError || (err instanceof ClosedError && (err.closeCode === 4001 || err.closeCode === 4002))) {
    return "Your session has ended. Sign in again.";
  }
  if (err instanceof ClosedError && err.closeCode === 4003) {
    return `You were disconnected by the server${err.reason ? `: ${err.reason}` : ""}.`;
  }
  return err.message || "You were disconnected.";
}

async function run() {
  const config = await serverConfig();
  let session = Session.restore();
  let notice = "";
  for (;;) {
    if (!session) session = await signIn(config, notice);
    const s = session;
    const client = new ParleyClient(s.clientOptions());
    const api = createApi({ accessToken: () => s.accessToken(), renew: s.guest ? null : () => s.renew() });
    const chat = new Chat({ client, session: s, api });
    const stop = onSignedOutElsewhere(() => chat.end(null));
    const err = await chat.run();
    stop?.();
    s.forget();
    notice = reason(err);
    session = null;
  }
}

run();
