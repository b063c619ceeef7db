"""How long a LinkedIn poll takes at 50 posts of 100 comments each.

    python benchmarks/bench_linkedin.py            50 posts × 100 comments
    python benchmarks/bench_linkedin.py --posts 100 --comments 100

Prints figures, asserts nothing. A server in a separate process (so it does not compete with
webcare for its interpreter) answers on loopback in the shape of LinkedIn's REST API: the
posts finder, each post's comments (one page of 100), and 403 for members' names (as for most
tokens). Measured:

(a) the source's fetch alone: the first poll (every comment new), then a poll where nothing
    changed (the watermark stops each post at its first page);
(b) the collector's whole path from scratch: fetch, intake, store (Poller.poll_once into a
    fresh data directory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORG = "2414183"


def build(posts: int, comments: int) -> dict[str, list[dict]]:
    """Path → the collection's elements, newest first."""
    now = int(time.time() * 1000)
    data: dict[str, list[dict]] = {"/rest/posts": [], "/rest/organizationalEntityNotifications": []}
    for p in range(posts):
        urn = f"urn:li:share:69709691339163{p:05d}"
        data["/rest/posts"].append(
            {"id": urn, "author": f"urn:li:organization:{ORG}", "commentary": f"Bericht {p} over de mestbank",
             "createdAt": now - p * 3_600_000, "lifecycleState": "PUBLISHED"}
        )
        listed = []
        for c in range(comments):
            ident = p * 1000 + c
            activity = f"urn:li:activity:69709691340{p:05d}"
            listed.append(
                {"actor": f"urn:li:person:Member{ident}", "id": str(ident),
                 "commentUrn": f"urn:li:comment:({activity},{ident})", "object": activity,
                 "created": {"time": now - (p * comments + c) * 20_000},
                 "message": {"text": f"Vraag {ident} over de VLM en de mestbank: wanneer komt het antwoord?"},
                 "commentsSummary": {"totalFirstLevelComments": 0}}
            )
        data[f"/rest/socialActions/{quote(urn, safe='')}/comments"] = listed
    return data


def serve(port_out, posts: int, comments: int) -> None:
    data = build(posts, comments)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path, _, query = self.path.partition("?")
            if path.startswith("/rest/people/"):
                self._send(403, {"status": 403, "serviceErrorCode": 100, "message": "Not enough permissions"})
                return
            elements = data.get(path)
            if elements is None:
                self._send(404, {"status": 404, "message": "Not Found"})
                return
            p = {k: v[0] for k, v in parse_qs(query).items()}
            start, count = int(p.get("start", 0)), int(p.get("count", 10))
            self._send(200, {"paging": {"start": start, "count": count, "total": len(elements)},
                             "elements": elements[start : start + count]})

        def _send(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(httpd.server_address[1])
    httpd.serve_forever()


def config_for(tmp: Path, port: int, posts: int):
    from webcare.config import load

    (tmp / "config.toml").write_text(
        f"""[desk]
name = "Bench"
data_dir = "data"
operator = "bench"

[[sources]]
type = "linkedin"
name = "linkedin"
organization_id = "{ORG}"
token_env = "BENCH_LINKEDIN_TOKEN"
posts = {posts}
mentions = true
backlog = "30d"
api = "http://127.0.0.1:{port}"
"""
    )
    return load(tmp / "config.toml")


async def bench(port: int, posts: int, comments: int) -> None:
    from sources.http import make_client
    from sources.poller import Poller
    from sources.registry import build_sources
    from store import Store
    from webcare.intake import Intake

    os.environ["BENCH_LINKEDIN_TOKEN"] = "bench-token"
    with tempfile.TemporaryDirectory() as name:
        config = config_for(Path(name), port, posts)
        (source,) = build_sources(config)
        async with make_client() as client:
            start = time.perf_counter()
            items = await source.fetch(client)
            first = time.perf_counter() - start
            start = time.perf_counter()
            again = await source.fetch(client)
            second = time.perf_counter() - start
        print(f"(a) fetch, first poll:   {len(items):6,} comments in {first:6.2f} s"
              f"  ({len(items) / first:,.0f} comments/s)")
        print(f"    fetch, nothing new:  {len(again):6,} comments in {second:6.2f} s")
    with tempfile.TemporaryDirectory() as name:
        config = config_for(Path(name), port, posts)
        sources = build_sources(config)
        store = Store(config.data_dir)
        poller = Poller(sources, Intake(config), store)
        start = time.perf_counter()
        new = await poller.poll_once()
        whole = time.perf_counter() - start
        print(f"(b) fetch, intake, store from scratch: {new:,} new mentions in {whole:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--comments", type=int, default=100)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue, args.posts, args.comments), daemon=True)
    server.start()
    try:
        port = queue.get(timeout=30)
        print(f"LinkedIn poll: {args.posts} posts of {args.comments} comments, on loopback")
        asyncio.run(bench(port, args.posts, args.comments))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
