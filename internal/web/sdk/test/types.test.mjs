// parley.d.ts and parley.js cannot drift apart, and the binary serves
// exactly these files.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as sdk from "../parley.js";
import { startServer } from "./helpers.mjs";

const js = readFileSync(new URL("../parley.js", import.meta.url), "utf8");
const dts = readFileSync(new URL("../parley.d.ts", import.meta.url), "utf8");

/** Names a declaration file exports as values (classes and functions). */
function declaredValues(src) {
  return [...src.matchAll(/^export (?:declare )?(?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
}

/** The public members of a class body in parley.d.ts. */
function declaredMembers(cls) {
  const body = new RegExp(`^export declare class ${cls}\\b[^{]*\\{([\\s\\S]*?)^\\}`, "m").exec(dts)?.[1] ?? "";
  return [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(<:?]/gm)].map((m) => m[1]).filter((n) => n !== "constructor");
}

test("every export of parley.js is declared in parley.d.ts, and nothing else", () => {
  assert.deepEqual(declaredValues(dts), Object.keys(sdk).sort());
});

test("the classes' public methods are declared, and declared ones exist", () => {
  for (const cls of ["ParleyClient", "Room"]) {
    const proto = sdk[cls].prototype;
    const actual = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && !n.startsWith("_")).sort();
    const declared = declaredMembers(cls);
    for (const name of actual) assert.ok(declared.includes(name), `${cls}.${name} is not in parley.d.ts`);
    for (const name of declared) {
      assert.ok(name in proto || new RegExp(`this\\.${name} =`).test(js), `${cls}.${name} is declared but parley.js has no such member`);
    }
  }
});

test("every event emitted is declared: ClientEvents and RoomEvents", () => {
  const at = js.indexOf("export class Room");
  const events = (re, src) => new Set([...src.matchAll(re)].map((m) => m[1]));
  const declared = (name) => new RegExp(`export interface ${name} \\{([\\s\\S]*?)^\\}`, "m").exec(dts)[1];
  const cases = [
    ["ClientEvents", events(/this\._emit\("(\w+)"/g, js.slice(0, at))],
    ["RoomEvents", new Set([...events(/(?:room|owner)\??\._emit\("(\w+)"/g, js), ...events(/this\._emit\("(\w+)"/g, js.slice(at))])],
  ];
  for (const [iface, names] of cases) {
    assert.ok(names.size > 3, `found the ${iface} emits`);
    for (const ev of names) assert.match(declared(iface), new RegExp(`^\\s+${ev}:`, "m"), `event ${ev} is not in ${iface}`);
  }
});

test("the binary serves the SDK and its declarations", async (t) => {
  const srv = await startServer(t, []);
  for (const [path, body, type] of [
    ["/sdk/parley.js", js, /^text\/javascript/],
    ["/sdk/parley.d.ts", dts, /^application\/typescript/],
  ]) {
    const res = await fetch(srv.http + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type"), type);
    assert.ok(res.headers.get("etag"));
    const served = await res.text();
    assert.ok(served === body, `${path}: the binary serves ${served.length} characters that differ from the ${body.length} of the file (rebuild it)`);
  }
  // It imports as a module straight from the server.
  const served = await import(`data:text/javascript,${encodeURIComponent(await (await fetch(srv.http + "/sdk/parley.js")).text())}`);
  assert.deepEqual(Object.keys(served), Object.keys(sdk));
});
