"""How the desk feels to the person on duty, measured on real processes in a real terminal.

    python benchmarks/bench_desk.py           about 3 minutes
    python benchmarks/bench_desk.py --quick   about 2 minutes (10,000 mentions, fewer runs, a 20 s idle window)
    python benchmarks/bench_desk.py --store postgresql --mentions 1000000   about 10 minutes

--store postgresql runs the same measures on a desk whose [store] is a throwaway PostgreSQL
server (bench_store.start_postgres: tests/pgserver.py's, durable settings), filled with COPY
(the schema made by the desk's own code first); --mentions sets the big store's size (default
100,000; --quick 10,000 unless given).

Prints figures, asserts nothing. Each figure stands beside its goal and, where there is one,
beside a reference measured in the same run:

1. Start-up: from launch to the first frame that shows the stream, with 100,000 stored mentions (--mentions),
   beside a bare Textual app with a Header, a DataTable of 40 rows and a Footer (goal ≤ 2× the bare app); and the
   desk's peak memory after start-up (VmHWM; goal ≤ 300 MB).
2. A key press (j) to its repaint on the terminal, with 1,000 and with 100,000 (--mentions) stored
   mentions (goal ≤ 50 ms, and no slower at 100,000 than at 1,000).
3. Idle with 40 countdowns on screen: the desk's CPU (goal ≤ 1 % of one core) and the bytes it
   writes to the terminal (goal ≤ 300 B/s), over a window that holds a minute boundary.

Every process runs `python -m webcare.cli --config X` (or the bare app) on its own pseudo-
terminal; the benchmark plays the terminal: it reads what the process writes and types keys.
The configs have no [[sources]], so nothing is collected while measuring.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402
from bench_store import open_store, realistic_mention, start_postgres  # noqa: E402  (shared with the store's benchmark)

from store.store import Store  # noqa: E402
from webcare.config import DEFAULT_NORMS, StoreSettings  # noqa: E402
from webcare.mention import Mention, stable_id  # noqa: E402
from webcare.norms import parse_duration  # noqa: E402
from webcare.queue import MentionQueue  # noqa: E402

SIZE = (120, 40)  # columns, rows: wide enough for the detail pane beside the stream
IDLE_SIZE = (120, 50)  # tall enough for all 40 countdowns
QUIET = 0.05  # s without output that ends a repaint
CLK_TCK = os.sysconf("SC_CLK_TCK")
PYCACHE = os.path.join(tempfile.gettempdir(), "webcare-bench-pycache")  # see Terminal

BARE_APP = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("author", "text")
        table.add_rows([(f"bare_handle_{i}", f"a few words of text, row {i}") for i in range(40)])

Bare().run()
"""

# Where the desk's start-up goes, in one fresh interpreter: what `webcare` imports before it
# reads the store (and opening the store: the files, or the database's pool), then the two
# steps of WebcareApp.__init__ that grow with the store, then what the queue leaves until after
# the first frame (its whole order: MentionQueue.complete).
STARTUP_PROBE = """
import gc, sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[2])
import sources.registry, tui.app  # noqa: F401  (as cmd_desk does; the poller and httpx come after the first paint)
from pathlib import Path
from store.open import open_store
from webcare.config import load
from webcare.queue import MentionQueue
store = open_store(load(Path(sys.argv[1])), "desk")
imported = time.perf_counter()
gc.disable()  # as tui.app._load_queue does
rows = store.rows()
loaded = time.perf_counter()
queue = MentionQueue(rows=rows, fetch=store.mentions)
queue[0]
queued = time.perf_counter()
queue.complete()
completed = time.perf_counter()
print((imported - start) * 1000, (loaded - imported) * 1000, (queued - loaded) * 1000, (completed - queued) * 1000)
"""

# --- the stores ------------------------------------------------------------------------


def desk_mention(rng: random.Random, n: int, seen: datetime, prefix: str) -> Mention:
    """A realistic mention (bench_store's) first seen at `seen`, with the deadline its channel's
    default norm gives."""
    m = realistic_mention(rng, n, prefix)
    allowed = parse_duration(DEFAULT_NORMS[m.channel])
    return m.replaced(
        first_seen_at=seen,
        published_at=seen - timedelta(minutes=rng.randrange(30)),
        deadline=None if allowed is None else seen + allowed,
        norm_s=None if allowed is None else int(allowed.total_seconds()),
    )


def build_store(data_dir: Path, count: int, now: datetime, seed: int) -> str:
    """A store of `count` mentions that arrived over the last ten hours and are all still "new"
    (so there are no state files): with 2, 4 and 8 hour norms and news without one, a mix of
    overdue, due soon, on time and no deadline. Added through Store.add in batches of 10,000, in
    arrival order as a collector would; returns the author shown on the stream's first row."""
    rng = random.Random(seed)
    store = Store(data_dir)
    made: list[Mention] = []
    step = 10 * 3600 / count
    for start in range(0, count, 10_000):
        batch = [
            desk_mention(rng, n, now - timedelta(hours=10) + timedelta(seconds=n * step), f"desk{count}")
            for n in range(start, min(count, start + 10_000))
        ]
        store.add(batch)
        made += batch
    return MentionQueue(made)[0].author


def build_idle_store(kind: str, place: str, now: datetime) -> str:
    """40 owed mentions on X with deadlines from 30 minutes ago to 6½ hours ahead: 40 countdowns."""
    rng = random.Random(40)
    made = []
    for n in range(40):
        m = realistic_mention(rng, n, "idle")
        deadline = now + timedelta(minutes=-30 + 10 * n)
        made.append(m.replaced(channel="x", source="demo-x", first_seen_at=deadline - timedelta(hours=2),
                                        published_at=deadline - timedelta(hours=2), deadline=deadline, norm_s=7200))
    store = open_store(kind, place)
    try:
        store.add(made)
    finally:
        store.close()
    return MentionQueue(made)[0].author


COPY_SQL = (
    "COPY mentions (id, source, channel, author, first_seen, deadline, norm, reach, priority, parent, content) FROM STDIN"
)


def fill_postgres(url: str, count: int, now: datetime, seed: int, prefix: str) -> None:
    """A database of `count` mentions like build_store's (all new, arrived over the last ten
    hours), written with COPY in blocks of 50,000: a million through add() would take longer
    than the benchmark. The schema is made by the desk's own code (open_database) first; the
    records are 2,000 realistic ones (desk_mention) varied in id, author and times, because
    making a million from scratch takes minutes of Python."""
    from store.postgres.connection import connect, open_database

    settings = StoreSettings(url, pool=1)
    open_database(settings, "bench").close()
    rng = random.Random(seed)
    templates = [desk_mention(rng, n, now, prefix).content_record() for n in range(min(count, 2000))]
    step = 10 * 3600 / count
    begin = now - timedelta(hours=10)
    with connect(settings, "bench") as conn:
        for start in range(0, count, 50_000):
            with conn.cursor().copy(COPY_SQL) as copy:
                for n in range(start, min(count, start + 50_000)):
                    record = dict(templates[n % len(templates)])
                    seen = begin + timedelta(seconds=n * step)
                    norm = record["norm_s"]
                    deadline = None if norm is None else (seen + timedelta(seconds=norm)).isoformat()
                    mention_id = stable_id(prefix, str(n))
                    record.update(
                        id=mention_id, url=f"https://{record['channel']}.example/p/{mention_id}",
                        author=f"user_{(n * 7919) % 50_000}", first_seen_at=seen.isoformat(),
                        published_at=(seen - timedelta(minutes=n % 30)).isoformat(), deadline=deadline,
                    )  # fmt: skip
                    copy.write_row((
                        mention_id, record["source"], record["channel"], record["author"], record["first_seen_at"],
                        deadline, norm, record["reach"], "normal", None, orjson.dumps(record).decode(),
                    ))  # fmt: skip
            conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE mentions")  # as autovacuum would have by the time a desk starts


def first_author(config: Path) -> str:
    """The author on the stream's first row, as the desk will show it (its own way there)."""
    from store.open import open_store
    from webcare.config import load

    store = open_store(load(config), "desk")
    try:
        rows = store.rows()
        return MentionQueue(rows=rows, fetch=store.mentions)[0].author
    finally:
        store.close()


def write_config(folder: Path, data_dir: Path, store_url: str | None = None) -> Path:
    path = folder / "config.toml"
    store = f'\n[store]\nurl = "{store_url}"\n' if store_url else ""
    path.write_text(textwrap.dedent(f"""
        [desk]
        name = "Benchdesk"
        language = "nl"
        timezone = "Europe/Brussels"
        data_dir = "{data_dir}"
        operator = "bench"

        [watch]
        keywords = ["VLM"]
    """) + store, encoding="utf-8")  # no [[sources]]: nothing is collected while measuring
    return path


# --- a terminal --------------------------------------------------------------------------


class Terminal:
    """A process on a pseudo-terminal of its own; we read what it writes and type keys."""

    def __init__(self, argv: list[str], size: tuple[int, int]) -> None:
        master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
        # The warm-up run leaves .pyc files, as an installed webcare (and Textual) has them:
        # with PYTHONDONTWRITEBYTECODE set (as in some shells and CI) every start would compile
        # the desk's own modules again (~100 ms) while the bare app's Textual is compiled
        # already. They go to a folder of the benchmark's own, not into the checkout.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True)
        os.close(slave)
        self.master = master
        self.total = 0  # bytes read so far
        self.tail = b""  # what was read last (for error messages)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read(self, timeout: float) -> bytes | None:
        """What the process wrote within `timeout` seconds: b"" if nothing, None at its end."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return b""
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # EIO: the other side is closed
            return None
        if not data:
            return None
        self.total += len(data)
        self.tail = (self.tail + data)[-2000:]
        return data

    def wait_for(self, needle: bytes, timeout: float = 120.0) -> float:
        """Seconds from launch until `needle` appeared in the output."""
        deadline = time.perf_counter() + timeout
        window = b""
        while time.perf_counter() < deadline:
            data = self.read(deadline - time.perf_counter())
            if data is None:
                raise RuntimeError(f"the process ended before showing {needle!r}: {self.tail[-800:]!r}")
            window = window[-len(needle):] + data
            if needle in window:
                return time.perf_counter() - self.started
        raise RuntimeError(f"{needle!r} did not appear within {timeout:.0f} s: {self.tail[-800:]!r}")

    def settle(self, quiet: float = 0.5, limit: float = 10.0) -> None:
        """Read until the process has written nothing for `quiet` seconds."""
        end = time.perf_counter() + limit
        while time.perf_counter() < end:
            data = self.read(quiet)
            if not data:
                return

    def press(self, key: bytes, quiet: float = QUIET, limit: float = 2.0) -> tuple[float | None, int]:
        """Type `key`; returns (seconds until the last byte of the repaint, bytes of it).
        The repaint ends when nothing more arrives for `quiet` seconds; that wait is not counted."""
        os.write(self.master, key)
        sent = time.perf_counter()
        last, count = None, 0
        end = sent + limit
        while (left := end - time.perf_counter()) > 0:
            data = self.read(left if last is None else quiet)  # the first byte may take a while
            if not data:
                break
            last, count = time.perf_counter(), count + len(data)
        return (None if last is None else last - sent), count

    def count_bytes(self, seconds: float) -> int:
        """Bytes written to the terminal in the next `seconds`."""
        start, end = self.total, time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            if self.read(left) is None:
                break
        return self.total - start

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def status_kb(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self.master, b"q")
                end = time.perf_counter() + 5
                while self.proc.poll() is None and time.perf_counter() < end:
                    if self.read(0.05) is None:
                        break
            except OSError:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)


def desk(config: Path, size: tuple[int, int] = SIZE) -> Terminal:
    return Terminal([sys.executable, "-m", "webcare.cli", "--config", str(config)], size)


def bare() -> Terminal:
    return Terminal([sys.executable, "-c", BARE_APP], SIZE)


# --- reporting ---------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


# --- the measures ------------------------------------------------------------------------


def measure_startup(config: Path, handle: str, runs: int, count: int) -> None:
    print(f"\n1. Start-up to the first painted stream ({SIZE[0]}×{SIZE[1]} terminal, median of {runs} runs after one warm-up)")
    bare_times, desk_times, peaks, bare_cpu, desk_cpu = [], [], [], [], []
    for i in range(runs + 1):
        for which in ("bare", "desk"):
            term = bare() if which == "bare" else desk(config)
            try:
                took = term.wait_for(b"bare_handle_1" if which == "bare" else handle.encode())
                cpu = term.cpu_seconds()  # on a shared machine, steadier than the wall clock
                if which == "desk":
                    term.settle(0.5)
                    peak = term.status_kb("VmHWM") / 1024
            finally:
                term.close()
            if i == 0:
                continue  # warm-up: file caches, .pyc files
            if which == "bare":
                bare_times.append(took * 1000)
                bare_cpu.append(cpu * 1000)
            else:
                desk_times.append(took * 1000)
                desk_cpu.append(cpu * 1000)
                peaks.append(peak)
    b, d = statistics.median(bare_times), statistics.median(desk_times)
    print(f"   bare app: Header, 40-row table, Footer  median {b:7.0f} ms   (runs: {', '.join(f'{t:.0f}' for t in bare_times)})")
    print(f"   desk, {count:>9,} stored mentions       median {d:7.0f} ms   (runs: {', '.join(f'{t:.0f}' for t in desk_times)})")
    print(f"   desk / bare                             {d / b:7.2f}×     goal ≤ 2×: {verdict(d <= 2 * b)}")
    bc, dc = statistics.median(bare_cpu), statistics.median(desk_cpu)
    print(f"   CPU used by the first frame (medians)   bare {bc:.0f} ms, desk {dc:.0f} ms: {dc / bc:.2f}×")
    peak = max(peaks)
    print(f"   desk peak memory after start-up (VmHWM) {peak:7.0f} MB    goal ≤ 300 MB: {verdict(peak <= 300)}")
    argv = [sys.executable, "-c", STARTUP_PROBE, str(config), str(ROOT)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": PYCACHE}
    probes = [[float(x) for x in subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout.split()] for _ in range(3)]
    imports, load, queue, complete = (statistics.median(column) for column in zip(*probes, strict=True))
    print(
        f"   where the desk's time goes (in-process probe, median of 3): interpreter, imports and opening the store {imports:.0f} ms, "
        f"rows() {load:.0f} ms, MentionQueue and its first row {queue:.0f} ms; then Textual starts and paints; "
        f"after the first frame, the queue's whole order {complete:.0f} ms"
    )


def measure_keys(configs: dict[str, tuple[Path, str]], presses: int) -> None:
    print(f"\n2. Key press (j) to repaint, {presses} presses, time to the repaint's last byte")
    medians = {}
    for label, (config, handle) in configs.items():
        term = desk(config)
        try:
            term.wait_for(handle.encode())
            term.settle(0.5)
            times, sizes, lost = [], [], 0
            for _ in range(presses):
                took, count = term.press(b"j")
                if took is None:
                    lost += 1
                else:
                    times.append(took * 1000)
                    sizes.append(count)
                time.sleep(0.02)
        finally:
            term.close()
        medians[label] = statistics.median(times)
        worst = p95(times)
        extra = f", {lost} without repaint" if lost else ""
        print(
            f"   {label:<22} median {medians[label]:6.1f} ms   p95 {worst:6.1f} ms   max {max(times):6.1f} ms   "
            f"~{statistics.median(sizes):,.0f} B per repaint{extra}   goal ≤ 50 ms: {verdict(worst <= 50)}"
        )
    small, big = medians.values()
    print(f"   {list(medians)[1].split()[0]} / 1,000 (medians){'':<18}{big / small:5.2f}×     goal: no slower (≲ 1.2×): {verdict(big <= 1.2 * small)}")


def measure_idle(config: Path, handle: str, seconds: float) -> None:
    print(f"\n3. Idle with 40 countdowns on screen ({IDLE_SIZE[0]}×{IDLE_SIZE[1]} terminal), {seconds:.0f} s holding a minute boundary")
    term = desk(config, IDLE_SIZE)
    try:
        term.wait_for(handle.encode())
        term.settle(1.0)
        # Start so that a minute boundary falls inside the window (with 60 s it always does).
        to_boundary = 60 - time.time() % 60
        if to_boundary > seconds - 3:
            term.count_bytes(to_boundary - seconds / 2)
        cpu0, wall0 = term.cpu_seconds(), time.perf_counter()
        written = term.count_bytes(seconds)
        cpu, wall = term.cpu_seconds() - cpu0, time.perf_counter() - wall0
    finally:
        term.close()
    share = 100 * cpu / wall
    print(f"   CPU of the desk process                 {share:6.2f} % of one core ({cpu:.2f} s in {wall:.0f} s)   goal ≤ 1 %: {verdict(share <= 1)}")
    print(f"   written to the terminal                 {written / wall:6.1f} B/s ({written:,} B)                goal ≤ 300 B/s: {verdict(written / wall <= 300)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and a 20 s idle window")
    parser.add_argument("--store", choices=("tinydb", "postgresql"), default="tinydb", help="the desk's store (default tinydb)")
    parser.add_argument("--mentions", type=int, help="mentions in the big store (default 100,000; --quick 10,000)")
    args = parser.parse_args()
    runs, presses, idle = (3, 30, 20.0) if args.quick else (5, 50, 60.0)
    big = args.mentions or (10_000 if args.quick else 100_000)
    print(
        f"webcare desk benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, temp dir {tempfile.gettempdir()}, "
        f"store: {args.store}"
    )
    now = datetime.now(UTC)
    server = start_postgres() if args.store == "postgresql" else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-desk-") as tmp_name:
            tmp = Path(tmp_name)
            stores = {}
            for label, count in (("big", big), ("small", 1_000)):
                folder = tmp / label
                folder.mkdir()
                start = time.perf_counter()
                if server is None:
                    handle = build_store(folder / "data", count, now, seed=count)
                    size = sum(p.stat().st_size for p in (folder / "data" / "mentions").glob("*.json")) / 1e6
                    config = write_config(folder, folder / "data")
                else:
                    database = server.new_database()
                    fill_postgres(database.socket_url, count, now, count, f"desk{count}")
                    size = int(database.psql("SELECT pg_database_size(current_database())")) / 1e6
                    config = write_config(folder, folder / "data", database.socket_url)
                    handle = first_author(config)
                stores[label] = (config, handle)
                print(f"   built a store of {count:,} new mentions ({size:.0f} MB) in {time.perf_counter() - start:.1f} s")
            folder = tmp / "idle"
            folder.mkdir()
            if server is None:
                idle_handle = build_idle_store("tinydb", str(folder / "data"), now)
                idle_config = write_config(folder, folder / "data")
            else:
                url = server.new_database().socket_url
                idle_handle = build_idle_store("postgresql", url, now)
                idle_config = write_config(folder, folder / "data", url)

            measure_startup(*stores["big"], runs, big)
            measure_keys({"1,000 mentions": stores["small"], f"{big:,} mentions": stores["big"]}, presses)
            measure_idle(idle_config, idle_handle, idle)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
