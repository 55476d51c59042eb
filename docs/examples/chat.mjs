// A line-based Parley chat client in one file, with nothing to install:
// the WebSocket built into Node.js 22 and later (on Node 20, run it with
// --experimental-websocket).
//
//   node chat.mjs 'ws://localhost:8080/ws/lobby?name=bob'      # as a guest
//   PARLEY_TOKEN=eyJ… node chat.mjs ws://localhost:8080/ws/lobby  # with a token
//
// Every frame the server sends is printed as it arrives, one JSON object a
// line. Each line you type is sent to the room in the URL as a chat
// message; a line starting with "{" is sent as it is, as a raw frame, and
// "/join NAME" moves to another room. End with Ctrl-D.
import { createInterface } from "node:readline";

const url = process.argv[2];
if (!url) {
  console.error("usage: node chat.mjs ws://HOST:PORT/ws/ROOM[?name=NAME]");
  process.exit(2);
}
let room = decodeURIComponent(new URL(url).pathname.split("/")[2] ?? "");
let next = 0;
const waiting = new Set(); // ids of frames sent and not yet answered
let ended = false; // standard input has ended: close once answered
const ws = new WebSocket(url, "parley.v1");

ws.onopen = () => {
  // A browser cannot set an Authorization header on a WebSocket, so a
  // token goes in the first frame, as browsers send it.
  if (process.env.PARLEY_TOKEN) {
    ws.send(JSON.stringify({ type: "auth", body: { token: process.env.PARLEY_TOKEN } }));
  }
};
ws.onmessage = (e) => {
  console.log(e.data);
  const frame = JSON.parse(e.data);
  if (frame.type === "welcome") readInput(); // the session is open
  waiting.delete(frame.id);
  if (ended && waiting.size === 0) ws.close(1000);
};
ws.onclose = (e) => {
  if (e.code !== 1000) console.error(`closed: ${e.code} ${e.reason}`);
  process.exit(e.code === 1000 ? 0 : 1);
};

function send(type, body) {
  const id = `${type[0]}${++next}`;
  waiting.add(id);
  ws.send(JSON.stringify({ type, id, body }));
}

function readInput() {
  const input = createInterface({ input: process.stdin });
  input.on("line", (line) => {
    if (line.startsWith("{")) {
      ws.send(line);
    } else if (line.startsWith("/join ")) {
      room = line.slice(6).trim();
      send("join", { room });
    } else if (line.trim() !== "") {
      send("chat", { room, text: line });
    }
  });
  input.on("close", () => {
    ended = true;
    if (waiting.size === 0) ws.close(1000);
  });
}
