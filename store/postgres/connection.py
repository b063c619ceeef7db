"""Connecting to the database [store] names: one connection, or a process's pool of them.

The password comes from the environment variable [store] password_env names, read when a
connection is made (a service sets it; it is never in config.toml, a URL or a message). Without
password_env, libpq's own ways apply (~/.pgpass, a client certificate, peer authentication on a
unix socket). Every connection says who it is (application_name: "webcare desk", "webcare
collector", "webcare check") so a database administrator sees which process holds what.

A database that cannot be reached raises DatabaseUnreachable with the place named
(user@host:port/database) and the server's or libpq's reason, never a password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from store.jsonstorage import StoreError
from store.postgres.schema import CURRENT, Step, migrate, version_of
from webcare.config import StoreSettings
from webcare.untrusted import clean_line

Connection = psycopg.Connection[tuple[Any, ...]]


class DatabaseUnreachable(StoreError):
    """No connection could be made: the server is down or away, or refused the login."""


def _arguments(settings: StoreSettings, application: str) -> dict[str, Any]:
    """libpq's arguments beside the URL: the password from the environment, a name, a timeout."""
    arguments: dict[str, Any] = {
        "application_name": f"webcare {application}"[:63],  # the server cuts longer names
        "connect_timeout": settings.connect_timeout,
    }
    if settings.password_env:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise DatabaseUnreachable(
                f"database unreachable: {settings.where}: [store] password_env: {settings.password_env} is not set"
            )
        arguments["password"] = password
    return arguments


def _reason(exc: BaseException, arguments: dict[str, Any]) -> str:
    """libpq's message on one line: cleaned (it quotes what the server said) and, should a
    password ever appear in it, without it."""
    text = str(exc)
    password = arguments.get("password")
    if password:
        text = text.replace(str(password), "…")
    return clean_line(text, 400) or type(exc).__name__


def connect(settings: StoreSettings, application: str) -> Connection:
    """One connection (autocommit off); DatabaseUnreachable when none can be made."""
    arguments = _arguments(settings, application)
    try:
        return psycopg.connect(settings.url, **arguments)
    except psycopg.Error as exc:
        raise DatabaseUnreachable(f"database unreachable: {settings.where}: {_reason(exc, arguments)}") from None


@dataclass(frozen=True, slots=True)
class Status:
    """What `webcare check` says of the database: reachable, and how its schema stands."""

    where: str
    version: int  # 0: empty, nothing created yet

    @property
    def current_version(self) -> int:
        """The version this webcare's steps lead to."""
        return CURRENT

    def describe(self) -> str:
        """"webcare@db:5432/webcare reachable, schema 1 (current)", and the others."""
        if self.version == CURRENT:
            state = f"schema {self.version} (current)"
        elif self.version == 0:
            state = f"empty (no webcare tables yet: opening it creates schema {CURRENT})"
        elif self.version < CURRENT:
            state = f"schema {self.version} (older: opening it migrates it to {CURRENT})"
        else:
            state = f"schema {self.version} (NEWER than this webcare knows, {CURRENT}: upgrade webcare here)"
        return f"{self.where} reachable, {state}"


def status(settings: StoreSettings) -> Status:
    """Connect, read the schema version, disconnect; creates and changes nothing."""
    with connect(settings, "check") as conn:
        try:
            return Status(settings.where, version_of(conn))
        except psycopg.Error as exc:
            raise DatabaseUnreachable(f"database unreachable: {settings.where}: {_reason(exc, {})}") from None


@dataclass
class Database:
    """A process's way to the database: a pool of connections, opened on a current schema."""

    settings: StoreSettings
    pool: ConnectionPool[Connection]
    migrated: list[Step]  # the steps this process applied when it opened the database

    def close(self) -> None:
        self.pool.close()


def open_database(settings: StoreSettings, application: str) -> Database:
    """Bring the schema up to date (see store.postgres.schema) and open the pool.

    One connection first, so an unreachable database or a refused login is said with libpq's
    reason (a pool would only time out); it migrates and is closed. The pool then keeps up to
    [store] pool connections, each checked before it is handed out, so a desk whose database
    failed over gets a fresh connection instead of a dead one."""
    with connect(settings, application) as conn:
        try:
            migrated = migrate(conn, settings.where)
        except psycopg.Error as exc:  # no right to create tables, a read-only replica, …
            raise StoreError(
                f"database {settings.where}: cannot bring the schema to version {CURRENT}: {_reason(exc, {})}"
            ) from None
    arguments = _arguments(settings, application)
    pool: ConnectionPool[Connection] = ConnectionPool(
        settings.url,
        kwargs=arguments,
        min_size=1,
        max_size=settings.pool,
        open=False,
        check=ConnectionPool.check_connection,
        name=f"webcare {application}",
        timeout=float(settings.connect_timeout),
    )
    try:
        pool.open(wait=True, timeout=float(settings.connect_timeout))
    except Exception as exc:  # PoolTimeout: the database went away between the two
        pool.close()
        raise DatabaseUnreachable(f"database unreachable: {settings.where}: {_reason(exc, arguments)}") from None
    return Database(settings, pool, migrated)
