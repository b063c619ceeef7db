"""The poller: runs every source concurrently and feeds what they fetch into the store.

Each source polls by rescheduling: fetch, store, then sleep until the next poll, so polls of
one source never overlap and a failing source costs nothing while it waits. A failure backs
off exponentially with jitter (and never comes back sooner than a server's Retry-After); a
failing source never stops the others. Health is kept per source and written to the store, so
every desk on the data directory shows it, whether it collects itself or attaches.

Several collectors may share one store (PostgreSQL): each collects only the sources it holds a
lease on (webcare.store_port.SourceLeases). Every few seconds it renews its leases and takes
the sources whose collector stopped; a source it gains starts from the checkpoint its last
collector saved, a source it lost stops. A mention is stored once by id whoever fetched it, so
a source collected by two at the moment one hands over stores nothing twice. On the data
directory's files one collector holds every source, as it always did.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sources.health import SourceHealth
from sources.source import Checkpoints, LiveConnection, Source, SourceError
from store import Store, StoreError
from webcare import __version__
from webcare.intake import Intake, Item
from webcare.mention import Mention
from webcare.store_port import SOURCE_RENEW, SourceLeases
from webcare.untrusted import clean_line

if TYPE_CHECKING:
    import httpx

    from sources.alerts import AlertWatch
    from sources.http import NetworkPolicy

USER_AGENT = f"webcare/{__version__} (government webcare desk; feed reader)"
BACKOFF_BASE = 15.0  # seconds before the first retry
BACKOFF_MAX = 30 * 60.0
HEARTBEAT_EVERY = 30.0
MAX_ERROR = 300  # characters of an error kept for the header and health.json


def utcnow() -> datetime:
    return datetime.now(UTC)


def collector_name() -> str:
    """Who this collector is, in the source leases and the health: its host and process, and a
    few random characters, since two containers can share a host name and a process number."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def backoff_delay(failures: int, retry_after: float | None, rng: Callable[[], float]) -> float:
    """Seconds to wait after the `failures`-th consecutive failure: 15 s, 30 s, 60 s … capped at
    30 min, jittered ±50 % so many failing feeds do not retry in lockstep; never less than the
    server's Retry-After."""
    doublings = min(
        max(0, failures - 1), 32
    )  # 2 ** failures overflows a float after ~1000 failures
    delay = min(BACKOFF_MAX, BACKOFF_BASE * 2**doublings) * (0.5 + rng())
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def describe(exc: BaseException) -> str:
    """A one-line error for the header, health.json and `collect --once`: what failed, not a
    traceback. This is where a source's failure enters the desk, and it may quote a server
    (an API's error text, a mail server's refusal): cleaned like any outside text, so escape
    codes never reach a terminal and it stays one short line."""
    return clean_line(_said(exc), MAX_ERROR)


def _said(exc: BaseException) -> str:
    if isinstance(exc, SourceError):
        return str(exc)
    import sys

    httpx = sys.modules.get("httpx")  # a failure before any request: httpx may not be loaded
    if httpx is not None:
        if isinstance(exc, httpx.TimeoutException):
            return "timed out"
        if isinstance(exc, httpx.ConnectError):
            return f"cannot connect: {exc}" if str(exc) else "cannot connect"
        if isinstance(exc, httpx.HTTPError):
            return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Poller:
    """Runs `sources` and stores what they bring in through `intake`."""

    def __init__(
        self,
        sources: list[Source],
        intake: Intake,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
        on_new: Callable[[int], Any] | None = None,
        chores: Callable[[], Any] | None = None,
        network: NetworkPolicy | None = None,
        alerts: AlertWatch | None = None,
        leases: SourceLeases | None = None,
        renew_every: float = SOURCE_RENEW,
        on_held: Callable[[list[str], list[str]], Any] | None = None,
    ) -> None:
        self.sources = sources
        self.intake = intake
        self.store = store
        self.clock = clock
        self.rng = rng
        self.on_new = on_new  # told how many new mentions were stored (the in-process desk refreshes)
        self.chores = chores  # the collector's daily housekeeping (store/housekeeping.py)
        self.network = network  # [network]: allowed redirect hosts, the deadline per request
        self.alerts = alerts  # [[alerts]]: told what is stored and answered, sends from here
        # Without leases it collects every source (`collect --once`, the tests).
        self.leases = leases
        self.renew_every = renew_every  # seconds between looks at the leases
        self.on_held = on_held  # told (gained, lost) source names when the leases change
        self.collector = leases.collector if leases is not None else f"{socket.gethostname()}:{os.getpid()}"
        self.held: set[str] = {s.name for s in sources} if leases is None else set()
        self.lease_error = ""  # why the leases could not be renewed, until they are again
        self._running: dict[str, list[asyncio.Task[None]]] = {}  # the tasks of each source collected
        self._crashed: asyncio.Future[None] | None = None  # a source's task failed: the poller stops
        self.health = {s.name: SourceHealth(s.name, collector=self.collector) for s in sources}
        for source in sources:  # a token with an end date (LinkedIn's 60 days): every desk shows it
            if source.token_expires is not None:
                health = self.health[source.name]
                health.token_expires = source.token_expires.isoformat()
                health.token_label = source.token_label or source.name
        self.started_at = clock()
        self._health_dirty = asyncio.Event()
        if alerts is not None:  # a target failing or delivering again shows in the header at once
            alerts.on_status = self._health_dirty.set
        self._pending: list[tuple[list[Mention], asyncio.Future[list[Mention]]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._seeded = False
        self._checkpoints: dict[str, dict[str, Any]] = {}  # the last saved, by source name
        self._scrubs = 0  # erasures of the checkpoints (Store.checkpoint_scrubs) taken up

    def _client(self) -> httpx.AsyncClient:
        import httpx  # here, not at the top: the desk paints before it starts polling

        from sources.http import make_client

        return make_client(
            self.network, limits=httpx.Limits(max_connections=32, max_keepalive_connections=16)
        )

    async def poll_once(self) -> int:
        """Poll every source once, concurrently; returns how many new mentions were stored.
        Every source, leases or not: a run from cron collects beside no collector, and beside
        one it stores nothing twice (ids)."""
        self.held = {s.name for s in self.sources}
        await asyncio.to_thread(self._seed_refs)
        async with await asyncio.to_thread(self._client) as client:
            results = await asyncio.gather(*(self._poll(s, client) for s in self.sources))
        if self.alerts is not None:  # `collect --once` (cron) sends what it found too
            await asyncio.to_thread(self.alerts.run_once, self.health)
        await asyncio.to_thread(self.store.write_health, self.health_record())
        return sum(new for new, _ in results)

    async def run(self) -> None:
        """Poll every source it holds forever (until cancelled), each on its own schedule."""
        await asyncio.to_thread(self._seed_refs)
        # Made in a thread: importing httpx (and httpcore, anyio, trio) and loading the TLS
        # certificates in the desk's UI thread held up its key presses.
        async with await asyncio.to_thread(self._client) as client:
            self._crashed = asyncio.get_running_loop().create_future()
            tasks: list[asyncio.Task[Any]] = [asyncio.create_task(self._write_health_loop(), name="health")]
            if self.leases is None:
                self._start(self.sources, client)
            else:
                tasks.append(asyncio.create_task(self._lease_loop(client), name="leases"))
            if self.chores is not None:
                tasks.append(asyncio.create_task(self.chores(), name="housekeeping"))
            if self.alerts is not None:
                tasks.append(asyncio.create_task(self.alerts.run(self.health), name="alerts"))
            try:
                await asyncio.gather(*tasks, self._crashed)
            finally:
                running = [t for ts in self._running.values() for t in ts]
                self._running.clear()
                for t in [*tasks, *running]:
                    t.cancel()
                await asyncio.gather(*tasks, *running, return_exceptions=True)
                self._crashed.cancel()
                if self.leases is not None:
                    self._release()

    def _start(self, sources: list[Source], client: httpx.AsyncClient) -> None:
        """Collect `sources`: a polling loop each, and a live connection where it has one."""
        for source in sources:
            tasks = [asyncio.create_task(self._loop(source, client), name=f"source:{source.name}")]
            if isinstance(source, LiveConnection) and source.can_live:
                tasks.append(asyncio.create_task(self._live_loop(source, client), name=f"live:{source.name}"))
            for task in tasks:
                task.add_done_callback(self._task_done)
            self._running[source.name] = tasks

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """A source's loop never ends but by being stopped; one that failed stops the poller
        with its error, as when every source ran in one gather."""
        if task.cancelled() or self._crashed is None or self._crashed.done():
            return
        exc = task.exception()
        if exc is not None:
            self._crashed.set_exception(exc)

    async def _stop(self, names: list[str]) -> None:
        """Stop collecting `names` (another collector holds them now), and wait until they have
        stopped, so nothing of theirs is stored or checkpointed from here after."""
        tasks = [t for name in names for t in self._running.pop(name, [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _lease_loop(self, client: httpx.AsyncClient) -> None:
        """Renew the leases every `renew_every` seconds; start what it gained, stop what it lost.
        Looks sooner when another collector's lease runs out before then, so the sources of one
        that died are taken when its leases end."""
        assert self.leases is not None
        leases = self.leases
        names = [s.name for s in self.sources]
        first = True
        renewed = time.monotonic()  # when the last renewal that worked was asked for
        while True:
            asked = time.monotonic()
            try:
                held = await asyncio.to_thread(leases.hold, names, self.clock())
            except (StoreError, OSError) as exc:
                # Not renewed (the database is away): its leases still hold until they would
                # have run out; then another collector may have taken them, so it stops.
                self.lease_error = describe(exc)
                held = self.held if asked - renewed < leases.lease else set()
                self._health_dirty.set()
            else:
                renewed = asked
                if self.lease_error:
                    self.lease_error = ""
                    self._health_dirty.set()
            lost = sorted(self.held - held)
            gained = [s for s in self.sources if s.name in held and s.name not in self.held]
            if lost:
                await self._stop(lost)
            if gained and not first:
                # From the checkpoint the source's last collector saved: it goes on from there.
                await asyncio.to_thread(self._take_over, gained)
            self.held = set(held)
            self._start(gained, client)
            if gained or lost:
                self._health_dirty.set()
                if self.on_held is not None:
                    self.on_held([s.name for s in gained], lost)
            first = False
            delay = self.renew_every
            if leases.free_in is not None:
                delay = min(delay, leases.free_in + 0.05)
            await asyncio.sleep(delay)

    def _take_over(self, sources: list[Source]) -> None:
        """Sources gained from another collector: each resumes from the checkpoint stored now, or
        (none stored) fetches everything again; what it brings that is stored already is known
        by id and not stored twice."""
        for source in sources:
            self._checkpoints.pop(source.name, None)
            if not isinstance(source, Checkpoints):
                continue
            if self.store.read_checkpoint(source.name) is None:
                source.rewind()  # what it held from an earlier turn may be ahead of the store
            else:
                self._resume_one(source)

    def _release(self) -> None:
        """A clean stop: let go of the leases so another collector takes the sources at once."""
        assert self.leases is not None
        if not self.lease_error:  # with the database away it would only wait: they run out by themselves
            try:
                self.leases.release()
            except (StoreError, OSError):
                pass
        self.held = set()

    async def _loop(self, source: Source, client: httpx.AsyncClient) -> None:
        while True:
            _, delay = await self._poll(source, client)
            self.health[source.name].next_attempt = self.clock() + timedelta(seconds=delay)
            self._health_dirty.set()
            await asyncio.sleep(delay)

    async def _live_loop(self, source: Source, client: httpx.AsyncClient) -> None:
        assert isinstance(source, LiveConnection)
        """Keep the source's live connection up: store each batch it brings; when it drops,
        reconnect with backoff (polling goes on meanwhile, so nothing is missed)."""
        health = self.health[source.name]
        failures = 0
        while True:
            stream = source.live(client)
            try:
                async for items in stream:
                    if not health.live:  # connected (a source yields [] once it is)
                        health.live, health.live_error, failures = True, "", 0
                        self._health_dirty.set()
                    if items:
                        await self._ingest(source, items, health)
                        await self._checkpoint(source)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection failed: say so, poll, try again later
                health.live_error = describe(exc)
            finally:
                # Close it now (not when the garbage collector gets to it): a source rewinds
                # what it yielded but could not be stored, and its connection is let go.
                await stream.aclose()
            failures += 1
            if health.live:
                health.live = False
                self._health_dirty.set()
            await asyncio.sleep(backoff_delay(failures, None, self.rng))

    async def _ingest(self, source: Source, items: list[Item], health: SourceHealth) -> int:
        """Admit and store `items`; returns how many were new."""
        now = self.clock()
        admitted = await asyncio.to_thread(self._admit, source, items, now)
        new = await self._store(admitted) if admitted else []
        if new and self.alerts is not None:
            self.alerts.stored(new)
        if new:
            health.new += len(new)
            health.last_success = now
            self._health_dirty.set()
            if self.on_new is not None:
                self.on_new(len(new))
        return len(new)

    async def _poll(self, source: Source, client: httpx.AsyncClient) -> tuple[int, float]:
        """One fetch of one source; returns (new mentions stored, seconds until the next poll)."""
        health = self.health[source.name]
        health.last_attempt = self.clock()
        try:
            items = await source.fetch(client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failing source must never stop the others
            return 0, self._failed(health, exc)
        now = self.clock()
        try:
            # In a thread: a feed of thousands of entries must not stall the desk's event loop.
            admitted = await asyncio.to_thread(self._admit, source, items, now) if items else []
            new = await self._store(admitted) if admitted else []
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Fetched but not stored (a full disk, a lock timeout): a source that remembers
            # what it fetched (an ETag) must fetch it all again next time, or it is lost.
            if isinstance(source, Checkpoints):
                source.rewind()
            return 0, self._failed(health, exc)
        await self._checkpoint(source)
        if new and self.alerts is not None:
            self.alerts.stored(new)
        # A source that fetched but could not follow everyone (sources.follows) is ok, and
        # says whom it missed.
        health.state, health.failures = "ok", 0
        health.last_error = clean_line(source.warning or "", MAX_ERROR)
        health.last_success = now
        health.fetched, health.new = len(items), len(new)
        health.rate_limited_until = None
        if new and self.on_new is not None:
            self.on_new(len(new))
        delay = source.interval
        pause = source.pause_s
        if pause:  # the platform's quota is spent: wait for its reset, and say so
            health.state = "rate-limited"
            health.rate_limited_until = now + timedelta(seconds=pause)
            delay = max(delay, pause)
        return len(new), delay

    def _admit(self, source: Source, items: list[Item], now: datetime) -> list[Mention]:
        # An answer taken is no mention; a tagged mail not taken is one (marked suspicious).
        items = [i for i in items if not (i.answers and self._take_answer(i, now))]
        return self.intake.admit_all(items, source.name, source.keyword_filter, now)

    def _take_answer(self, item: Item, now: datetime) -> bool:
        """An e-mail with a hand-off's subject tag: the expert's answer goes on the routed mention
        (as `a` does on the desk), once, when webcare.answers takes it. Anything else keeps
        coming in as an ordinary e-mail mention, marked suspicious with the reason: a forged
        answer never reaches a reply, and a real mail is never lost."""
        from webcare.answers import judge
        from webcare.routing import without_keys
        from webcare.triage import expert_answered
        from webcare.untrusted import clean_text

        book = self.store.handoffs
        senders = item.extra.get("from", [item.author])
        mention = self.store.get(item.answers)
        verdict = judge(item.answers, item.answer_key, senders, mention, book.of(item.answers), item.ref)
        if verdict.again:
            return True  # the answer taken before, read again: no second answer, no mention
        if verdict.taken:
            assert verdict.handoff is not None
            assert mention is not None  # judged: taken only for a mention the desk has
            change = expert_answered(mention, clean_text(item.text), now, by_email=True)  # expects routed, unanswered
            try:
                # The name is ours (the hand-off's), not the mail's: a display name is the sender's to choose.
                state = self.store.change(change, verdict.handoff.name, at=now)
            except KeyError:
                state = None
            if state is not None:
                try:
                    book.answered(item.answers, verdict.handoff.key, now, item.ref)
                except (StoreError, OSError):
                    pass  # the mention has its answer: that alone refuses the key from now on
                if self.alerts is not None:
                    self.alerts.answered(item.answers)
                return True
            verdict = type(verdict)(verdict.handoff, "the mention changed while the answer came in")
        item.suspicious = f"tag of mention {item.answers}: {verdict.reason}"
        item.addressed = True  # it answers our own mail: kept whatever the keyword filter
        # A key, right or guessed, is not kept or sent on: not in the mention's title, not in
        # the subject of a reply to whoever sent this.
        item.title = without_keys(item.title)
        if isinstance(item.reply_meta.get("subject"), str):
            item.reply_meta = {**item.reply_meta, "subject": without_keys(item.reply_meta["subject"])}
        return False

    def _resume(self) -> None:
        """Give each source the checkpoint it saved when the collector last ran."""
        self._scrubs = self.store.checkpoint_scrubs()
        for source in self.sources:
            self._resume_one(source)

    def _resume_one(self, source: Source) -> None:
        if not isinstance(source, Checkpoints):
            return
        state = self.store.read_checkpoint(source.name)
        if state is not None:
            try:
                source.resume(state)
            except Exception:  # a checkpoint it cannot use: it starts fresh, as on day one
                pass
            self._checkpoints[source.name] = state

    def _take_up_scrubbed(self) -> None:
        """An erasure rewrote the checkpoints (store/desk_files.py): what the sources hold in
        memory may still name the person, so every source goes on from its rewritten
        checkpoint. What that makes a source fetch again is known by id: nothing is stored twice."""
        self._scrubs = self.store.checkpoint_scrubs()
        for source in self.sources:
            self._resume_one(source)

    async def _checkpoint(self, source: Source) -> None:
        """Save where the source is, now that what it fetched is stored (only when it moved)."""
        if not isinstance(source, Checkpoints):
            return
        from store.jsonstorage import StoreError

        for _attempt in range(3):
            state = source.checkpoint()
            if state == self._checkpoints.get(source.name):
                return
            try:
                written = await asyncio.to_thread(
                    self.store.write_checkpoint, source.name, state, self._scrubs
                )
            except (OSError, StoreError):
                return  # a full disk, a lock timeout: the next fetch tries again
            if written:
                self._checkpoints[source.name] = state
                return
            await asyncio.to_thread(self._take_up_scrubbed)

    def _seed_refs(self) -> None:
        """Teach intake the refs of the newest stored mentions, so a reply that arrives after a
        restart still links to the post it answers; and give the sources their checkpoints."""
        if self._seeded:
            return
        self._seeded = True
        self._resume()
        for seg in self.store.segments()[-3:]:  # the stored records: three fields, no Mentions
            records = self.store.content_records(seg)
            self.intake.remember((r.get("channel", ""), r.get("ref") or "", r["id"]) for r in records)

    async def _store(self, mentions: list[Mention]) -> list[Mention]:
        """Store `mentions`; returns those that were new. Sources finishing while a write is
        under way are written together in the next one (a group commit): after a start or a
        wake-up, 200 feeds cost a few writes of the store, not 200."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((mentions, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="store writer")
        return await done

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                new = await asyncio.to_thread(self.store.add, [m for ms, _ in batch for m in ms])
            except asyncio.CancelledError:
                for _, done in [*batch, *self._pending]:
                    done.cancel()
                self._pending = []
                raise
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            new_ids = {m.id for m in new}
            for mentions, done in batch:
                mine = [m for m in mentions if m.id in new_ids]
                new_ids.difference_update(
                    m.id for m in mine
                )  # one mention, two feeds: the first has it
                if not done.done():
                    done.set_result(mine)

    def _failed(self, health: SourceHealth, exc: BaseException) -> float:
        """Record a failed poll; returns the seconds until the next attempt."""
        health.failures += 1
        health.last_error = describe(exc)
        retry_after = exc.retry_after if isinstance(exc, SourceError) else None
        health.state = "rate-limited" if retry_after is not None else "failing"
        delay = backoff_delay(health.failures, retry_after, self.rng)
        health.rate_limited_until = (
            self.clock() + timedelta(seconds=delay) if retry_after is not None else None
        )
        return delay

    def health_record(self) -> dict[str, Any]:
        now = self.clock()
        collector: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "name": self.collector,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "heartbeat_at": now.isoformat(timespec="seconds"),
        }
        if self.lease_error:
            collector["lease_error"] = self.lease_error
        return {
            "collector": collector,
            # The sources this collector collects (each says so); another's are its to report.
            "sources": {name: h.to_record() for name, h in self.health.items() if name in self.held},
            # Each alert target's state by its name (never its URL), for the header.
            **({"alerts": self.alerts.alerts.health()} if self.alerts is not None and self.alerts.alerts else {}),
        }

    async def _write_health_loop(self) -> None:
        """Write health when it changed (at most once a second) and a heartbeat every 30 s."""
        while True:
            try:
                await asyncio.wait_for(self._health_dirty.wait(), HEARTBEAT_EVERY)
            except TimeoutError:
                pass
            self._health_dirty.clear()
            try:
                await asyncio.to_thread(self.store.write_health, self.health_record())
            except OSError:
                pass  # a full disk shows up in the store's own writes; health is best effort
            await asyncio.sleep(1.0)
