#!/usr/bin/env python3
"""Summarises wrk output for bench/http.sh.

    wrk_summary.py LABEL FILE          one line: label, requests/s, p50, p99, errors
    wrk_summary.py --add LABEL A B     A's summary with B's requests/s added (two instances)
    wrk_summary.py --report DIR        the table and ratios of every suite
    wrk_summary.py --fields FILE       requests/s, p50 and p99 (ms) on one line
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


def line(label, result):
    note = f"  ({result['bad_responses']} non-2xx/3xx)" if result["bad_responses"] else ""
    print(f"{label:>14}: {result['rps']:9.1f} req/s   p50 {result['p50_ms']:7.2f} ms   p99 {result['p99_ms']:7.2f} ms{note}")


def main():
    if sys.argv[1] == "--report":
        report(pathlib.Path(sys.argv[2]))
        return
    if sys.argv[1] == "--fields":
        result = parse(pathlib.Path(sys.argv[2]).read_text())
        print(result["rps"], result["p50_ms"], result["p99_ms"])
        return
    if sys.argv[1] == "--add":
        label, first, second = sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
        a, b = parse(first.read_text()), parse(second.read_text())
        a["rps"] += b["rps"]
        a["bad_responses"] += b["bad_responses"]
        a["p99_ms"] = max(a["p99_ms"], b["p99_ms"])
        first.with_suffix(".json").write_text(json.dumps(a))
        line(label, a)
        return
    label, path = sys.argv[1], pathlib.Path(sys.argv[2])
    result = parse(path.read_text())
    path.with_suffix(".json").write_text(json.dumps(result))
    line(label, result)


def load(work, suite):
    folder = work / suite
    if not folder.is_dir():
        return None
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def hash_rate(path):
    return float(re.search(r"hashes_per_second=([\d.]+)", path.read_text()).group(1))


def logins_per_hash(work, suite, logins):
    """Logins/s over the mean argon2 rate measured right before and after
    that suite's login load."""
    rates = [hash_rate(work / suite / f"hash_rate_{when}.txt") for when in ("before", "after")]
    return logins / (sum(rates) / 2)


def report(work):
    hashes = hash_rate(work / "hash_rate.txt")
    suites = {name: load(work, name) for name in ("cached", "no_event_log", "uncached", "reference", "postgres_redis")}
    print("== summary (requests/s; ratios against each suite's own bare route c)")
    print(f"{'suite':>16} {'a: logged in':>13} {'b: anon redir':>14} {'h: home':>9} {'c: bare':>9} {'a/c':>5} {'b/c':>5} {'p99/p50 a':>9}")
    for name, r in suites.items():
        if not r:
            continue
        a, b, c, h = r["authenticated"], r["anonymous"], r["baseline"], r["home"]
        print(f"{name:>16} {a['rps']:13.0f} {b['rps']:14.0f} {h['rps']:9.0f} {c['rps']:9.0f} "
              f"{a['rps'] / c['rps']:5.2f} {b['rps'] / c['rps']:5.2f} {a['p99_ms'] / a['p50_ms']:9.2f}")
    ours, peer = suites["cached"], suites["reference"]
    print()
    print(f"logged in, ours / reference:  {ours['authenticated']['rps'] / peer['authenticated']['rps']:.2f}   (target >= 1.5)")
    print(f"home page, ours / reference:  {ours['home']['rps'] / peer['home']['rps']:.2f}   (target >= 1.1)")
    print(f"anonymous redirect, ours / reference:  {ours['anonymous']['rps'] / peer['anonymous']['rps']:.2f}   (target >= 1.1)")
    print(f"cache on / AUTH_CACHE=off (logged in):  {ours['authenticated']['rps'] / suites['uncached']['authenticated']['rps']:.2f}")
    print(f"argon2 on 2 threads: {hashes:.1f} hashes/s at the start of the run")
    print(f"logins/s / hashes/s around each login load: "
          f"{logins_per_hash(work, 'cached', ours['logins']['rps']):.2f} (cache on), "
          f"{logins_per_hash(work, 'uncached', suites['uncached']['logins']['rps']):.2f} (off)   (target >= 0.92)")
    if suites["no_event_log"]:
        print(f"logins/s, audit log on / AUTH_EVENT_LOG=off:  "
              f"{ours['logins']['rps'] / suites['no_event_log']['logins']['rps']:.2f}")


if __name__ == "__main__":
    main()
