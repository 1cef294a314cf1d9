#!/usr/bin/env python3
"""Memory per session: the server's RSS and the bytes each backend stores.

    bench/memory.py [SESSIONS] [--stored]     (SESSIONS 0: only --stored)

Starts the release-built example on SQLite with the coherent cache (the
default), reads its RSS (VmRSS) idle, logs one user in SESSIONS times
(default 10,000; 8 connections, each login a real CSRF-checked POST, so
argon2's pooled buffers are in the figure), views the profile page twice
with every session (so each is read through the cache), and reads the
RSS again. Prints RSS idle, after the logins, after the views, and the
growth per cached session over the first 500 logins (the hasher's
buffers, the connections and the allocator's arenas settle there).

Then, with --stored, the bytes one idle session takes in each backend
that answers (SQLite file pages, PostgreSQL's table and indexes, MariaDB's
data and index length, Redis' MEMORY USAGE), over 1,000 sessions.

Build first: cargo build --release -p accounts.
"""
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BENCH_BIN", os.path.join(ROOT, "target", "release", "accounts"))
PORT = int(os.environ.get("BENCH_PORT", "18095"))
PASSWORD = "memory-password-1234"
THREADS = 8
WARMUP = 500


class Client:
    """One keep-alive connection."""

    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)

    def request(self, method, path, cookie, body=None):
        headers = {"Cookie": cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, response.getheaders(), text


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def csrf_pair():
    client = Client()
    _, headers, page = client.request("GET", "/login/", "")
    token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page).group(1)
    secret = next(v.split(";")[0].split("=", 1)[1] for k, v in headers
                  if k.lower() == "set-cookie" and v.startswith("csrftoken="))
    return token, secret


def run_parallel(count, work):
    """Calls work(client, i) for i in range(count) over THREADS connections."""
    results = [None] * count
    errors = []

    def worker(offset):
        client = Client()
        try:
            for i in range(offset, count, THREADS):
                results[i] = work(client, i)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def login_many(count, token, secret):
    body = f"csrfmiddlewaretoken={token}&username=bench&password={PASSWORD}"

    def one(client, _):
        status, headers, _ = client.request("POST", "/login/", f"csrftoken={secret}", body)
        assert status == 303, f"login failed: {status}"
        return next(v.split(";")[0].split("=", 1)[1] for k, v in headers
                    if k.lower() == "set-cookie" and v.startswith("sessionid="))

    return run_parallel(count, one)


def view_all(sessions):
    def one(client, i):
        for _ in range(2):
            status, _, _ = client.request("GET", "/profile/", f"sessionid={sessions[i]}")
            assert status == 200, f"profile: {status}"

    run_parallel(len(sessions), one)


def start(database_url, redis_url="", extra=None, create=True):
    work = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
               AUTH_SECRET_KEY="memory-secret-key-memory-secret-key-0123456",
               RUST_LOG="warn", AUTH_USER_PASSWORD=PASSWORD, **(extra or {}))
    if create:
        subprocess.run([BIN, "createuser", "--noinput", "--username", "bench"], cwd=work,
                       check=True, env=env, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{PORT}"], cwd=work, env=env)
    for _ in range(200):
        try:
            Client().request("GET", "/", "")
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the server did not start")


def rss(sessions):
    directory = tempfile.mkdtemp()
    server = start(f"sqlite://{directory}/memory.db?mode=rwc")
    try:
        time.sleep(1)
        idle = rss_kib(server.pid)
        token, secret = csrf_pair()
        first = login_many(WARMUP, token, secret)
        view_all(first)
        settled = rss_kib(server.pid)
        started = time.time()
        rest = login_many(sessions - WARMUP, token, secret)
        after_logins = rss_kib(server.pid)
        view_all(rest)
        after_views = rss_kib(server.pid)
        took = time.time() - started
    finally:
        server.terminate()
        server.wait()
    per_session = (after_views - settled) * 1024 / (sessions - WARMUP)
    print(f"RSS idle:                          {idle / 1024:7.1f} MiB")
    print(f"RSS after {WARMUP} logins + views:      {settled / 1024:7.1f} MiB")
    print(f"RSS after {sessions} logins:          {after_logins / 1024:7.1f} MiB")
    print(f"RSS after {sessions} sessions viewed: {after_views / 1024:7.1f} MiB "
          f"({(after_views - idle) / 1024:.1f} MiB above idle)")
    print(f"per cached session (after the first {WARMUP}): {per_session:,.0f} bytes "
          f"({took:.0f} s for {sessions - WARMUP} logins and views)")


def sqlite_bytes(path):
    import sqlite3
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, = db.execute("PRAGMA page_count").fetchone()
    size, = db.execute("PRAGMA page_size").fetchone()
    db.close()
    return pages * size


def psql(url, query):
    out = subprocess.run(["psql", "-qtA", url, "-c", query], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def mysql(query):
    out = subprocess.run(["mariadb", "-h", "127.0.0.1", "-uroot", "-N", "-B", "-e", query],
                         check=True, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def redis(*args):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", *args],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def stored(count):
    """Bytes one idle session takes in each backend: storage after
    `count` logins less storage after one, over count - 1."""
    print(f"\nbytes stored per idle session ({count} sessions):")
    directory = tempfile.mkdtemp()
    path = f"{directory}/stored.db"
    sizes = []
    for logins in (1, count):
        server = start(f"sqlite://{path}?mode=rwc", create=logins == 1)
        token, secret = csrf_pair()
        login_many(logins, token, secret)
        server.terminate()
        server.wait()
        sizes.append(sqlite_bytes(path))
    print(f"  SQLite (file pages):              {(sizes[1] - sizes[0]) / (count - 1):6.0f}")

    url = os.environ.get("AUTH_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
    schema = f"memory_{int(time.time())}"
    psql(url, f"CREATE SCHEMA {schema}")
    server = start(f"{url}&options=-c%20search_path%3D{schema}")
    try:
        token, secret = csrf_pair()

        def size():
            psql(url, f"VACUUM ANALYZE {schema}.auth_session")
            return int(psql(url, f"SELECT pg_total_relation_size('{schema}.auth_session')"))

        login_many(1, token, secret)
        before = size()
        login_many(count - 1, token, secret)
        after = size()
        print(f"  PostgreSQL (table, indexes):      {(after - before) / (count - 1):6.0f}")
    finally:
        server.terminate()
        server.wait()
        psql(url, f"DROP SCHEMA {schema} CASCADE")

    mysql("DROP DATABASE IF EXISTS memory_bench; CREATE DATABASE memory_bench")
    server = start("mysql://root@127.0.0.1:3306/memory_bench")
    try:
        token, secret = csrf_pair()
        login_many(count, token, secret)
        mysql("ANALYZE TABLE memory_bench.auth_session")
        size = int(mysql("SELECT data_length + index_length FROM information_schema.tables "
                         "WHERE table_schema = 'memory_bench' AND table_name = 'auth_session'"))
        rows = int(mysql("SELECT COUNT(*) FROM memory_bench.auth_session"))
        print(f"  MariaDB (data, indexes; InnoDB):  {size / rows:6.0f}")
    finally:
        server.terminate()
        server.wait()
        mysql("DROP DATABASE memory_bench")

    directory = tempfile.mkdtemp()
    server = start(f"sqlite://{directory}/redis.db?mode=rwc", "redis://127.0.0.1:6379/0")
    try:
        token, secret = csrf_pair()
        sessions = login_many(count, token, secret)
        usage = [int(redis("MEMORY", "USAGE", f"auth:session:{key}")) for key in sessions[:100]]
        print(f"  Redis (MEMORY USAGE of a key):    {sum(usage) / len(usage):6.0f}")
        for key in sessions:
            redis("DEL", f"auth:session:{key}")
    finally:
        server.terminate()
        server.wait()


def main():
    args = [a for a in sys.argv[1:] if a.isdigit()]
    sessions = int(args[0]) if args else 10_000
    if sessions:
        rss(sessions)
    if "--stored" in sys.argv:
        stored(1_000)


if __name__ == "__main__":
    main()
