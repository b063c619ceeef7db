"""What following the watchlist costs a poll, at 200 sources.

    python benchmarks/bench_follows.py            200 feeds; 100 people followed
    python benchmarks/bench_follows.py --people 250

Prints figures, asserts nothing. A desk of 200 RSS sources (20 items each, answering 304 once
read) plus one Mastodon, one Bluesky, one X and one YouTube source is polled with
`Poller.poll_once` against a loopback server in a separate process that answers in each API's
shape. The watchlist holds `--people` people, split over Mastodon, Bluesky, X, YouTube and
blogs (a `feed` each). Three polls with following off (`follow = false`, no feeds), then the
same three with it on: the first poll (everything new: each person's backlog), a poll where
nothing changed, and a poll where every followed person posted once. The difference is what
following costs: the requests it adds and the wall time of a poll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FEEDS = 200
CHANNELS = ("mastodon", "bluesky", "x", "youtube", "blog")


def rss(title: str, items: list[tuple[str, str, datetime]]) -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>']
    for guid, text, when in items:
        out.append(f"<item><title>{text}</title><guid>{guid}</guid><link>https://example.org/{guid}</link>"
                   f"<pubDate>{format_datetime(when)}</pubDate><description>{text}</description></item>")  # fmt: skip
    return ("".join(out) + "</channel></rss>").encode()


def serve() -> None:
    """The loopback server: feeds, and each API's follow endpoints over `posts` per person
    (one more for everyone on POST /_tick); /_stats counts requests by kind since the last."""
    posts = [3]  # posts per person so far
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def when(n: int) -> datetime:
        return T0 + timedelta(minutes=n)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            posts[0] += 1
            self._send(200, b"{}")

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            path, n = url.path, posts[0]
            if path == "/_stats":
                with lock:
                    body = json.dumps(counts).encode()
                    counts.clear()
                return self._send(200, body)
            with lock:
                counts["requests"] = counts.get("requests", 0) + 1
            # The sources' own searches: nothing new there (what is measured is following).
            if path.startswith("/api/v1/timelines/"):
                return self._json([])
            if path == "/xrpc/app.bsky.feed.searchPosts":
                return self._json({"posts": []})
            if path == "/2/tweets/search/recent":
                return self._json({"meta": {"result_count": 0}})
            if path.startswith("/feeds/"):
                if self.headers.get("If-None-Match") == '"v1"':
                    return self._send(304, b"", etag='"v1"')
                items = [(f"{path}-{i}", f"VLM bericht {i}", when(-i)) for i in range(20)]
                return self._send(200, rss(path, items), "application/rss+xml", etag='"v1"')
            if path == "/api/v1/accounts/lookup":
                return self._json({"id": q["acct"].split("@")[0].removeprefix("m")})
            if path.startswith("/api/v1/accounts/"):
                person = int(path.split("/")[4])
                low = int(q.get("min_id", 0))
                ids = [person * 10_000 + k for k in range(1, n + 1)]
                ids = [i for i in ids if i > low][-int(q.get("limit", 20)):]
                return self._json([{
                    "id": str(i), "created_at": when(i % 10_000).isoformat().replace("+00:00", "Z"),
                    "url": f"https://m.example/@m{person}/{i}", "content": f"<p>Bericht {i}</p>",
                    "visibility": "public", "account": {"acct": f"m{person}@m.example", "followers_count": 10},
                } for i in reversed(ids)])  # fmt: skip
            if path == "/xrpc/app.bsky.feed.getAuthorFeed":
                actor = q["actor"]
                feed = [{"post": {
                    "uri": f"at://did:plc:{actor}/app.bsky.feed.post/{k:06d}", "cid": f"c{k}",
                    "author": {"did": f"did:plc:{actor}", "handle": actor},
                    "record": {"text": f"Bericht {k}", "createdAt": when(k).strftime("%Y-%m-%dT%H:%M:%S.000Z")},
                    "indexedAt": when(k).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }} for k in range(n, 0, -1)][: int(q.get("limit", 25))]  # fmt: skip
                return self._json({"feed": feed})
            if path.startswith("/2/users/by/username/"):
                return self._json({"data": {"id": path.rsplit("/", 1)[1].removeprefix("x")}})
            if path.startswith("/2/users/"):
                person = int(path.split("/")[3])
                since = int(q.get("since_id", 0))
                ids = [i for i in (person * 10_000 + k for k in range(1, n + 1)) if i > since]
                ids = sorted(ids, reverse=True)[: int(q["max_results"])]
                data = [{"id": str(i), "text": f"Bericht {i}", "author_id": str(person),
                         "created_at": when(i % 10_000).isoformat().replace("+00:00", "Z")} for i in ids]  # fmt: skip
                meta = {"result_count": len(ids), **({"newest_id": str(ids[0])} if ids else {})}
                return self._json({"data": data, "meta": meta} if ids else {"meta": meta})
            if path.startswith("/yt/feeds/") or path.startswith("/blog/"):
                who = q.get("channel_id", path)
                tag = f'"{who}-{n}"'
                if self.headers.get("If-None-Match") == tag:
                    return self._send(304, b"", etag=tag)
                items = [(f"{who}-{k}", f"Video {k}", when(k)) for k in range(1, n + 1)]
                return self._send(200, rss(who, items), "application/rss+xml", etag=tag)
            self._send(404, b"{}")

        def _json(self, data: object) -> None:
            self._send(200, json.dumps(data).encode())

        def _send(self, status: int, body: bytes, ctype: str = "application/json", etag: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    httpd = Server(("127.0.0.1", 0), Handler)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def config_text(base: str, data: Path, people: int, follow: bool) -> str:
    lines = [
        '[desk]\nname = "bench"\nlanguage = "nl"\ntimezone = "Europe/Brussels"',
        f'data_dir = "{data}"\noperator = "bench"\n',
        '[watch]\nkeywords = ["VLM"]\n',
    ]
    for i in range(people):
        channel = CHANNELS[i % len(CHANNELS)]
        handle = {"mastodon": f"@m{i}@m.example", "bluesky": f"b{i}.bsky.social", "x": f"@x{i}",
                  "youtube": f"UC{i:022d}", "blog": f"blog{i}"}[channel]  # fmt: skip
        entry = f'[[watch.people]]\nhandle = "{handle}"\nkind = "journalist"\n'
        if channel == "blog":
            entry += f'feed = "{base}/blog/{i}.xml"\n' if follow else ""
        else:
            entry += f'channel = "{channel}"\n'
        lines.append(entry)
    for f in range(FEEDS):
        lines.append(f'[[sources]]\ntype = "rss"\nname = "feed {f}"\nurl = "{base}/feeds/{f}.xml"\n')
    off = "" if follow else "follow = false\n"
    lines.append(f'[[sources]]\ntype = "mastodon"\nname = "masto"\ninstance = "{base}"\nhashtags = ["vlm"]\n{off}')
    lines.append(f'[[sources]]\ntype = "bluesky"\nname = "bsky"\nappview = "{base}"\nsearch = ["VLM"]\nfollower_counts = false\n{off}')
    lines.append(f'[[sources]]\ntype = "x"\nname = "x"\nquery = "VLM"\nbearer_token_env = "BENCH_X"\napi = "{base}"\n{off}')
    lines.append(f'[[sources]]\ntype = "youtube"\nname = "yt"\nchannel_ids = ["UCbenchbenchbenchbench00"]\nsite = "{base}/yt"\n{off}')
    return "\n".join(lines)


def stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(base + "/_stats") as r:
        return json.loads(r.read())


def run(base: str, tmp: Path, people: int, follow: bool) -> tuple[list[tuple[str, float, int, int]], int]:
    from sources.poller import Poller
    from sources.registry import build_sources
    from store import Store
    from webcare.config import load
    from webcare.intake import Intake

    work = tmp / ("on" if follow else "off")
    work.mkdir()
    path = work / "config.toml"
    path.write_text(config_text(base, work / "data", people, follow), encoding="utf-8")
    config = load(path)
    sources = build_sources(config)
    poller = Poller(sources, Intake(config), Store(config.data_dir))
    out = []
    stats(base)
    for label in ("first poll", "nothing new", "one post each"):
        if label == "one post each":
            urllib.request.urlopen(urllib.request.Request(base + "/_tick", method="POST")).read()
            stats(base)
        started = time.perf_counter()
        new = asyncio.run(poller.poll_once())
        seconds = time.perf_counter() - started
        out.append((label, seconds, sum(stats(base).values()), new))
    return out, len(sources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    os.environ["BENCH_X"] = "bench-token"
    print(f"following the watchlist: {args.people} people over {', '.join(CHANNELS)}; "
          f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")  # fmt: skip
    results = {}
    for follow in (False, True):
        # A fresh server per run: both see the same posts.
        proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            base = f"http://127.0.0.1:{int(proc.stdout.readline())}"
            with tempfile.TemporaryDirectory() as tmp:
                results[follow] = run(base, Path(tmp), args.people, follow)
        finally:
            proc.terminate()
            proc.wait()
    (off, n_off), (on, n_on) = results[False], results[True]
    print(f"\n  {'poll':<16} {'follow off':>22} {'follow on':>22} {'follows cost':>24}")
    print(f"  {'':<16} {f'({n_off} sources)':>22} {f'({n_on} sources)':>22}")
    for (label, s0, r0, m0), (_, s1, r1, m1) in zip(off, on):
        extra = f"{r1 - r0:+d} req, {(s1 - s0) * 1000:+.0f} ms"
        print(f"  {label:<16} {s0:6.2f} s {r0:4d} req {m0:4d} new {s1:6.2f} s {r1:4d} req {m1:4d} new   {extra}")
    steady = [(s1 - s0) / max(1, args.people) * 1000 for (_, s0, *_), (_, s1, *_) in zip(off, on)]
    print(f"\n  per followed person, a poll with nothing new: {steady[1]:.1f} ms; with a post each: {steady[2]:.1f} ms")


if __name__ == "__main__":
    main()
