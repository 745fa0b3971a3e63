// web-ping: send a request to one host again and again, and log what happens.
// Settings come from the environment so one image serves any target:
//   TARGET    host name to contact (no scheme, no path)
//   METHOD    HTTP method, HEAD by default
//   INTERVAL  milliseconds between two requests
"use strict";

const https = require("https");

const target = process.env.TARGET;
const method = process.env.METHOD || "HEAD";
const every = Number(process.env.INTERVAL || 3000);

if (!target) {
  console.error("web-ping: TARGET is not set; nothing to ping");
  process.exit(2);
}

console.log("** web-ping ** target: %s; method: %s; every %dms", target, method, every);

// A container's main process gets SIGTERM from `docker stop`; leave at once.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}

let count = 0;

function ping() {
  count += 1;
  const n = count;
  const sent = Date.now();
  console.log("request %d sent at %d", n, sent);
  const req = https.request({ hostname: target, method: method, path: "/" }, (res) => {
    res.resume();
    console.log("request %d: status %s after %dms", n, res.statusCode, Date.now() - sent);
  });
  req.on("error", (err) => {
    console.error(err);
  });
  req.end();
}

setInterval(ping, every);
