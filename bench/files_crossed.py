#!/usr/bin/env python3
"""Which of the runtime's source files a request runs code of, counted by
callgrind in the example's dev build (line tables, so code inlined from
another file is still that file's): the "files a request crosses" of
#44, measured instead of walked by hand.

    bench/files_crossed.py [BINARY [SOURCE]]
        # default target/debug/accounts (cargo build -p accounts) and this
        # checkout's auth/src; another build's binary with the auth/src it
        # was built from (a worktree of another revision)

Three windows, each between two callgrind dumps: (a) logged-in GETs of
the profile page, (b) anonymous GETs of it (the login redirect), and (m)
one whole login with a second factor (the login page, the password, the
code page, the code), after turning TOTP on for the user. A file counts
when the window ran at least one instruction of it per request more than
an idle window of the same length did (the server's background tasks).
Prints each window's count and files under auth/src/, and the templates
a page rendered are not counted (they are not source files).
"""

import base64
import hashlib
import hmac
import re
import struct
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import instructions as ib  # noqa: E402  (the server and dump helpers)

ROOT = ib.ROOT
SOURCE = str(Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else ROOT / "auth" / "src") + "/"
REQUESTS = 20


def file_costs(dump_file):
    """Self cost per source file in a callgrind dump, inlined code
    included (fi=/fe= switch the file of the lines that follow)."""
    names, costs = {}, defaultdict(int)
    current = function_file = None
    skip_next = False

    def name_of(value):
        match = re.match(r"\((\d+)\)(?: (.*))?", value)
        if not match:
            return value
        if match.group(2) is not None:
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), "?")

    for line in dump_file.read_text(errors="replace").splitlines():
        if line.startswith("fl="):
            current = function_file = name_of(line[3:])
        elif line.startswith(("fi=", "fe=")):
            current = name_of(line[3:])
        elif line.startswith("fn="):
            current = function_file
        elif line.startswith(("cfi=", "cfl=")):
            name_of(line[4:])
        elif line.startswith("calls="):
            skip_next = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip_next:
                skip_next = False
                continue
            parts = line.split()
            if len(parts) > 1 and current is not None:
                costs[current] += int(parts[1])
    return costs


def runtime_files(costs, idle, requests):
    return sorted(
        path[len(SOURCE):]
        for path, cost in costs.items()
        if path.startswith(SOURCE) and cost - idle.get(path, 0) >= requests
    )


def totp(secret, at):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 15
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def post(conn, path, jar, fields):
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    response, page = ib.request(
        conn,
        "POST",
        path,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        },
        body,
    )
    jar.update(ib.cookies_of(response))
    return response, page


def get(conn, path, jar):
    response, page = ib.request(
        conn, "GET", path, {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    )
    jar.update(ib.cookies_of(response))
    return response, page


def token_of(page):
    return re.search(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page).group(1).decode()


def login_with_code(conn, secret, used):
    """The whole two-factor login; a code of a step not used before."""
    jar = {}
    _, page = get(conn, "/login/", jar)
    response, _ = post(
        conn,
        "/login/",
        jar,
        {"csrfmiddlewaretoken": token_of(page), "username": "bench", "password": ib.PASSWORD},
    )
    verify = response.getheader("Location")
    assert verify and "/login/verify/" in verify, (response.status, verify)
    _, page = get(conn, "/login/verify/", jar)
    while (code := totp(secret, time.time())) in used:
        time.sleep(1)
    used.add(code)
    response, _ = post(
        conn, "/login/verify/", jar, {"csrfmiddlewaretoken": token_of(page), "code": code}
    )
    assert response.status in (302, 303) and "/login/verify/" not in (
        response.getheader("Location") or ""
    ), response.status


def main():
    binary = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target" / "debug" / "accounts"
    import os
    import signal
    import subprocess
    import tempfile

    out_dir, work = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{work}/bench.db?mode=rwc",
        "REDIS_URL": "",
        "AUTH_SECRET_KEY": "benchmark-secret-key-benchmark-secret-key-0123",
        "AUTH_USER_PASSWORD": ib.PASSWORD,
        "RUST_LOG": "warn",
    }
    subprocess.run(
        [binary, "createuser", "--noinput", "--username", "bench"],
        cwd=work, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/cg.%p",
         binary, "serve", "--bind", f"127.0.0.1:{ib.PORT}"],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 600
        while True:
            try:
                conn = ib.http.client.HTTPConnection("127.0.0.1", ib.PORT, timeout=120)
                ib.request(conn, "GET", "/")
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("!! the example did not start under valgrind")
                time.sleep(1)
        cookie = ib.login_ours(conn)
        jar = dict(pair.split("=", 1) for pair in cookie.split("; "))
        _, page = get(conn, "/account/mfa/totp/activate/", jar)
        secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', page).group(1).decode()
        used = {totp(secret, time.time())}
        response, _ = post(
            conn,
            "/account/mfa/totp/activate/",
            jar,
            {"csrfmiddlewaretoken": token_of(page), "code": next(iter(used))},
        )
        assert response.status in (302, 303), response.status
        session = {"Cookie": f"sessionid={jar['sessionid']}"}
        for _ in range(5):  # warm
            ib.request(conn, "GET", "/profile/", session)
            ib.request(conn, "GET", "/profile/")

        seen = set(out_dir.glob("cg.*"))

        def window(run, requests):
            nonlocal seen
            first = ib.dump(server.pid, out_dir, seen)
            seen.add(first)
            started = time.time()
            run()
            elapsed = time.time() - started
            second = ib.dump(server.pid, out_dir, seen)
            seen.add(second)
            costs = file_costs(second)
            time.sleep(elapsed)
            idle = ib.dump(server.pid, out_dir, seen)
            seen.add(idle)
            return runtime_files(costs, file_costs(idle), requests)

        def logged_in():
            for _ in range(REQUESTS):
                response, _ = ib.request(conn, "GET", "/profile/", session)
                assert response.status == 200, response.status

        def redirect():
            for _ in range(REQUESTS):
                response, _ = ib.request(conn, "GET", "/profile/")
                assert response.status in (302, 303), response.status

        results = [
            ("a", "logged-in GET", window(logged_in, REQUESTS)),
            ("b", "login redirect", window(redirect, REQUESTS)),
            ("m", "login with a second factor (4 requests)",
             window(lambda: login_with_code(conn, secret, used), 1)),
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    for key, label, files in results:
        print(f"({key}) {label}: {len(files)} files of auth/src")
        for name in files:
            print(f"      {name}")


if __name__ == "__main__":
    main()
