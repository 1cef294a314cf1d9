#!/usr/bin/env python3
"""How late a change made outside the server reaches its cache.

    bench/staleness.py [ROUNDS]

For each backend (SQLite by default; PostgreSQL, MySQL and PostgreSQL +
Redis when AUTH_BENCH_POSTGRES_URL, AUTH_BENCH_MYSQL_URL and
AUTH_BENCH_REDIS_URL are set), starts the release-built example, logs a
user in, then ROUNDS times: changes the password with the example's CLI
(another process, as an administrator would) and polls the server with
the old session until it is sent to the login page (each change after
a random pause, so the sample does not lock in phase with a poll). The delay is measured
from the moment the CLI exits (its change is committed by then) to the
first poll that sees it: an upper bound on the real staleness. Prints
p50, p99 and max against AUTH_CACHE_MAX_STALENESS (default 1 s).
Build first: cargo build --release -p accounts.
"""
import http.client
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "accounts")
PORT = int(os.environ.get("BENCH_PORT", "18090"))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def request(method, path, cookies, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";")[0]
    conn.close()
    return response.status, text


def login(password):
    cookies = {}
    _, page = request("GET", "/login/", cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page).group(1)
    body = f"csrfmiddlewaretoken={token}&username=bench&password={password}"
    status, _ = request("POST", "/login/", cookies, body)
    assert status == 303, f"login failed: {status}"
    return cookies


def measure(name, env):
    work = tempfile.mkdtemp()
    env = dict(os.environ, **env, AUTH_SECRET_KEY="staleness-secret-key-staleness-secret-key", RUST_LOG="warn")
    password = "first-" + secrets.token_hex(8)
    subprocess.run([BIN, "createuser", "--noinput", "--username", "bench"], cwd=work, check=True,
                   env=dict(env, AUTH_USER_PASSWORD=password), stdout=subprocess.DEVNULL)
    server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{PORT}"], cwd=work, env=env)
    try:
        for _ in range(100):
            try:
                request("GET", "/", {})
                break
            except OSError:
                time.sleep(0.05)
        delays = []
        for _ in range(ROUNDS):
            cookies = login(password)
            assert request("GET", "/profile/", cookies)[0] == 200
            password = "next-" + secrets.token_hex(8)
            # A random pause, so the changes do not lock in phase with a
            # change-log poll and the sample covers the whole period.
            time.sleep(random.uniform(0, 0.6))
            subprocess.run([BIN, "changepassword", "bench"], cwd=work, env=env, check=True,
                           input=f"{password}\n{password}\n", text=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            changed = time.monotonic()
            while request("GET", "/profile/", cookies)[0] == 200:
                time.sleep(0.002)
            delays.append(time.monotonic() - changed)
        delays.sort()
        p99 = delays[min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))]
        print(f"{name:>16}: p50 {statistics.median(delays) * 1000:6.0f} ms   p99 {p99 * 1000:6.0f} ms   "
              f"max {delays[-1] * 1000:6.0f} ms   over {len(delays)} changes (bound 1000 ms)")
    finally:
        server.terminate()
        server.wait()


def main():
    measure("SQLite", {"DATABASE_URL": f"sqlite://{tempfile.mkdtemp()}/auth.db?mode=rwc", "REDIS_URL": ""})
    pg, my, redis = (os.environ.get(k) for k in ("AUTH_BENCH_POSTGRES_URL", "AUTH_BENCH_MYSQL_URL", "AUTH_BENCH_REDIS_URL"))
    for with_redis in ([False, True] if redis else [False]) if pg else []:
        schema = "stale_" + secrets.token_hex(4)
        subprocess.run(["psql", "-q", pg, "-c", f"CREATE SCHEMA {schema}"], check=True)
        sep = "&" if "?" in pg else "?"
        url = f"{pg}{sep}options=-c%20search_path%3D{schema}"
        try:
            if with_redis:
                measure("PostgreSQL+Redis", {"DATABASE_URL": url, "REDIS_URL": redis,
                                             "AUTH_SESSION_REDIS_KEY_PREFIX": f"{schema}:"})
            else:
                measure("PostgreSQL", {"DATABASE_URL": url, "REDIS_URL": ""})
        finally:
            subprocess.run(["psql", "-q", pg, "-c", f"DROP SCHEMA {schema} CASCADE"], check=True,
                           stderr=subprocess.DEVNULL)
    if my:
        db = "stale_" + secrets.token_hex(4)
        subprocess.run(["mariadb", "-h", "127.0.0.1", "-uroot", "-e", f"CREATE DATABASE {db}"], check=True)
        try:
            measure("MySQL", {"DATABASE_URL": my.rsplit("/", 1)[0] + "/" + db, "REDIS_URL": ""})
        finally:
            subprocess.run(["mariadb", "-h", "127.0.0.1", "-uroot", "-e", f"DROP DATABASE {db}"], check=True)


if __name__ == "__main__":
    main()
