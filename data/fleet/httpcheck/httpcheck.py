"""httpcheck: ask every host in a list for "/" once and print one line each.

Settings from the environment:
  CHECK_TARGETS  file with one host per line ('#' starts a comment)
  CHECK_TIMEOUT  seconds to wait for each host
  CHECK_REPORT   optional path; when set, the results are also written there as JSON
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request


def read_targets(path):
    with open(path, encoding="utf-8") as handle:
        lines = (line.split("#", 1)[0].strip() for line in handle)
        return [line for line in lines if line]


def check(host, timeout):
    started = time.monotonic()
    request = urllib.request.Request(f"https://{host}/", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            outcome = {"status": response.status}
    except urllib.error.HTTPError as err:
        outcome = {"status": err.code}
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        outcome = {"error": str(reason)}
    outcome["host"] = host
    outcome["ms"] = round((time.monotonic() - started) * 1000)
    return outcome


def main():
    path = os.environ.get("CHECK_TARGETS", "/fleet-targets.list")
    timeout = float(os.environ.get("CHECK_TIMEOUT", "2"))
    try:
        hosts = read_targets(path)
    except OSError as err:
        print(f"httpcheck: cannot read the target list {path}: {err.strerror}", file=sys.stderr)
        return 2
    results = [check(host, timeout) for host in hosts]
    for result in results:
        verdict = result.get("status", result.get("error"))
        print(f"{result['host']:<24} {verdict} ({result['ms']} ms)")
    report = os.environ.get("CHECK_REPORT")
    if report:
        os.makedirs(os.path.dirname(report) or ".", exist_ok=True)
        with open(report, "w", encoding="utf-8") as handle:
            json.dump({"checked_at": time.time(), "results": results}, handle, indent=2)
    return 0 if all("status" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
