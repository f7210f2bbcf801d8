// A webhook receiver for the tests: an HTTP server on loopback that checks every delivery with the
// npm standardwebhooks package (the Standard Webhooks project's own TypeScript implementation),
// keeps what it received, and answers with the failures it is told to.
//
//   node webhook-receiver.mjs <whsec_secret> [port]      prints "listening <port>" once it listens (any free port without one)
//
//   POST /...                 a delivery: verified, recorded, answered 204 (or the next planned failure)
//   POST /_plan               {"failures": [{"status": 503, "retryAfter": "1"}, {"hang": true}, ...]} answers the next
//                             deliveries so (hang: no answer at all, until the sender gives up)
//   GET  /_received           every delivery so far: [{id, timestamp, receivedAt, verified, error, answered, body}]
import http from "node:http";
import { Webhook } from "standardwebhooks";

const secret = process.argv[2];
const webhook = new Webhook(secret.replace(/^whsec_/, ""));
const received = [];
let plan = [];

function read(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

const server = http.createServer(async (request, response) => {
  const body = await read(request);
  if (request.method === "GET" && request.url === "/_received") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(received));
    return;
  }

  if (request.method === "POST" && request.url === "/_plan") {
    plan = JSON.parse(body).failures;
    response.writeHead(204);
    response.end();
    return;
  }

  let verified = false;
  let error = null;
  let payload = null;
  try {
    payload = webhook.verify(body, {
      "webhook-id": request.headers["webhook-id"],
      "webhook-timestamp": request.headers["webhook-timestamp"],
      "webhook-signature": request.headers["webhook-signature"],
    });
    verified = true;
  } catch (e) {
    error = String(e.message ?? e);
  }

  const failure = plan.shift();
  const answered = failure?.hang ? 0 : (failure?.status ?? (verified ? 204 : 400));
  received.push({
    id: request.headers["webhook-id"] ?? null,
    timestamp: request.headers["webhook-timestamp"] ?? null,
    receivedAt: Date.now(),
    path: request.url,
    verified,
    error,
    answered,
    body: payload,
  });
  if (failure?.hang) {
    return; // the sender times out or goes away
  }

  const headers = failure?.retryAfter ? { "retry-after": failure.retryAfter } : {};
  response.writeHead(answered, headers);
  response.end();
});

server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
