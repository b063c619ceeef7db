"""How fast the Instagram source polls an account of 50 media with 100 comments each.

    python benchmarks/bench_instagram.py           50 media of 100 comments (70 threads, 30 replies)
    python benchmarks/bench_instagram.py --media 10 --comments 20

Prints figures, asserts nothing. A Graph API server in a separate process (so it does not
compete with the source for the interpreter) answers on loopback in the API's shape: the media
list with comments_count, comments 50 to a page with their replies nested, paging.next, tags.
Three polls, as the collector makes them:

(a) the first poll: every comment of every media (within the backlog) is new;
(b) a poll where nothing changed: the counts say so, one request for the media list and one
    for the tags;
(c) a poll after one new comment on each of 10 media and one new reply to the oldest thread
    of another: only those media are read, each until the new comment turned up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT = "17841400000000001"
V = "/v21.0"


def stamp(seconds_ago: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def comment(cid: str, seconds_ago: float, n: int) -> dict:
    return {
        "id": cid,
        "text": f"Vraag {n} over de mestbank en de nieuwe regels voor bemesting in Vlaanderen",
        "username": f"burger{n}",
        "timestamp": stamp(seconds_ago),
        "from": {"id": f"9{n}", "username": f"burger{n}"},
    }


def serve(port_out: multiprocessing.Queue, media_count: int, per_media: int) -> None:
    threads_per_media = max(1, round(per_media * 0.7))
    media: list[dict] = []
    comments: dict[str, list[dict]] = {}  # newest first
    replies: dict[str, list[dict]] = {}
    for m in range(media_count):
        media_id = f"1780{m:05d}"
        media.append(
            {
                "id": media_id,
                "caption": f"Post {m}: nieuws van de VLM",
                "permalink": f"https://www.instagram.com/p/{media_id}/",
                "timestamp": stamp(m * 3600),
                "username": "vlm",
            }
        )
        top = [comment(f"179{m:05d}{i:04d}", 600 + i * 60, i) for i in range(threads_per_media)]
        comments[media_id] = top
        for c in top:
            replies[c["id"]] = []
        for r in range(per_media - threads_per_media):
            parent = top[r % len(top)]
            replies[parent["id"]].append(comment(f"{parent['id']}r{r}", 300 + r * 30, r))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-app-usage", '{"call_count":1,"total_cputime":1,"total_time":1}')
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length") or 0)
            order = json.loads(self.rfile.read(length))
            with lock:
                for media_id in order.get("comments", []):
                    n = len(comments[media_id])
                    new = comment(f"{media_id}new{n}", 1, n)
                    comments[media_id].insert(0, new)
                    replies[new["id"]] = []
                for media_id in order.get("replies", []):
                    oldest = comments[media_id][-1]["id"]
                    replies[oldest].append(comment(f"{oldest}new", 1, 0))
            self._send({"success": True})

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            p = {k: v[0] for k, v in parse_qs(parts.query).items()}
            path = parts.path.removeprefix(V)
            with lock:
                if path == f"/{ACCOUNT}/media":
                    listed = [
                        {
                            **m,
                            "comments_count": sum(
                                1 + len(replies[c["id"]]) for c in comments[m["id"]]
                            ),
                        }
                        for m in media[: int(p.get("limit", 25))]
                    ]
                    return self._send({"data": listed, "paging": {"cursors": {"before": "b"}}})
                if path == f"/{ACCOUNT}/tags":
                    return self._send({"data": [], "paging": {}})
                media_id = path.strip("/").split("/")[0]
                entries = [
                    {**c, "replies": {"data": replies[c["id"]]}} if replies[c["id"]] else c
                    for c in comments.get(media_id, [])
                ]
            size = int(p.get("limit", 25))
            start = int(p.get("after", 0))
            body: dict = {"data": entries[start : start + size], "paging": {"cursors": {}}}
            if start + size < len(entries):
                body["paging"]["next"] = (
                    f"http://127.0.0.1:{self.server.server_address[1]}{parts.path}"
                    f"?limit={size}&after={start + size}&access_token=t"
                )
            self._send(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_out.put(httpd.server_address[1])
    httpd.serve_forever()


async def poll(source: object, label: str) -> None:
    import httpx

    from sources.http import make_client

    sent = 0

    async def count(request: httpx.Request) -> None:
        nonlocal sent
        sent += 1

    hooks = {"request": [count]}
    async with make_client(None, timeout=httpx.Timeout(30.0), event_hooks=hooks) as client:
        start = time.perf_counter()
        items = await source.fetch(client)  # type: ignore[attr-defined]
        took = time.perf_counter() - start
    print(f"{label:<48} {took * 1000:8.1f} ms {sent:5d} requests {len(items):6d} comments")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=int, default=50)
    parser.add_argument("--comments", type=int, default=100)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(ports, args.media, args.comments), daemon=True
    )
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    os.environ["BENCH_IG_TOKEN"] = "token"

    from sources.instagram import InstagramSource

    source = InstagramSource(
        "bench",
        ACCOUNT,
        token="token",
        token_env="BENCH_IG_TOKEN",
        media=args.media,
        api=base + V,
    )
    print(f"Instagram: {args.media} media of {args.comments} comments, served on loopback")

    async def run() -> None:
        import httpx

        await poll(source, "(a) first poll, everything new")
        await poll(source, "(b) nothing changed")
        order = {"comments": [f"1780{m:05d}" for m in range(min(10, args.media))]}
        if args.media > 10:
            order["replies"] = [f"1780{args.media - 1:05d}"]
        async with httpx.AsyncClient() as client:
            await client.post(base + "/control", json=order)
        await poll(source, "(c) 10 new comments, 1 reply on an old thread")

    asyncio.run(run())
    server.terminate()


if __name__ == "__main__":
    main()
