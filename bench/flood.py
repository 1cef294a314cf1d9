#!/usr/bin/env python3
"""A login flood against the release example: resident memory, answers, and
a real user's login afterwards.

    bench/flood.py [--attempts 200] [--port 18090]

Builds examples/accounts in release, starts it on a fresh SQLite file,
creates alice, then sends ATTEMPTS login POSTs for random usernames at once
(the CSRF cookie and token taken from the attacker's own GET, as an attacker
would), sampling the server's resident memory throughout. Then alice logs
in. Fails (exit 1) unless the memory growth stays under 512 MiB, every
answer is 200, 303, 429 or 503, and alice's login succeeds within 10 s.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOWED = {200, 303, 429, 503}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, response.getheader("set-cookie") or "", data, response


def csrf(port):
    """The csrftoken cookie and a form token, from the login page."""
    status, cookie, page, response = request(port, "GET", "/login/")
    assert status == 200, status
    cookies = [h for k, h in response.getheaders() if k.lower() == "set-cookie"]
    jar = "; ".join(c.split(";")[0] for c in cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page).group(1)
    return jar, token


def login(port, jar, token, username, password):
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": jar}
    status, _, _, _ = request(port, "POST", "/login/", body, headers)
    return status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "accounts"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "accounts")
    work = tempfile.mkdtemp(prefix="auth-flood-")
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite://{work}/flood.db?mode=rwc",
        "AUTH_SECRET_KEY": "flood-secret-key-flood-secret-key-flood-secret",
        "AUTH_USER_PASSWORD": "alice-password-1234",
        "RUST_LOG": "error",
    })
    env.pop("REDIS_URL", None)
    subprocess.run([binary, "createuser", "--noinput", "--username", "alice"],
                   env=env, check=True, cwd=work)
    server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{args.port}"],
                              env=env, cwd=work)
    try:
        for _ in range(100):
            try:
                request(args.port, "GET", "/")
                break
            except OSError:
                time.sleep(0.1)
        jar, token = csrf(args.port)
        baseline = rss_kib(server.pid)
        peak = [baseline]
        flooding = threading.Event()
        flooding.set()

        def sample():
            while flooding.is_set():
                peak[0] = max(peak[0], rss_kib(server.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        statuses = {}
        errors = []
        lock = threading.Lock()
        start = threading.Barrier(args.attempts)

        def attacker():
            start.wait()
            try:
                status = login(args.port, jar, token, f"nobody-{uuid.uuid4().hex}", "guess")
            except Exception as e:  # a reset or refused connection
                with lock:
                    errors.append(repr(e))
                return
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

        began = time.monotonic()
        threads = [threading.Thread(target=attacker) for _ in range(args.attempts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flood_seconds = time.monotonic() - began
        flooding.clear()
        sampler.join()

        began = time.monotonic()
        jar, token = csrf(args.port)
        alice = login(args.port, jar, token, "alice", "alice-password-1234")
        alice_seconds = time.monotonic() - began

        growth_mib = (peak[0] - baseline) / 1024
        print(f"attempts: {args.attempts} in {flood_seconds:.2f} s")
        print(f"answers: {dict(sorted(statuses.items()))}; connection errors: {len(errors)}")
        print(f"resident memory: {baseline / 1024:.1f} MiB before, {peak[0] / 1024:.1f} MiB peak, "
              f"growth {growth_mib:.1f} MiB")
        print(f"alice afterwards: {alice} in {alice_seconds:.2f} s")
        ok = (growth_mib < 512 and set(statuses) <= ALLOWED and not errors
              and alice == 303 and alice_seconds < 10)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
