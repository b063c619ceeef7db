"""A real PostgreSQL for the tests: a throwaway server in a temporary folder, on loopback.

One server per test session (per xdist worker), started from Debian's `postgresql` package
(.ci/run installs it; the system cluster is never started or touched). Each test gets a fresh
database of its own (`CREATE DATABASE … TEMPLATE`), owned by the unprivileged role `webcare`
that logs in over TCP with a password, as a desk would; the superuser `postgres` reaches the
server only through the unix socket in the temporary folder (trust), for the set-up.

PostgreSQL refuses to run as root. When the tests run as root (CI does), the server runs as
the `postgres` account the package creates, in a folder that account owns.

Without a server binary the PostgreSQL tests skip with the reason, except when `CI` is set:
there they fail, so a missing install step never passes as green.

    from tests.pgserver import PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: F401

    def test_x(pg_database: PgDatabase) -> None:
        pg_database.url, pg_database.password_env  # for a [store] table
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLE = "webcare"  # what the desks log in as: owns its test database, no superuser
PASSWORD = "test-password-not-secret"
PASSWORD_ENV = "WEBCARE_TEST_DB_PASSWORD"
START_TIMEOUT = 30.0


def binaries() -> Path | None:
    """The folder holding initdb and postgres: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _unavailable(reason: str) -> None:
    """Fail in CI (the tests must run there), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway server: `databases()` hands out fresh databases."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes]
    bin: Path
    run_as: tuple[int, int] | None  # (uid, gid) when started from root
    _counter: itertools.count[int]

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the unix socket; the output, unaligned."""
        run = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.folder),
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if run.returncode:
            raise RuntimeError(f"psql: {run.stderr.strip()}")
        return run.stdout.strip()

    def new_database(self) -> PgDatabase:
        name = f"test_{os.getpid()}_{next(self._counter)}"
        # The template is empty (template0 as initdb left it): a test starts from nothing, as a
        # desk does on a new database. FILE_COPY: with fsync off it is the quicker of the two.
        self.psql(f"CREATE DATABASE {name} OWNER {ROLE} TEMPLATE template0 STRATEGY FILE_COPY")
        return PgDatabase(self, name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends the sessions, exits
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class PgDatabase:
    """One test's database on the server, and how a [store] table reaches it."""

    server: PgServer
    name: str
    role: str = ROLE
    password_env: str = PASSWORD_ENV

    @property
    def url(self) -> str:
        return f"postgresql://{self.role}@127.0.0.1:{self.server.port}/{self.name}"

    @property
    def socket_url(self) -> str:
        """The same database over the server's unix socket, where logins need no password: for
        child processes started with a bare environment (no password variable)."""
        return f"postgresql://{self.role}@/{self.name}?host={self.server.folder}&port={self.server.port}"

    def store_table(self, **extra: object) -> str:
        """The [store] table of a config.toml for this database."""
        lines = ["[store]", f'url = "{self.url}"', f'password_env = "{self.password_env}"']
        lines += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in extra.items()]
        return "\n".join(lines) + "\n"

    def psql(self, sql: str) -> str:
        return self.server.psql(sql, self.name)


def start_server(durable: bool = False) -> PgServer:
    """initdb and start a server in a new temporary folder; fails or skips with the reason.

    The tests' server does not wait for the disk (fsync, synchronous_commit and full page
    writes off: nothing in it needs to outlive a crash). `durable` keeps PostgreSQL's own
    settings, as a production server has them: the benchmarks (benchmarks/bench_store.py,
    bench_desk.py) measure with it, beside a TinyDB store that fsyncs every write."""
    bin_dir = binaries()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        _unavailable("no PostgreSQL server binaries (initdb, postgres): apt-get install postgresql")
        raise AssertionError  # not reached
    run_as: tuple[int, int] | None = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' account to run the server as")
            raise AssertionError from None
        run_as = (account.pw_uid, account.pw_gid)
    # Not under pytest's tmp_path: that is root's own (0700), which the postgres account cannot enter.
    folder = Path(tempfile.mkdtemp(prefix="webcare-pg-"))
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if run_as:
        os.chown(folder, *run_as)
        os.chown(pwfile, *run_as)
    user = {"user": run_as[0], "group": run_as[1], "extra_groups": []} if run_as else {}
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    env.pop("PGDATA", None)
    init = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync", "--pwfile", str(pwfile)],
        capture_output=True, text=True, timeout=120, env=env, cwd=folder, **user,
    )  # fmt: skip
    if init.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr.strip()[-2000:]}", pytrace=False)
    last_error = ""
    for _attempt in range(3):  # a free port can be taken by someone else before the server binds it
        port = _free_port()
        log = open(folder / "server.log", "ab")  # noqa: SIM115 (the server writes to it until it stops)
        process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(folder),
             *([] if durable else ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
             "-c", "max_connections=100", "-c", "shared_buffers=32MB", "-c", "logging_collector=off"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder, **user,
        )  # fmt: skip
        log.close()
        server = PgServer(folder, port, process, bin_dir, run_as, itertools.count(1))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-q", "-h", str(folder), "-p", str(port), "-U", "postgres"],
                capture_output=True, timeout=10,
            )
            if ready.returncode == 0:
                server.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
                return server
            time.sleep(0.1)
        last_error = (folder / "server.log").read_text(errors="replace")[-2000:]
        if process.poll() is None:
            process.kill()
            process.wait()
    shutil.rmtree(folder, ignore_errors=True)
    pytest.fail(f"PostgreSQL did not start: {last_error}", pytrace=False)
    raise AssertionError  # not reached


@pytest.fixture(scope="session", name="pg_server")
def pg_server_fixture() -> Iterator[PgServer]:
    """One server for the whole session (of this xdist worker)."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="pg_database")
def pg_database_fixture(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> PgDatabase:
    """A fresh, empty database for one test; the role's password in $WEBCARE_TEST_DB_PASSWORD."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return pg_server.new_database()
