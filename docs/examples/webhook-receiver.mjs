// A webhook endpoint for Parley's events, in Node.js with no packages:
// it checks each request's Parley-Signature and prints the events it
// accepts, one JSON line each.
//
//   PARLEY_WEBHOOK_SECRET=... node webhook-receiver.mjs [port]
//
// It prints "listening on http://127.0.0.1:PORT/" first; give that URL to
// POST /api/v1/admin/webhooks with the same secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.PARLEY_WEBHOOK_SECRET;
if (!secret) {
  console.error('set PARLEY_WEBHOOK_SECRET to the webhook\'s secret');
  process.exit(2);
}
const tolerance = 5 * 60; // seconds: refuse replays of old requests
const seen = new Set(); // event ids handled, so a redelivery is done once

// verify reports whether the header signs the body with the secret.
function verify(header, body) {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > tolerance || !parts.v1) return false;
  const want = createHmac('sha256', secret).update(`${parts.t}.`).update(body).digest();
  const got = Buffer.from(parts.v1, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks); // the raw bytes: re-encoded JSON would not match
    if (req.method !== 'POST' || !verify(req.headers['parley-signature'], body)) {
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(body);
    if (!seen.has(event.id)) {
      seen.add(event.id);
      console.log(JSON.stringify(event));
    }
    res.writeHead(204).end(); // any 2xx: Parley will not send it again
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
