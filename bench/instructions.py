#!/usr/bin/env python3
"""Instructions per HTTP request, ours against the reference, counted by
callgrind inside each server process: a figure that does not drift with
the machine's load, and that wrk cannot cap (with one wrk thread on two
cores, a bare route of either stack runs at wrk's own ceiling).

    bench/instructions.py [REQUESTS]      # default 2000 per load
    bench/instructions.py --ab A_BINARY [REQUESTS]
                                          # ours against another build of
                                          # the example (bench/ab.sh leaves
                                          # one in target/ab/release)

Builds the example and the reference (bench/reference) in release, runs
each under `valgrind --tool=callgrind`, and over one keep-alive
connection sends each load: (c) the bare route, (a) the logged-in
profile, (b) the login redirect, (h) the home page. Around each load's
REQUESTS requests (after 200 to warm up) it asks callgrind for a dump;
the instructions between the two dumps, less what the idle server runs
in that time (its background tasks, measured over an idle stretch), are
divided by REQUESTS. Prints a table and the ratios reference / ours
(above 1: ours does less work per request).

Ours is measured twice: as configured by default, and with the four
security headers the reference does not send (`X-Content-Type-Options`,
`X-Frame-Options`, `Referrer-Policy`, `Cross-Origin-Opener-Policy`,
Django's defaults) turned off through their settings, so that what those
headers cost each load is a figure of every run, not an estimate.
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1234"
PORT = int(os.environ.get("BENCH_PORT", "18180"))
LOADS = [
    ("c", "bare route", "/__bench/profile/", False),
    ("a", "logged in", "/profile/", True),
    ("b", "login redirect", "/profile/", False),
    ("h", "home", "/", False),
]
# Django's SecurityMiddleware and XFrameOptionsMiddleware defaults, off.
NO_SECURITY_HEADERS = {
    "AUTH_SECURE_CONTENT_TYPE_NOSNIFF": "false",
    "AUTH_X_FRAME_OPTIONS": "",
    "AUTH_SECURE_REFERRER_POLICY": "",
    "AUTH_SECURE_CROSS_ORIGIN_OPENER_POLICY": "",
}
SECURITY_HEADERS = [
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
]


def build():
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "accounts", "--bin", "accounts"],
        cwd=ROOT,
        check=True,
    )
    subprocess.run(
        ["cargo", "build", "--release", "-q"], cwd=ROOT / "bench" / "reference", check=True
    )


def request(conn, method, path, headers=None, body=None):
    conn.request(method, path, body=body, headers={"Host": f"127.0.0.1:{PORT}", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    return response, data


def cookies_of(response):
    jar = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()
    return jar


def login_ours(conn):
    response, page = request(conn, "GET", "/login/")
    jar = cookies_of(response)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page).group(1).decode()
    body = f"csrfmiddlewaretoken={token}&username=bench&password={PASSWORD}"
    response, _ = request(
        conn,
        "POST",
        "/login/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        },
        body,
    )
    jar.update(cookies_of(response))
    return f"sessionid={jar['sessionid']}; csrftoken={jar['csrftoken']}"


def login_reference(conn):
    response, _ = request(
        conn,
        "POST",
        "/login/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        f"username=bench&password={PASSWORD}",
    )
    return f"id={cookies_of(response)['id']}"


def dump(pid, out_dir, before):
    """Asks callgrind for a dump; returns the new dump file."""
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    for _ in range(200):
        files = set(out_dir.glob("cg.*")) - before
        # Complete once its last line, the totals, is written.
        done = [f for f in files if "\ntotals:" in f.read_text(errors="replace")[-200:]]
        if done:
            return done[0]
        time.sleep(0.1)
    sys.exit("!! callgrind did not write a dump")


def instructions(dump_file):
    text = dump_file.read_text(errors="replace")
    match = re.search(r"^(?:totals|summary):\s*(\d+)", text, re.M)
    return int(match.group(1))


def measure(stack, command, env, requests, security_headers=None):
    """Instructions per request of each load, and the idle rate. With
    `security_headers` set, first checks that the home page does (or does
    not) send them, so that a renamed setting cannot make a figure wrong."""
    out_dir = Path(tempfile.mkdtemp())
    work = Path(tempfile.mkdtemp())
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/cg.%p", *command],
        cwd=work,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 600
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                request(conn, "GET", "/__bench/profile/")
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit(f"!! {stack} did not start under valgrind")
                time.sleep(1)
        if security_headers is not None:
            response, _ = request(conn, "GET", "/")
            sent = {name: response.getheader(name) is not None for name in SECURITY_HEADERS}
            assert all(v == security_headers for v in sent.values()), (stack, sent)
        cookie = login_ours(conn) if stack == "ours" else login_reference(conn)
        pid = server.pid
        seen = set(out_dir.glob("cg.*"))
        results = {}
        for key, _label, path, logged_in in LOADS:
            headers = {"Cookie": cookie} if logged_in else {}
            for _ in range(200):
                request(conn, "GET", path, headers)
            first = dump(pid, out_dir, seen)
            seen.add(first)
            started = time.time()
            for _ in range(requests):
                response, _ = request(conn, "GET", path, headers)
                assert response.status in (200, 302, 303, 307), (stack, path, response.status)
            elapsed = time.time() - started
            second = dump(pid, out_dir, seen)
            seen.add(second)
            results[key] = (instructions(second), elapsed)
        # What the idle server runs per second (background tasks).
        first = dump(pid, out_dir, seen)
        seen.add(first)
        time.sleep(5)
        idle_second = dump(pid, out_dir, seen)
        idle_rate = instructions(idle_second) / 5
        return {
            key: max(total - idle_rate * elapsed, 0) / requests
            for key, (total, elapsed) in results.items()
        }, idle_rate
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


def fresh_database(binary, env):
    """A new SQLite file with the bench user, for `binary`."""
    work = Path(tempfile.mkdtemp())
    database = f"sqlite://{work}/bench.db?mode=rwc"
    subprocess.run(
        [binary, "createuser", "--noinput", "--username", "bench"],
        cwd=work,
        env={**os.environ, **env, "DATABASE_URL": database},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return database


def ab(a_binary, requests, env):
    """Instructions per request of another build (A) and this checkout's
    (B), each on a fresh database: what a change costs, independent of the
    machine's load."""
    b_binary = str(ROOT / "target" / "release" / "accounts")
    print(f"== {requests} requests per load, one keep-alive connection, under callgrind")
    figures = {}
    for side, binary in (("A", a_binary), ("B", b_binary)):
        side_env = {**env, "DATABASE_URL": fresh_database(binary, env)}
        serve = [binary, "serve", "--bind", f"127.0.0.1:{PORT}"]
        figures[side], _ = measure("ours", serve, side_env, requests, security_headers=True)
    print(f"A = {a_binary}, B = this checkout; A / B above 1: B does less work")
    print(f"{'load':>18} {'A':>9} {'B':>9} {'A / B':>7}")
    for key, label, _path, _ in LOADS:
        a, b = figures["A"][key], figures["B"][key]
        print(f"{key + ': ' + label:>18} {a:>9,.0f} {b:>9,.0f} {a / b:>7.2f}")


def main():
    args = sys.argv[1:]
    a_binary = None
    if args[:1] == ["--ab"]:
        a_binary, args = str(Path(args[1]).resolve()), args[2:]
    requests = int(args[0]) if args else 2000
    if shutil.which("valgrind") is None:
        print("== installing valgrind")
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "valgrind"], check=True, stdout=subprocess.DEVNULL
        )
    build()
    secret = "benchmark-secret-key-benchmark-secret-key-0123"
    if a_binary is not None:
        env = {
            "AUTH_SECRET_KEY": secret,
            "ACCOUNTS_BENCH_BASELINE": "1",
            "RUST_LOG": "warn",
            "AUTH_USER_PASSWORD": PASSWORD,
            "REDIS_URL": "",
        }
        ab(a_binary, requests, env)
        return
    ours_env = {
        "AUTH_SECRET_KEY": secret,
        "ACCOUNTS_BENCH_BASELINE": "1",
        "RUST_LOG": "warn",
        "AUTH_USER_PASSWORD": PASSWORD,
        "DATABASE_URL": "sqlite://bench.db?mode=rwc",
        "REDIS_URL": "",
    }
    ours_bin = str(ROOT / "target" / "release" / "accounts")
    work = Path(tempfile.mkdtemp())
    subprocess.run(
        [ours_bin, "createuser", "--noinput", "--username", "bench"],
        cwd=work,
        env={**os.environ, **ours_env, "DATABASE_URL": f"sqlite://{work}/bench.db?mode=rwc"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ours_env["DATABASE_URL"] = f"sqlite://{work}/bench.db?mode=rwc"
    reference_bin = str(ROOT / "bench" / "reference" / "target" / "release" / "reference")
    print(f"== {requests} requests per load, one keep-alive connection, under callgrind")
    serve = [ours_bin, "serve", "--bind", f"127.0.0.1:{PORT}"]
    ours, ours_idle = measure("ours", serve, ours_env, requests, security_headers=True)
    headerless, _ = measure(
        "ours", serve, {**ours_env, **NO_SECURITY_HEADERS}, requests, security_headers=False
    )
    reference, reference_idle = measure(
        "reference",
        [reference_bin, "serve", f"127.0.0.1:{PORT}", f"{work}/reference.db", "bench", PASSWORD],
        {},
        requests,
    )
    print(f"idle (background tasks, subtracted): ours {ours_idle:,.0f}/s, reference {reference_idle:,.0f}/s")
    print(
        f"{'load':>18} {'ours':>9} {'reference':>10} {'reference / ours':>17}"
        f" {'ours, no security headers':>26} {'reference / that':>17}"
    )
    for key, label, _path, _ in LOADS:
        print(
            f"{key + ': ' + label:>18} {ours[key]:>9,.0f} {reference[key]:>10,.0f}"
            f" {reference[key] / ours[key]:>17.2f}"
            f" {headerless[key]:>26,.0f} {reference[key] / headerless[key]:>17.2f}"
        )


if __name__ == "__main__":
    main()
