#!/usr/bin/env python3
"""Records Django's verdict on generated `next` values.

Builds candidate redirect targets from a grammar that mixes schemes,
slashes, backslashes, tabs/CR/LF and other control characters, spaces,
userinfo, hosts, ports, percent-encodings and non-ASCII characters, and
asks Django's own `url_has_allowed_host_and_scheme` (allowed host
`testserver`) for each, with `require_https` false and true. Writes one
JSON object per line: {"url": ..., "http": bool, "https": bool}, after a
first line that records the versions used.

    python3 -m venv /tmp/djvenv && /tmp/djvenv/bin/pip install django==6.1.3
    /tmp/djvenv/bin/python tests/data/redirects/generate.py > tests/data/redirects/corpus.jsonl

Deterministic: the same Django and Python give the same file.
"""

import json
import random
import sys

import django
from django.utils.http import url_has_allowed_host_and_scheme

COUNT = 24_000
ALLOWED = {"testserver"}

SCHEMES = ["", "", "", "http:", "https:", "HTTPS:", "Http:", "ftp:", "javascript:",
           "data:", "mailto:", "file:", "ws:", "java\nscript:", "ht\ttp:", "h:", "1http:"]
SLASHES = ["", "/", "//", "///", "////", "\\", "\\\\", "/\\", "\\/", "\\\\\\", "/\\/", "\\//",
           "/ /", "/./", "/../"]
CONTROLS = ["\t", "\r", "\n", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f",
            "\x85", "\x9f"]
SPACES = [" ", "  ", "\u00a0", "\u2000", "\u3000", "\u2028", "\u200b", "\ufeff"]
USERINFO = ["", "", "", "user@", "user:pass@", "testserver@", "evil.example@", "@", ":@",
            "testserver\\@", "a%40b@"]
HOSTS = ["testserver", "TESTSERVER", "testserver.", "evil.example", "testserver.evil.example",
         "evil.example.testserver", "127.0.0.1", "[::1]", "[::1", "::1]", "[v1.fe]", "",
         "xn--n3h.example", "éxample.com", "testserver:80", "testserver:8000", "testserver:",
         "testserver:99999999", "evil.example:80", "test server", "testserver%2f",
         "ｔｅｓｔｓｅｒｖｅｒ", "testserver／evil", "evil。example", "999999999"]
PATHS = ["", "/", "/path", "/a/b/", "/a?b=c", "?next=/x", "#frag", "/café/", "/%2e%2e/",
         "/x?y=http://evil.example", "path/http:2222", "/url%20with%20spaces/"]
PERCENT = ["%2f", "%2F", "%5c", "%09", "%0a", "%0d", "%00", "%20", "%e9", "%C3%A9", "%zz",
           "%", "%2", "%25"]
NON_ASCII = ["é", "ü", "\u2044", "／", "＼", "ℂ", "\u202e", "\ud7ff", "𝕏", "\u0301", "ﬁ"]
ATOMS = [SCHEMES, SLASHES, CONTROLS, SPACES, USERINFO, HOSTS, PATHS, PERCENT, NON_ASCII,
         ["evil.example", "testserver", ".", ":", "@", "?", "#", "[", "]", "%", "/", "\\"]]


def structured(rng):
    """scheme, slashes, userinfo, host, path: the shape of a URL, with noise."""
    parts = [rng.choice(SCHEMES), rng.choice(SLASHES), rng.choice(USERINFO),
             rng.choice(HOSTS), rng.choice(PATHS)]
    for _ in range(rng.randint(0, 2)):
        noise = rng.choice([CONTROLS, SPACES, PERCENT, NON_ASCII, SLASHES])
        parts.insert(rng.randint(0, len(parts)), rng.choice(noise))
    return "".join(parts)


def free(rng):
    """Any atoms in any order."""
    return "".join(rng.choice(rng.choice(ATOMS)) for _ in range(rng.randint(1, 7)))


def main():
    rng = random.Random(20261128)
    seen = set()
    out = sys.stdout
    out.write(json.dumps({"django": django.__version__, "python": sys.version.split()[0],
                          "allowed_hosts": sorted(ALLOWED)}) + "\n")
    while len(seen) < COUNT:
        url = structured(rng) if rng.random() < 0.7 else free(rng)
        if url in seen:
            continue
        seen.add(url)
        verdicts = {
            "http": url_has_allowed_host_and_scheme(url, ALLOWED, require_https=False),
            "https": url_has_allowed_host_and_scheme(url, ALLOWED, require_https=True),
        }
        out.write(json.dumps({"url": url, **verdicts}, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
