// pingall: one HEAD request to every host in a list, then a summary line.
// PINGALL_TARGETS names the list (one host per line, '#' starts a comment).
"use strict";

const fs = require("fs");
const https = require("https");

const listPath = process.env.PINGALL_TARGETS || "/fleet-targets.list";
const timeoutMs = Number(process.env.PINGALL_TIMEOUT || 2000);

function readHosts(path) {
  return fs.readFileSync(path, "utf8")
    .split("\n")
    .map((line) => line.split("#")[0].trim())
    .filter((line) => line.length > 0);
}

function head(host) {
  return new Promise((resolve) => {
    const sent = Date.now();
    const req = https.request({ hostname: host, method: "HEAD", path: "/", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ host, ok: true, detail: String(res.statusCode), ms: Date.now() - sent });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ host, ok: false, detail: err.code || err.message, ms: Date.now() - sent }));
    req.end();
  });
}

async function main() {
  let hosts;
  try {
    hosts = readHosts(listPath);
  } catch (err) {
    console.error("pingall: cannot read the target list %s: %s", listPath, err.code || err.message);
    process.exit(2);
  }
  const results = await Promise.all(hosts.map(head));
  for (const r of results) {
    console.log("%s %s %s (%dms)", r.ok ? "ok  " : "fail", r.host, r.detail, r.ms);
  }
  const good = results.filter((r) => r.ok).length;
  console.log("pingall: %d of %d hosts answered", good, results.length);
  process.exit(good === results.length ? 0 : 1);
}

main();
