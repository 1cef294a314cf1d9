#!/usr/bin/env python3
"""A soak under mixed traffic: two release instances of the example on
PostgreSQL + Redis, clients spread over both, for SOAK_MINUTES (30).

    bench/soak.sh            # builds, then runs this
    SOAK_MINUTES=5 bench/soak.sh

The workload, by share of operations: 80% logged-in page views over
SOAK_USERS (2,000) users, 10% anonymous pages, 5% logins (a fifth of them
with a wrong password), 2% logouts, 1% password changes, 1% password
resets through the file email backend, 1% permission changes through the
CLI. At one third of the run PostgreSQL restarts, at two thirds Redis
(which keeps nothing on disk here: every session ends, and the clients log
in again).

Every logged-in page names its user: each response is checked against the
session's owner. Every logout is checked on the other instance (the old
cookie must be anonymous there), every password change and reset too (the
old password must fail there, the new one work).

Prints one line a minute (requests/s, p50, p99, status counts, RSS and
open files of each instance, database connections) and the verdicts at
the end; writes target/soak/minutes.csv and, with matplotlib,
docs/soak.png. Exit status 1 when a verdict fails.
"""

import csv
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "accounts")
MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
USERS = int(os.environ.get("SOAK_USERS", "2000"))
THREADS = int(os.environ.get("SOAK_THREADS", "12"))
PORTS = (int(os.environ.get("SOAK_PORT", "18300")), int(os.environ.get("SOAK_PORT", "18300")) + 1)
PG = "postgres://postgres@127.0.0.1:5432/soak?sslmode=disable"
REDIS = "redis://127.0.0.1:6379/3"
PASSWORD = "soak-password-0"
OUT = os.path.join(ROOT, "target", "soak")

WEIGHTS = [
    ("page", 80), ("anonymous", 10), ("login", 5), ("logout", 2),
    ("password_change", 1), ("password_reset", 1), ("permission", 1),
]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')
# Where the profile page names its user: the title and the heading. Not a
# search of the whole page: a 64-letter CSRF token contains "soak<digit>"
# about once in 1.5 million pages, and a run checks half a million.
USER_IN_PAGE = re.compile(r"<title>Profile of ([^<]*)</title>|<h1>([^<]*)</h1>")


class Stats:
    """Counts for the current minute and the whole run."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.statuses = {}
        self.total_statuses = {}
        self.violations = []
        self.server_errors = []  # (time, status, path)
        self.checks = {"logout": 0, "password": 0, "reset": 0, "page": 0}
        self.seen_delays = []
        self.commands = {}

    def record(self, status, seconds, path):
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.total_statuses[status] = self.total_statuses.get(status, 0) + 1
            if status >= 500:
                self.server_errors.append((time.time(), status, path))

    def violation(self, text):
        with self.lock:
            self.violations.append(text)
        print("!! " + text, flush=True)

    def seen_after(self, delay):
        with self.lock:
            self.seen_delays.append(delay)

    def checked(self, kind):
        with self.lock:
            self.checks[kind] += 1

    def take_minute(self):
        with self.lock:
            latencies, statuses = self.latencies, self.statuses
            self.latencies, self.statuses = [], {}
        return latencies, statuses


STATS = Stats()
STALENESS = float(os.environ.get("AUTH_CACHE_MAX_STALENESS", "1"))
# The restart windows so far: (start, end).
WINDOWS = []


def in_restart(at):
    return any(start <= at <= end for start, end in WINDOWS)


class Browser:
    """One client's cookies, over keep-alive connections to both instances."""

    def __init__(self):
        self.cookies = {}
        self.conns = {}

    def request(self, port, method, path, fields=None, cookies=None):
        jar = self.cookies if cookies is None else cookies
        body = urllib.parse.urlencode(fields) if fields is not None else None
        headers = {"Host": f"127.0.0.1:{port}"}
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in range(2):
            conn = self.conns.get(port)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                self.conns[port] = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.conns.pop(port, None)
                if attempt == 1:
                    STATS.record(599, time.perf_counter() - started, path)
                    return 599, {}, ""
        STATS.record(response.status, time.perf_counter() - started, path)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if "Max-Age=0" in value or cookie_value == "":
                    jar.pop(name, None)
                else:
                    jar[name] = cookie_value
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), text

    def form(self, port, path):
        status, _, text = self.request(port, "GET", path)
        match = CSRF.search(text)
        return status, (match.group(1) if match else None)


class User:
    def __init__(self, n):
        self.name = f"soak{n}"
        self.email = f"soak{n}@example.com"
        self.password = PASSWORD
        self.sessions = []  # cookie jars
        self.lock = threading.Lock()
        self.changes = 0


def other(port):
    return PORTS[1] if port == PORTS[0] else PORTS[0]


def log_in(user, port, password=None):
    """A new session for `user`; its cookies, or None."""
    browser = Browser()
    _, token = browser.form(port, "/login/")
    if token is None:
        return None
    fields = {"csrfmiddlewaretoken": token, "username": user.name,
              "password": password or user.password}
    status, headers, _ = browser.request(port, "POST", "/login/", fields)
    if status == 303 and "sessionid" in browser.cookies:
        return browser.cookies
    return None


def check_page(user, jar, port):
    """The profile page with `jar`: True while the session lives."""
    status, _, text = Browser().request(port, "GET", "/profile/", cookies=dict(jar))
    if status == 200:
        found = USER_IN_PAGE.findall(text)
        names = {title or heading for title, heading in found}
        if len(found) != 2 or names != {user.name}:
            # Keep the page: a violation must be explainable afterwards.
            kept = os.path.join(OUT, f"violation-{time.time():.3f}.html")
            with open(kept, "w", encoding="utf-8") as f:
                f.write(text)
            STATS.violation(f"{user.name}'s session was served as {sorted(names)} on {port} ({kept})")
        STATS.checked("page")
        return True
    return False


def op_page(users):
    user = random.choice(users)
    if not user.lock.acquire(blocking=False):
        return
    try:
        if not user.sessions:
            jar = log_in(user, random.choice(PORTS))
            if jar:
                user.sessions.append(jar)
            return
        jar = random.choice(user.sessions)
        if not check_page(user, jar, random.choice(PORTS)):
            user.sessions.remove(jar)
    finally:
        user.lock.release()


def op_anonymous(_users):
    status, _, text = Browser().request(random.choice(PORTS), "GET", "/")
    if status == 200 and "Guest" not in text:
        STATS.violation("an anonymous home page named a user")


def op_login(users):
    user = random.choice(users)
    if not user.lock.acquire(blocking=False):
        return
    try:
        port = random.choice(PORTS)
        if random.random() < 0.2:
            if log_in(user, port, password="wrong-" + user.password) is not None:
                STATS.violation(f"a wrong password logged {user.name} in")
            return
        jar = log_in(user, port)
        if jar is not None:
            user.sessions = user.sessions[-4:] + [jar]
    finally:
        user.lock.release()


def op_logout(users):
    user = random.choice(users)
    if not user.lock.acquire(blocking=False):
        return
    try:
        if not user.sessions:
            return
        jar = user.sessions.pop()
        port = random.choice(PORTS)
        browser = Browser()
        browser.cookies = dict(jar)
        status, token = browser.form(port, "/profile/")
        if status != 200 or token is None:
            return
        status, _, _ = browser.request(port, "POST", "/logout/", {"csrfmiddlewaretoken": token})
        if status != 303:
            return
        # The other instance may serve its cached session for up to
        # AUTH_CACHE_MAX_STALENESS (1 s): poll it until then, and a second
        # more.
        ended = time.perf_counter()
        while True:
            status, _, _ = Browser().request(other(port), "GET", "/profile/", cookies=dict(jar))
            delay = time.perf_counter() - ended
            if status != 200:
                STATS.seen_after(delay)
                break
            if delay > STALENESS + 1.0:
                STATS.violation(
                    f"{user.name}'s logout on {port} still not seen on {other(port)} after {delay:.1f} s")
                break
            time.sleep(0.05)
        STATS.checked("logout")
    finally:
        user.lock.release()


def verify_password(user, old, port):
    """On `port`, the old password fails and the new one logs in (tried
    again for 5 s: a restart may refuse it for a while)."""
    if log_in(user, port, password=old) is not None:
        STATS.violation(f"{user.name}'s old password still works on {port}")
    STATS.checked("password")
    deadline = time.time() + 5
    while True:
        jar = log_in(user, port)
        if jar is not None:
            user.sessions = [jar]
            return
        if time.time() > deadline:
            if not in_restart(time.time()):
                STATS.violation(f"{user.name}'s new password does not work on {port}")
            return
        time.sleep(0.5)


def op_password_change(users):
    user = random.choice(users)
    if not user.lock.acquire(blocking=False):
        return
    try:
        if not user.sessions:
            return
        port = random.choice(PORTS)
        browser = Browser()
        browser.cookies = dict(user.sessions[-1])
        status, token = browser.form(port, "/password-change/")
        if status != 200 or token is None:
            return
        old = user.password
        new = f"soak-password-{user.name}-{user.changes + 1}"
        fields = {"csrfmiddlewaretoken": token, "old_password": old,
                  "new_password1": new, "new_password2": new}
        status, _, _ = browser.request(port, "POST", "/password-change/", fields)
        if status != 303:
            return
        user.password, user.changes = new, user.changes + 1
        verify_password(user, old, other(port))
    finally:
        user.lock.release()


def newest_link(mail, email, since):
    """The reset link of the newest message to `email` written after `since`."""
    deadline = time.time() + 10
    while time.time() < deadline:
        found = []
        for name in os.listdir(mail):
            path = os.path.join(mail, name)
            try:
                modified = os.path.getmtime(path)
                if modified < since:
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:
                # A message being written (a temporary file, then renamed).
                continue
            if f"To: {email}" in text:
                match = re.search(r"https?://[^\s]+/reset/[^\s]+/", text)
                if match:
                    found.append((modified, match.group(0)))
        if found:
            return max(found)[1]
        time.sleep(0.2)
    return None


def op_password_reset(users, mail):
    user = random.choice(users)
    if not user.lock.acquire(blocking=False):
        return
    try:
        port = random.choice(PORTS)
        browser = Browser()
        _, token = browser.form(port, "/password-reset/")
        if token is None:
            return
        since = time.time() - 1
        status, _, _ = browser.request(port, "POST", "/password-reset/",
                                       {"csrfmiddlewaretoken": token, "email": user.email})
        if status != 303:
            return
        link = newest_link(mail, user.email, since)
        if link is None:
            # The view answers the same whether or not a message went out;
            # with the database restarting, none can.
            if not in_restart(since):
                STATS.violation(f"no reset message for {user.email}")
            return
        path = urllib.parse.urlparse(link).path
        target = other(port)
        reset = Browser()
        status, headers, _ = reset.request(target, "GET", path)
        if status != 303:
            return
        form_path = urllib.parse.urlparse(headers.get("location", "")).path
        _, token = reset.form(target, form_path)
        if token is None:
            return
        old = user.password
        new = f"soak-reset-{user.name}-{user.changes + 1}"
        status, _, _ = reset.request(target, "POST", form_path, {
            "csrfmiddlewaretoken": token, "new_password1": new, "new_password2": new})
        if status != 303:
            return
        user.password, user.changes = new, user.changes + 1
        STATS.checked("reset")
        verify_password(user, old, port)
    finally:
        user.lock.release()


def cli(env, *args):
    """A management command; counted apart from the HTTP requests (its
    time is a process start, and a failure is an exit status, not a 5xx)."""
    done = subprocess.run([BIN, *args], env=env, capture_output=True)
    with STATS.lock:
        key = "ok" if done.returncode == 0 else ("failed in a restart" if in_restart(time.time()) else "failed")
        STATS.commands[key] = STATS.commands.get(key, 0) + 1
    return done.returncode == 0


def permission_worker(users, env, stop, rate):
    """Grants and revokes a permission through the CLI, at rate[0] a second."""
    granted = set()
    while not stop.is_set():
        user = random.choice(users)
        if user.name in granted:
            cli(env, "revoke", user.name, "accounts.view_report")
            granted.discard(user.name)
        else:
            cli(env, "grant", user.name, "accounts.view_report")
            granted.add(user.name)
        time.sleep(max(0.2, 1.0 / max(rate[0], 0.01)))


def worker(users, mail, stop):
    ops = {
        "page": op_page, "anonymous": op_anonymous, "login": op_login,
        "logout": op_logout, "password_change": op_password_change,
        "password_reset": lambda u: op_password_reset(u, mail),
    }
    names = [name for name, _ in WEIGHTS if name != "permission"]
    weights = [weight for name, weight in WEIGHTS if name != "permission"]
    while not stop.is_set():
        ops[random.choices(names, weights)[0]](users)


def rss_and_fds(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss / 1024, fds
    except (OSError, StopIteration):
        return 0.0, 0


def db_connections():
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
         "select count(*) from pg_stat_activity where datname = 'soak'"],
        capture_output=True, text=True)
    return int(done.stdout.strip() or 0) if done.returncode == 0 else -1


def percentile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def restart_postgres():
    version = os.listdir("/etc/postgresql")[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=False, capture_output=True)


def restart_redis():
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True)
    time.sleep(2)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                    "--port", "6379", "--save", "", "--appendonly", "no",
                    "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
                   capture_output=True)
    for _ in range(60):
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="soak-")
    mail = os.path.join(work, "mail")
    os.makedirs(mail)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "drop database if exists soak"], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "create database soak"], check=True)
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", "3", "flushdb"], check=True, capture_output=True)
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": PG, "REDIS_URL": REDIS,
        "AUTH_SECRET_KEY": "soak-secret-key-soak-secret-key-soak-secret-key-0123",
        "AUTH_EMAIL_BACKEND": "file", "AUTH_EMAIL_FILE_PATH": mail,
        "AUTH_ALLOWED_HOSTS": "127.0.0.1",
        "AUTH_USER_PASSWORD": PASSWORD, "RUST_LOG": "error",
        # Every client of the soak comes from 127.0.0.1: the per-address
        # limits would otherwise lock the whole workload out.
        "AUTH_LOGIN_FAILURE_LIMIT": "100000", "AUTH_LOGIN_FAILURE_LIMIT_PER_IP": "100000000",
        "AUTH_PASSWORD_RESET_EMAIL_LIMIT": "100000",
        "AUTH_PASSWORD_RESET_EMAIL_LIMIT_PER_USER": "100000",
    })
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
    print(f"== creating {USERS} users", flush=True)
    names = [str(n) for n in range(USERS)]

    def create(chunk):
        for n in chunk:
            subprocess.run([BIN, "createuser", "--noinput", "--username", f"soak{n}",
                            "--email", f"soak{n}@example.com"], env=env, check=True, capture_output=True)
    creators = [threading.Thread(target=create, args=(names[i::3],)) for i in range(3)]
    for t in creators:
        t.start()
    for t in creators:
        t.join()

    servers = [subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"], env=env)
               for port in PORTS]
    for port in PORTS:
        for _ in range(200):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.1)
    users = [User(n) for n in range(USERS)]
    stop = threading.Event()
    rate = [10.0]
    threads = [threading.Thread(target=worker, args=(users, mail, stop), daemon=True)
               for _ in range(THREADS)]
    threads.append(threading.Thread(target=permission_worker, args=(users, env, stop, rate), daemon=True))
    for t in threads:
        t.start()

    started = time.time()
    duration = MINUTES * 60
    restarts = {"postgres": None, "redis": None}
    windows = WINDOWS
    rows = []
    minute = 0
    print("minute  req/s    p50 ms   p99 ms   statuses                         rss MiB (a, b)    fds (a, b)  db conns", flush=True)
    while time.time() - started < duration:
        elapsed = time.time() - started
        if restarts["postgres"] is None and elapsed >= duration / 3:
            began = time.time()
            windows.append((began, began + 60))
            restart_postgres()
            restarts["postgres"] = (began, time.time())
            windows[-1] = (began, time.time() + 15)
            print(f"== PostgreSQL restarted ({time.time() - began:.1f} s)", flush=True)
        if restarts["redis"] is None and elapsed >= 2 * duration / 3:
            began = time.time()
            windows.append((began, began + 60))
            restart_redis()
            restarts["redis"] = (began, time.time())
            windows[-1] = (began, time.time() + 15)
            print(f"== Redis restarted ({time.time() - began:.1f} s)", flush=True)
        next_minute = started + 60 * (minute + 1)
        time.sleep(max(0.0, min(1.0, next_minute - time.time())))
        if time.time() < next_minute:
            continue
        minute += 1
        latencies, statuses = STATS.take_minute()
        rps = len(latencies) / 60
        rate[0] = max(0.5, rps / 100)
        (rss_a, fds_a), (rss_b, fds_b) = (rss_and_fds(s.pid) for s in servers)
        conns = db_connections()
        row = {
            "minute": minute, "rps": round(rps, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "statuses": " ".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
            "rss_a": round(rss_a, 1), "rss_b": round(rss_b, 1),
            "fds_a": fds_a, "fds_b": fds_b, "db_conns": conns,
        }
        rows.append(row)
        print(f"{minute:6d}  {row['rps']:7.1f}  {row['p50_ms']:7.1f}  {row['p99_ms']:7.1f}   "
              f"{row['statuses']:<32} {rss_a:7.1f} {rss_b:7.1f}   {fds_a:5d} {fds_b:5d}  {conns:6d}",
              flush=True)
    stop.set()
    time.sleep(2)
    for server in servers:
        server.terminate()
    exits = [server.wait(timeout=60) for server in servers]

    with open(os.path.join(OUT, "minutes.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["minute"])
        writer.writeheader()
        writer.writerows(rows)

    outside = [(t, s, p) for t, s, p in STATS.server_errors
               if not (s == 503 and any(a <= t <= b for a, b in windows))]
    baseline = [r for r in rows if r["minute"] >= 5]
    growth = []
    if len(baseline) >= 2:
        for key in ("rss_a", "rss_b"):
            first = baseline[0][key]
            last = max(r[key] for r in baseline[-3:])
            growth.append((last - first) / first * 100 if first else 0.0)
    half = [r for r in rows if r["minute"] > len(rows) / 2]
    late_growth = []
    if len(half) >= 2:
        for key in ("rss_a", "rss_b"):
            first = half[0][key]
            last = max(r[key] for r in half[-3:])
            late_growth.append((last - first) / first * 100 if first else 0.0)
    verdicts = [
        (f"5xx other than 503 during the restarts: {len(outside)}", not outside),
        (f"requests served as the wrong user: {sum('served as' in v for v in STATS.violations)} "
         f"(pages checked: {STATS.checks['page']})",
         not any("served as" in v for v in STATS.violations)),
        (f"logouts not seen on the other instance within AUTH_CACHE_MAX_STALENESS + 1 s: "
         f"{sum('logout' in v for v in STATS.violations)} (checked: {STATS.checks['logout']}; "
         f"seen after at most {max(STATS.seen_delays, default=0):.2f} s, "
         f"p99 {percentile(STATS.seen_delays, 0.99):.2f} s)",
         not any("logout" in v for v in STATS.violations)),
        (f"reset messages missing outside the restarts: "
         f"{sum('no reset message' in v for v in STATS.violations)}",
         not any("no reset message" in v for v in STATS.violations)),
        (f"password changes and resets that did not take effect on the other instance: "
         f"{sum('password' in v and 'logout' not in v for v in STATS.violations)} "
         f"(checked: {STATS.checks['password']}, resets: {STATS.checks['reset']})",
         not any("password" in v and "logout" not in v for v in STATS.violations)),
        ("RSS growth after the first 5 minutes: " + ", ".join(f"{g:+.1f}%" for g in growth) + " (at most 10%)",
         bool(growth) and all(g <= 10 for g in growth)),
        ("RSS growth over the second half: " + ", ".join(f"{g:+.1f}%" for g in late_growth)
         + " (at most 10%; the caches are full by then)",
         bool(late_growth) and all(g <= 10 for g in late_growth)),
        (f"exit status of each instance after SIGTERM: {exits}", all(e == 0 for e in exits)),
        (f"permission commands: {STATS.commands}", not STATS.commands.get("failed")),
    ]
    print()
    print(f"== {sum(STATS.total_statuses.values())} requests: " +
          " ".join(f"{k}:{v}" for k, v in sorted(STATS.total_statuses.items())))
    for text, ok in verdicts:
        print(("ok   " if ok else "FAIL ") + text)
    for violation in STATS.violations[:20]:
        print("   " + violation)
    for t, s, p in outside[:20]:
        print(f"   {s} at +{t - started:.0f} s: {p}")
    plot(rows, restarts, started)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(ok for _, ok in verdicts) else 1)


def plot(rows, restarts, started):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no plot; pip install matplotlib)")
        return
    minutes = [r["minute"] for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
    top.plot(minutes, [r["rss_a"] for r in rows], label="instance a")
    top.plot(minutes, [r["rss_b"] for r in rows], label="instance b")
    top.set_ylabel("RSS (MiB)")
    top.set_ylim(bottom=0)
    top.legend(loc="lower right")
    bottom.plot(minutes, [r["p99_ms"] for r in rows], color="tab:red", label="p99")
    bottom.plot(minutes, [r["p50_ms"] for r in rows], color="tab:green", label="p50")
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("minute")
    bottom.legend(loc="upper right")
    for name, when in restarts.items():
        if when:
            for axis in (top, bottom):
                axis.axvline((when[0] - started) / 60, color="gray", linestyle=":")
            top.annotate(f"{name} restart", ((when[0] - started) / 60, 5), fontsize=8)
    fig.suptitle("bench/soak.sh: two instances on PostgreSQL + Redis, mixed traffic")
    fig.tight_layout()
    path = os.path.join(ROOT, "docs", "soak.png")
    fig.savefig(path, dpi=100)
    print(f"== plot: {path}")


if __name__ == "__main__":
    main()
