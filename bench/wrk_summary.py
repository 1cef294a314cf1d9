#!/usr/bin/env python3
"""Summarises wrk output for bench/http.sh.

    wrk_summary.py LABEL FILE     one line: label, requests/s, p50, p99, errors
    wrk_summary.py --report DIR   the table and ratios for one suite
"""
import json
import pathlib
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        latency[pct] = float(value) * UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket = re.search(r"Socket errors:.*", text)
    return {
        "rps": rps,
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "bad_responses": int(errors.group(1)) if errors else 0,
        "socket_errors": socket.group(0) if socket else "",
    }


def main():
    if sys.argv[1] == "--report":
        report(pathlib.Path(sys.argv[2]))
        return
    label, path = sys.argv[1], pathlib.Path(sys.argv[2])
    result = parse(path.read_text())
    path.with_suffix(".json").write_text(json.dumps(result))
    note = f"  ({result['bad_responses']} non-2xx/3xx)" if result["bad_responses"] else ""
    print(f"{label:>14}: {result['rps']:9.1f} req/s   p50 {result['p50_ms']:7.2f} ms   p99 {result['p99_ms']:7.2f} ms{note}")


def report(work):
    r = {name: json.loads((work / f"{name}.json").read_text()) for name in ("baseline", "authenticated", "anonymous", "logins")}
    hashes = float(re.search(r"hashes_per_second=([\d.]+)", (work / "hash_rate.txt").read_text()).group(1))
    a, b, c = r["authenticated"], r["anonymous"], r["baseline"]
    print(f"{'a/c':>14}: {a['rps'] / c['rps']:.2f}   (target >= 0.80)")
    print(f"{'b/c':>14}: {b['rps'] / c['rps']:.2f}   (target >= 0.90)")
    print(f"{'p99/p50 (a)':>14}: {a['p99_ms'] / a['p50_ms']:.2f}   (target <= 2.00)")
    print(f"{'argon2, 2 thr':>14}: {hashes:9.1f} hashes/s")
    print(f"{'logins/hashes':>14}: {r['logins']['rps'] / hashes:.2f}   (target >= 0.90)")


if __name__ == "__main__":
    main()
