"""How fast webcare collects RSS feeds, beside newsboat reloading the same feeds.

    python benchmarks/bench_feeds.py           200 feeds of 20 items; 9 feeds of 10,000 items
    python benchmarks/bench_feeds.py --quick   50 feeds of 20 items; 3 feeds of 2,000 items
    python benchmarks/bench_feeds.py --stages  (b) also stage by stage: parse, intake, store
    python benchmarks/bench_feeds.py --parser fast        only the fast path (or: feedparser)

Prints figures, asserts nothing. The goal: no slower than newsboat. Two cases:

(a) many small feeds, as a desk polls them: a first poll (everything new), then a poll where
    nothing changed (every feed answers 304 Not Modified);
(b) a few very large feeds ingested from scratch: webcare's whole path (fetch, parse in the
    worker pool, intake, store) beside newsboat; then, as the reference, feedparser alone parsing
    the same bytes one after another, and webcare's parse_feed (the fast path for well-formed
    RSS 2.0 and Atom, sources/feedparse.py) one after another in the same way.

webcare runs each case twice by default (`--parser both`): with the fast path
(sources/feedparse.py) in the workers, and with plain feedparser in the same worker pool
(`sources.rss.FAST_PATH = False`), each with freshly started workers and its own data directory.

The feeds are served from a separate process (so the server does not compete with webcare for
its interpreter), on loopback, with ETag and Last-Modified; newsboat runs with its own urls,
config and cache files in a temporary directory (`newsboat -x reload -u … -c … -C …`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- the feeds ---------------------------------------------------------------------------------


def make_feed(feed: int, items: int) -> bytes:
    """An RSS 2.0 feed like a news site's: title, link, guid, author, date, an HTML summary."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Nieuws {feed}</title><link>https://news.example.org/{feed}/</link>"
        "<description>Benchmark feed</description>\n"
    ]
    for i in range(items):
        date = format_datetime(T0 - timedelta(minutes=7 * i + feed))
        out.append(
            f"<item><title>VLM bericht {feed}-{i}: mestbank en natuur in Vlaanderen</title>"
            f"<link>https://news.example.org/{feed}/{i}</link>"
            f'<guid isPermaLink="false">urn:bench:{feed}:{i}</guid>'
            f"<author>redactie@example.org (Redactie {feed})</author><pubDate>{date}</pubDate>"
            "<description>&lt;p&gt;De Vlaamse Landmaatschappij (VLM) meldt nieuws over de "
            "&lt;b&gt;mestbank&lt;/b&gt; en bemesting. Lees &lt;a href=&quot;"
            f"https://news.example.org/{feed}/{i}&quot;&gt;het volledige artikel&lt;/a&gt; op "
            f"onze site. Bericht {i} van feed {feed}, met wat extra tekst voor een gewone "
            "lengte.&lt;/p&gt;</description></item>\n"
        )
    out.append("</channel></rss>\n")
    return "".join(out).encode()


# --- the server (its own process) ----------------------------------------------------------------


def serve(directory: Path) -> None:
    """Serve the files in `directory` with ETag/Last-Modified and 304s; /_stats counts answers."""
    files = {f"/{p.name}": p.read_bytes() for p in directory.iterdir()}
    etags = {
        path: '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
        for path, body in files.items()
    }
    modified = formatdate(T0.timestamp(), usegmt=True)
    counts = {"200": 0, "304": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/_stats":
                self._send(200, json.dumps(counts).encode(), {"Content-Type": "application/json"})
                with lock:
                    counts.update({"200": 0, "304": 0})
                return
            body = files.get(self.path)
            if body is None:
                self._send(404, b"", {})
                return
            etag = etags[self.path]
            fresh = self.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in self.headers
                and self.headers.get("If-Modified-Since") == modified
            )
            with lock:
                counts["304" if fresh else "200"] += 1
            headers = {"ETag": etag, "Last-Modified": modified}
            if fresh:
                self._send(304, b"", headers)
            else:
                self._send(
                    200, body, {**headers, "Content-Type": "application/rss+xml; charset=utf-8"}
                )

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

        def handle_error(self, request: object, client_address: object) -> None:
            pass

    httpd = Server(("127.0.0.1", 0), Handler)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


class FeedServer:
    """The server process for one directory of feed files."""

    def __init__(self, directory: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(directory)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stats(self) -> dict[str, int]:
        """Answers given since the last call: {"200": n, "304": m}."""
        with urllib.request.urlopen(self.url("_stats")) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


# --- the contestants -----------------------------------------------------------------------------


def write_webcare_config(work: Path, urls: list[str]) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    lines = [
        "[desk]",
        'name = "Vlaamse Landmaatschappij"',
        f"data_dir = {json.dumps(str(work / 'data'))}",
        "",
        "[watch]",
        'keywords = ["VLM", "mestbank"]',
    ]
    for i, url in enumerate(urls):
        lines += [
            "",
            "[[sources]]",
            'type = "rss"',
            f'name = "feed {i}"',
            f"url = {json.dumps(url)}",
        ]
        lines += ['channel = "news"', 'timeout = "120s"']
    path = work / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Webcare:
    """webcare's collector path: the configured RSS sources, the Poller, a real Store."""

    def __init__(self, work: Path, urls: list[str]) -> None:
        from sources.poller import Poller
        from sources.rss import RSSSource
        from store import Store
        from webcare.config import load
        from webcare.intake import Intake

        config = load(write_webcare_config(work, urls))
        self.store = Store(config.data_dir)
        sources = [RSSSource.from_config(sc, config) for sc in config.sources]
        self.poller = Poller(sources, Intake(config), self.store)  # type: ignore[arg-type]

    def poll(self) -> tuple[float, int]:
        t = time.perf_counter()
        new = asyncio.run(self.poller.poll_once())
        return time.perf_counter() - t, new


def newsboat_reload(work: Path, urls: list[str], threads: int) -> tuple[float, int]:
    """Time one `newsboat -x reload`; returns (seconds, items in its cache)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "urls").write_text("".join(u + "\n" for u in urls))
    (work / "config").write_text(f"reload-threads {threads}\n")
    cache = work / "cache.db"
    env = {**os.environ, "HOME": str(work)}
    t = time.perf_counter()
    subprocess.run(
        [
            "newsboat",
            "-x",
            "reload",
            "-u",
            str(work / "urls"),
            "-c",
            str(cache),
            "-C",
            str(work / "config"),
        ],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - t
    import sqlite3

    with sqlite3.connect(cache) as db:
        items = db.execute("select count(*) from rss_item").fetchone()[0]
    return seconds, items


# --- the cases -----------------------------------------------------------------------------------

LABELS = {"fast": "fast path + pool", "feedparser": "feedparser in the pool"}


def use_parser(parser: str) -> None:
    """The workers' parser from now on, with the workers started afresh (counted in the poll)."""
    import sources.rss

    sources.rss.shutdown_parsers()
    sources.rss.FAST_PATH = parser == "fast"


def row(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<50} {seconds:8.2f} s   {note}")


def case_many_small(tmp: Path, feeds: int, items: int, newsboat: bool, parsers: list[str]) -> None:
    print(f"\n(a) {feeds} feeds of {items} items: a first poll, then one where nothing changed")
    directory = tmp / "small"
    directory.mkdir()
    for f in range(feeds):
        (directory / f"feed{f}.xml").write_bytes(make_feed(f, items))
    server = FeedServer(directory)
    urls = [server.url(f"feed{f}.xml") for f in range(feeds)]
    try:
        server.stats()
        for parser in parsers:
            use_parser(parser)
            wc = Webcare(tmp / f"webcare-small-{parser}", urls)
            seconds, new = wc.poll()
            row(
                f"webcare  first poll ({LABELS[parser]})",
                seconds,
                f"{new} mentions stored, {server.stats()}",
            )
            seconds, new = wc.poll()
            row(
                f"webcare  nothing changed ({LABELS[parser]})",
                seconds,
                f"{new} mentions stored, {server.stats()}",
            )
        if newsboat:
            for threads in (1, 2):
                work = tmp / f"newsboat-small-{threads}"
                seconds, stored = newsboat_reload(work, urls, threads)
                row(
                    f"newsboat first reload (reload-threads {threads})",
                    seconds,
                    f"{stored} items cached, {server.stats()}",
                )
                seconds, stored = newsboat_reload(work, urls, threads)
                row(
                    f"newsboat nothing changed (reload-threads {threads})",
                    seconds,
                    f"{stored} items cached, {server.stats()}",
                )
    finally:
        server.stop()


def case_few_large(
    tmp: Path, feeds: int, items: int, newsboat: bool, stages: bool, parsers: list[str]
) -> None:
    import feedparser

    from sources.rss import parse_feed

    print(f"\n(b) {feeds} feeds of {items:,} items, ingested from scratch")
    directory = tmp / "large"
    directory.mkdir()
    bodies = []
    for f in range(feeds):
        body = make_feed(1000 + f, items)
        bodies.append(body)
        (directory / f"big{f}.xml").write_bytes(body)
    print(f"  ({sum(map(len, bodies)) / 1e6:.1f} MB of feeds)")
    server = FeedServer(directory)
    urls = [server.url(f"big{f}.xml") for f in range(feeds)]
    try:
        server.stats()
        for parser in parsers:
            use_parser(parser)
            wc = Webcare(tmp / f"webcare-large-{parser}", urls)
            seconds, new = wc.poll()
            row(f"webcare  cold ingest ({LABELS[parser]})", seconds, f"{new:,} mentions stored")
        if newsboat:
            for threads in (1, 2):
                seconds, stored = newsboat_reload(tmp / f"newsboat-large-{threads}", urls, threads)
                row(
                    f"newsboat reload (reload-threads {threads})",
                    seconds,
                    f"{stored:,} items cached",
                )
    finally:
        server.stop()

    t = time.perf_counter()
    n = sum(len(feedparser.parse(body).entries) for body in bodies)
    row("feedparser.parse alone, one after another", time.perf_counter() - t, f"{n:,} entries")
    t = time.perf_counter()
    parsed = [parse_feed(body) for body in bodies]
    n = sum(len(p["entries"]) for p in parsed)
    how = ", ".join(sorted({p["parser"] for p in parsed}))
    row(
        "webcare parse_feed alone, one after another",
        time.perf_counter() - t,
        f"{n:,} entries ({how})",
    )
    if stages:
        breakdown(tmp, bodies)


def breakdown(tmp: Path, bodies: list[bytes]) -> None:
    """Where webcare's time goes on (b), stage by stage."""
    from sources.rss import RSSSource, parse_in_worker
    from store import Store
    from webcare.config import load
    from webcare.intake import Intake

    async def parse_all() -> list[dict]:
        return await asyncio.gather(*(parse_in_worker(body, time_limit=600) for body in bodies))

    t = time.perf_counter()
    parsed = asyncio.run(parse_all())
    parse_s = time.perf_counter() - t
    config = load(write_webcare_config(tmp / "breakdown", ["http://127.0.0.1/x.xml"]))
    source = RSSSource.from_config(config.sources[0], config)
    t, c = time.perf_counter(), time.process_time()
    items = [item for p in parsed for item in source._items(p)]
    items_s, items_cpu = time.perf_counter() - t, time.process_time() - c
    intake = Intake(config)
    now = datetime.now(UTC)
    t, c = time.perf_counter(), time.process_time()
    mentions = [
        m for item in items if (m := intake.admit(item, source.name, True, now)) is not None
    ]
    intake_s, intake_cpu = time.perf_counter() - t, time.process_time() - c
    # What intake costs where no worker read the tone ahead (every source but RSS does this).
    sample = [replace(item, tone=None) for item in items[:: max(1, len(items) // 5000)]]
    c = time.process_time()
    for item in sample:
        intake.admit(item, source.name, True, now)
    unread_us = (time.process_time() - c) / max(1, len(sample)) * 1e6
    store = Store(tmp / "breakdown" / "data")
    t, c = time.perf_counter(), time.process_time()
    store.add(mentions)
    store_s, store_cpu = time.perf_counter() - t, time.process_time() - c
    print("  webcare, stage by stage (wall time; CPU time beside it):")
    cpu = sum(p["cpu_s"] for p in parsed)
    row(
        "  parse + tones read ahead, in the worker pool",
        parse_s,
        f"{cpu:.1f} s CPU in the workers (all feeds at once)",
    )
    row("  plain data to Items", items_s, f"{items_cpu:.1f} s CPU")
    row(
        "  intake (clean, keywords, deadline)",
        intake_s,
        f"{intake_cpu:.1f} s CPU, {len(mentions):,} mentions; "
        f"{unread_us:.0f} µs an item reading the tone itself",
    )
    row("  store.add, one batch", store_s, f"{store_cpu:.1f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument(
        "--stages", action="store_true", help="(b) also stage by stage (about a minute more)"
    )
    parser.add_argument(
        "--parser",
        choices=("both", "fast", "feedparser"),
        default="both",
        help="webcare with the fast path, with feedparser alone in the pool, or both (default)",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    has_newsboat = shutil.which("newsboat") is not None
    if not has_newsboat:
        print("newsboat is not installed (apt-get install newsboat): showing webcare alone")
    small = (50, 20) if args.quick else (200, 20)
    large = (3, 2_000) if args.quick else (9, 10_000)
    print(f"webcare feed benchmark; {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as tmp:
        parsers = ["fast", "feedparser"] if args.parser == "both" else [args.parser]
        case_many_small(Path(tmp), *small, has_newsboat, parsers)
        case_few_large(Path(tmp), *large, has_newsboat, args.stages, parsers)
    from sources.rss import shutdown_parsers

    shutdown_parsers()


if __name__ == "__main__":
    main()
