"""Which collector collects which source, when several collectors share one database.

A row of `source_leases` (schema step 1) says that `holder` collects `source` until `expires`.
A collector renews its rows every SOURCE_RENEW seconds, each for SOURCE_LEASE seconds from
then; one that dies stops renewing, and once its rows expire another collector takes them.

Taking and renewing is one conditional UPSERT: a row is written only where it is free (no row),
already this collector's, or expired. Two collectors that take one source at the same moment
meet at its primary key: the second waits for the first's row, then finds it held and unexpired,
and writes nothing. So a source has one holder at a time, however many collectors race for it.

Every time is the database's (`now()`), never a collector's: collectors on servers whose
clocks differ agree on when a lease ends. What is held is said back by `RETURNING`, so a
collector learns what it holds from the same statement that took it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from store.jsonstorage import StoreError
from store.postgres.connection import _reason, connect
from webcare.store_port import SOURCE_LEASE

if TYPE_CHECKING:
    from store.postgres.connection import Connection, Database
    from webcare.config import StoreSettings

# Sorted names: collectors that take several sources at once lock their rows in one order, so
# they never wait for each other in a circle (a deadlock PostgreSQL would break with an error).
_HOLD = """
INSERT INTO source_leases AS lease (source, holder, expires)
SELECT name, %(me)s, now() + make_interval(secs => %(lease)s)
FROM unnest(%(names)s::text[]) AS name ORDER BY name
ON CONFLICT (source) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
WHERE lease.holder = excluded.holder OR lease.expires <= now()
RETURNING lease.source
"""

_FREE_IN = """
SELECT extract(epoch FROM min(expires) - now())::float8 FROM source_leases
WHERE source = ANY(%(names)s::text[]) AND holder <> %(me)s
"""


@dataclass(frozen=True, slots=True)
class Lease:
    source: str
    holder: str
    expires: datetime
    left: float  # seconds until it expires, by the database's clock (negative: expired)


class PostgresLeases:
    """One collector's leases (webcare.store_port.SourceLeases) in the database `database`."""

    def __init__(self, database: Database, collector: str, lease: float = SOURCE_LEASE) -> None:
        self.database = database
        self.collector = collector
        self.lease = lease  # seconds; the tests shorten it
        self.free_in: float | None = None

    def hold(self, names: Iterable[str], now: datetime) -> set[str]:
        """Renew this collector's leases on `names` and take those that are free or expired, in
        one transaction; the names it holds now. `now` is not used: the database's clock is."""
        wanted = sorted(set(names))
        if not wanted:
            self.free_in = None
            return set()
        arguments = {"me": self.collector, "names": wanted, "lease": self.lease}
        with self._transaction("not renewed") as cur:
            cur.execute(_HOLD, arguments)
            held = {row[0] for row in cur.fetchall()}
            cur.execute(_FREE_IN, arguments)
            row = cur.fetchone()
        left = row[0] if row else None
        self.free_in = None if left is None else max(0.0, float(left))
        return held

    def release(self) -> None:
        """Let go of every lease this collector holds (a clean stop): another collector takes
        them at its next look."""
        with self._transaction("not released") as cur:
            cur.execute("DELETE FROM source_leases WHERE holder = %s", (self.collector,))
        self.free_in = None

    @contextmanager
    def _transaction(self, what: str) -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        """A cursor in one transaction on a connection from the pool. A database that cannot be
        reached, or drops the connection meanwhile, is a StoreError that says so, never a crash:
        the poller keeps its sources until their leases would have run out, and tries again."""
        try:
            with self.database.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:  # PoolTimeout too: no connection came in time
            where = self.database.settings.where
            raise StoreError(
                f"database {where}: source leases of collector {self.collector} {what}: {_reason(exc, {})}"
            ) from None


def leases(conn: Connection) -> list[Lease]:
    """Every source's lease as the table holds it now (expired ones too), by source: who
    collects what, for `webcare check`. Reads only."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT source, holder, expires, extract(epoch FROM expires - now())::float8 "
            "FROM source_leases ORDER BY source"
        )
        return [Lease(source, holder, expires, float(left)) for source, holder, expires, left in cur.fetchall()]


def describe_leases(settings: StoreSettings, configured: list[str]) -> list[str]:
    """What `webcare check` says of the collectors: which collects which of the `configured`
    sources, and which no collector holds (none runs, or its lease ran out). Reads only."""
    try:
        with connect(settings, "check") as conn:
            found = leases(conn)
    except psycopg.Error as exc:
        raise StoreError(f"database {settings.where}: source leases not read: {_reason(exc, {})}") from None
    by_holder: dict[str, list[str]] = {}
    for lease in found:
        if lease.left > 0 and lease.source in configured:
            by_holder.setdefault(lease.holder, []).append(lease.source)
    lines = [f"collector {holder} collects {', '.join(sources)}" for holder, sources in sorted(by_holder.items())]
    held = {source for sources in by_holder.values() for source in sources}
    free = [name for name in configured if name not in held]
    if free:
        lines.append(f"no collector collects {', '.join(free)} (none runs, or its lease ran out)")
    return lines
