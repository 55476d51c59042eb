// Test helpers for the SDK suite: the real parley binary (started, stopped
// and restarted on the same port and data directory), a TCP proxy that can
// cut or silence a connection, bounded waits, and HS256 tokens. Run by
// TestSDK in internal/web, which builds the binary and sets PARLEY_TEST_BIN;
// by hand:
//
//   go build -o /tmp/parley ./cmd/parley
//   PARLEY_TEST_BIN=/tmp/parley node --test internal/web/sdk/test/*.test.mjs
//
// (Node 20 needs --experimental-websocket before --test.)
import { execFile, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParleyClient } from "../parley.js";

const BIN = process.env.PARLEY_TEST_BIN;

/**
 * Starts the parley binary on a free port of 127.0.0.1 in a fresh data
 * directory, with extra flags, and waits until /readyz answers. The
 * returned server can stop() (SIGTERM, the graceful path: clients get
 * 1012), kill() (SIGKILL), pause()/resume() (SIGSTOP/SIGCONT) and
 * restart() on the same port and data directory. t.after stops it.
 *
 * The port is below 32768, outside the ephemeral range (32768-60999
 * here): while a server is down, its clients keep dialling it, and a port
 * from the ephemeral range could be taken as the source port of one of
 * those connections, so that the restart could not bind it again.
 */
export async function startServer(t, flags = []) {
  if (!BIN) throw new Error("PARLEY_TEST_BIN is not set: go build -o /tmp/parley ./cmd/parley, then PARLEY_TEST_BIN=/tmp/parley node --test …");
  const dataDir = mkdtempSync(join(tmpdir(), "parley-sdk-"));
  const s = new Server(dataDir, flags);
  t.after(async () => {
    await s.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await s.start(`127.0.0.1:${await freeLowPort()}`);
      return s;
    } catch (err) {
      if (attempt >= 5 || !/address already in use/.test(err.message)) throw err;
    }
  }
}

/** A port below 32768 that 127.0.0.1 can listen on now. */
async function freeLowPort() {
  for (let i = 0; i < 100; i++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    const free = await new Promise((resolve) => {
      const probe = net.createServer();
      probe.once("error", () => resolve(false));
      probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port below 32768 on 127.0.0.1");
}

class Server {
  constructor(dataDir, flags) {
    this.dataDir = dataDir;
    this.flags = flags;
    this.proc = null;
    this.port = 0;
    this.log = [];
  }

  get http() { return `http://127.0.0.1:${this.port}`; }
  get ws() { return `ws://127.0.0.1:${this.port}/ws`; }

  async start(addr) {
    // Guests may create rooms by joining them, as the SDK's examples do;
    // a test's own flags come after and win.
    const args = ["serve", "--addr", addr, "--data-dir", this.dataDir, "--log-format", "json",
      "--shutdown-timeout", "2s", "--room-creation", "anyone", ...this.flags];
    const proc = spawn(BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = proc;
    proc.exited = new Promise((resolve) => proc.once("exit", resolve));
    let buf = "";
    const listening = new Promise((resolve, reject) => {
      proc.stderr.on("data", (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          this.log.push(line);
          if (this.log.length > 200) this.log.shift();
          if (process.env.PARLEY_TEST_VERBOSE) process.stderr.write(line + "\n");
          const m = /"msg":"parley listening","url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(line);
          if (m) resolve(Number(m[1]));
        }
      });
      proc.exited.then((code) => reject(new Error(`parley exited with ${code} before listening:\n${this.log.join("\n")}`)));
    });
    this.port = await within(15000, listening, "parley to listen");
    await waitFor(async () => (await fetch(this.http + "/readyz").catch(() => null))?.ok, { timeout: 15000, message: "parley to be ready" });
  }

  /** Graceful stop (SIGTERM); resolves when the process has exited. */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill("SIGTERM");
    await within(15000, this.proc.exited, "parley to stop");
  }

  async kill() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill("SIGCONT");
    this.proc.kill("SIGKILL");
    await within(15000, this.proc.exited, "parley to die");
  }

  /** SIGSTOP, and wait until the process is stopped (the signal is asynchronous). */
  async pause() {
    this.proc.kill("SIGSTOP");
    await waitFor(() => {
      try {
        return readFileSync(`/proc/${this.proc.pid}/stat`, "utf8").split(") ")[1]?.[0] === "T";
      } catch {
        return true; // no /proc: nothing better to wait for
      }
    }, { message: "the server to stop" });
  }
  resume() { this.proc.kill("SIGCONT"); }

  /** Starts the binary again on the same port and data directory. */
  async restart() {
    await this.start(`127.0.0.1:${this.port}`);
  }

  /** Runs a parley admin command (user, apikey) on this server's data directory; resolves with its output. */
  cli(args, env = {}) {
    return new Promise((resolve, reject) => {
      execFile(BIN, [...args, "--data-dir", this.dataDir], { env: { ...process.env, ...env }, timeout: 15000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`parley ${args.join(" ")}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** An API key with these scopes, made with parley apikey create. */
  async apiKey(scopes) {
    const out = await this.cli(["apikey", "create", "--json", "--name", unique("key"), "--scopes", scopes.join(",")]);
    return JSON.parse(out).key;
  }

  /** A server administrator, made with parley user create --admin and signed in: the token response. */
  async admin() {
    const username = unique("root");
    const password = "correct horse battery";
    await this.cli(["user", "create", "--admin", username], { PARLEY_PASSWORD: password });
    return (await this.api("POST", "/api/v1/auth/login", null, { username, password })).body;
  }

  /** Calls the HTTP API with a bearer token; resolves with { status, body } and throws on a status >= 400. */
  async api(method, path, token, body) {
    const headers = token ? { Authorization: "Bearer " + token } : {};
    const res = await fetch(this.http + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
}

/** A client closed when the test ends, whatever happens in it. */
export function client(t, options) {
  const c = new ParleyClient(options);
  t.after(() => c.close());
  return c;
}

/** Rejects if p does not settle within ms. */
export function within(ms, p, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls cond (which may be async) until it is truthy, at most timeout ms. */
export async function waitFor(cond, { timeout = 10000, interval = 10, message = "a condition" } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Resolves with the next event of this name that passes filter. */
export function nextEvent(emitter, name, { timeout = 10000, filter = () => true } = {}) {
  let off;
  const p = new Promise((resolve) => {
    off = emitter.on(name, (payload) => {
      if (!filter(payload)) return;
      off();
      resolve(payload);
    });
  });
  return within(timeout, p, `event ${name}`).finally(() => off());
}

/** Records every event of the given names on an emitter, in order. */
export function record(emitter, names) {
  const events = [];
  for (const n of names) emitter.on(n, (p) => events.push({ name: n, ...p }));
  return events;
}

/**
 * A TCP proxy on 127.0.0.1 in front of port. mode "pass" forwards both
 * ways; "refuse" closes new connections at once; "mute" forwards what the
 * client sends but drops what the server answers (a dead network as the
 * client sees it). cut() ends every open connection without a close frame.
 */
export async function startProxy(t, port) {
  const socks = new Set();
  const p = {
    mode: "pass",
    port: 0,
    cut() {
      for (const s of socks) s.destroy();
      socks.clear();
    },
  };
  const server = net.createServer((client) => {
    if (p.mode === "refuse") return client.destroy();
    const upstream = net.connect(port, "127.0.0.1");
    socks.add(client);
    socks.add(upstream);
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => { if (p.mode !== "mute") client.write(d); });
    const end = () => { client.destroy(); upstream.destroy(); socks.delete(client); socks.delete(upstream); };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  p.port = server.address().port;
  p.ws = `ws://127.0.0.1:${p.port}/ws`;
  t.after(() => {
    p.cut();
    return new Promise((r) => server.close(r));
  });
  return p;
}

/** Writes an HS256 secret to a file and returns the path and a signer. */
export function hs256Issuer(t) {
  const dir = mkdtempSync(join(tmpdir(), "parley-jwt-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = "0123456789abcdef0123456789abcdef0123456789abcdef";
  const file = join(dir, "secret.txt");
  writeFileSync(file, secret, { mode: 0o600 });
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return {
    file,
    flags: ["--jwt-algorithm", "HS256", "--jwt-secret-file", file],
    /** A token for sub that expires in ttlSeconds (whole seconds, as JWTs count). */
    sign(sub, ttlSeconds, extra = {}) {
      const head = b64({ alg: "HS256", typ: "JWT" });
      const body = b64({ sub, exp: Math.floor(Date.now() / 1000) + ttlSeconds, ...extra });
      const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
      return `${head}.${body}.${sig}`;
    },
  };
}

/**
 * Wraps the global WebSocket so a test can count dials, see their URLs and
 * the frames sent, and reach the raw socket of the latest connection (to
 * send what the SDK never would).
 */
export function countingWebSocket() {
  const Base = globalThis.WebSocket;
  const info = { dials: 0, last: null, sent: [], urls: [] };
  info.WebSocket = class extends Base {
    constructor(url, protocols) {
      super(url, protocols);
      info.dials++;
      info.urls.push(String(url));
      info.last = this;
    }

    send(data) {
      if (typeof data === "string") info.sent.push(JSON.parse(data));
      super.send(data);
    }
  };
  return info;
}

let seq = 0;
/** A unique name for an account or room in this process. */
export function unique(prefix) {
  return `${prefix}${process.pid.toString(36)}${(++seq).toString(36)}`;
}
