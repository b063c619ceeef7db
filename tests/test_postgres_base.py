"""The groundwork of the store on PostgreSQL, against a real server (tests/pgserver.py): the
[store] table, connecting, the versioned migrations, and what `webcare check` says."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # in CI the test extra is installed, and a missing one must fail
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install '.[test]'")

import psycopg  # noqa: E402

from store.jsonstorage import StoreError  # noqa: E402
from store.postgres.connection import DatabaseUnreachable, connect, open_database, status  # noqa: E402
from store.postgres.schema import CURRENT, MIGRATION_LOCK, STEPS, SchemaTooNew  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.pgserver import PASSWORD, PgDatabase, pg_database_fixture, pg_server_fixture  # noqa: E402, F401 (the fixtures)
from webcare.config import ConfigError, StoreSettings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def settings(db: PgDatabase, **changes: object) -> StoreSettings:
    values: dict[str, object] = {"url": db.url, "password_env": db.password_env, "pool": 2, "connect_timeout": 5}
    values.update(changes)
    return StoreSettings(**values)  # type: ignore[arg-type]


def webcare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "webcare.cli", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


# --- [store] in config.toml ----------------------------------------------------------------


def test_without_store_nothing_changes(make_config) -> None:
    assert make_config().store is None


def test_store_table_is_read(make_config) -> None:
    config = make_config(
        '[store]\nurl = "postgresql://webcare@db.example.org/webcare"\npassword_env = "WEBCARE_DB_PASSWORD"\n'
        'pool = 4\nconnect_timeout = "1m"\n'
    )
    assert config.store == StoreSettings("postgresql://webcare@db.example.org/webcare", "WEBCARE_DB_PASSWORD", 4, 60)
    assert config.store.where == "webcare@db.example.org/webcare"


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('url = "postgresql://webcare:s3cret@db/webcare"', "[store] url: holds a password"),
        ('url = "postgresql://webcare@db/webcare?sslmode=require&password=s3cret"', "[store] url: holds a password"),
        ('url = "postgresql://webcare@db/webcare"\npassword = "s3cret"', "[store] password: never in config.toml"),
        ('url = "mysql://webcare@db/webcare"', "[store] url: 'mysql://webcare@db/webcare' is not a postgresql:// URL"),
        ("password_env = \"X\"", "[store] url: missing"),
        ('url = "postgresql://webcare@db/webcare"\npassword_env = "not a name"', "[store] password_env:"),
        ('url = "postgresql://webcare@db/webcare"\npool = 0', "[store] pool: must be a whole number from 1 to 1000"),
        ('url = "postgresql://webcare@db/webcare"\nconnect_timeout = "forever"', "[store] connect_timeout:"),
        ('uri = "postgresql://webcare@db/webcare"', "[store] uri: unknown key (did you mean 'url'?)"),
    ],
)
def test_a_bad_store_table_is_refused_naming_the_key(make_config, table: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(f"[store]\n{table}\n")
    assert said in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_url_for_a_primary_and_its_replica_is_accepted(make_config) -> None:
    url = "postgresql://webcare@db1:5432,db2:5432/webcare?target_session_attrs=read-write"
    assert make_config(f'[store]\nurl = "{url}"\n').store.url == url


# --- connecting ----------------------------------------------------------------------------


def test_a_connection_says_which_webcare_it_is(pg_database: PgDatabase) -> None:
    with connect(settings(pg_database), "desk") as conn:
        row = conn.execute("SELECT current_setting('application_name'), current_user").fetchone()
    assert row == ("webcare desk", "webcare")
    with connect(settings(pg_database, url=pg_database.socket_url, password_env=""), "collector") as conn:
        row = conn.execute("SELECT current_setting('application_name'), current_database()").fetchone()
    assert row == ("webcare collector", pg_database.name)


def test_a_wrong_password_is_said_without_the_password(pg_database: PgDatabase, monkeypatch) -> None:
    monkeypatch.setenv(pg_database.password_env, "wrong-password-here")
    with pytest.raises(DatabaseUnreachable) as caught:
        connect(settings(pg_database), "desk")
    said = str(caught.value)
    assert said.startswith(f"database unreachable: webcare@127.0.0.1:{pg_database.server.port}/{pg_database.name}: ")
    assert "password authentication failed" in said
    assert "wrong-password-here" not in said and PASSWORD not in said


def test_a_password_variable_that_is_not_set_is_named(pg_database: PgDatabase, monkeypatch) -> None:
    monkeypatch.delenv(pg_database.password_env)
    with pytest.raises(DatabaseUnreachable, match=f"password_env: {pg_database.password_env} is not set"):
        connect(settings(pg_database), "desk")


def test_a_server_that_is_not_there_is_said_with_its_host(pg_database: PgDatabase) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://webcare@127.0.0.1:{port}/webcare"
    with pytest.raises(DatabaseUnreachable) as caught:
        open_database(settings(pg_database, url=url), "desk")
    assert str(caught.value).startswith(f"database unreachable: webcare@127.0.0.1:{port}/webcare: ")
    assert "refused" in str(caught.value)


# --- migrations ----------------------------------------------------------------------------


def tables(db: PgDatabase) -> set[str]:
    return set(db.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split())


def test_the_first_open_creates_the_schema_and_the_next_finds_it_current(pg_database: PgDatabase) -> None:
    assert status(settings(pg_database)).version == 0 and tables(pg_database) == set()
    first = open_database(settings(pg_database), "desk")
    first.close()
    assert [s.version for s in first.migrated] == [s.version for s in STEPS]
    expected = {"schema_version", "mentions", "states", "history", "plan_items", "drafts", "notes", "crisis_log",
                "handoffs", "presence", "checkpoints", "health", "alerts_sent", "alert_targets", "digests",
                "source_leases", "privacy_log", "privacy_secret", "change_log"}  # fmt: skip
    assert tables(pg_database) == expected
    second = open_database(settings(pg_database), "collector")
    with second.pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM mentions").fetchone() == (0,)
    second.close()
    assert second.migrated == []
    assert pg_database.psql("SELECT version, applied_by FROM schema_version ORDER BY version").splitlines() == [
        f"{s.version}|webcare" for s in STEPS
    ]
    assert status(settings(pg_database)).version == CURRENT


def test_two_processes_starting_at_once_migrate_once(pg_database: PgDatabase) -> None:
    """Both start while the migration lock is held elsewhere, so both are inside `migrate` at
    the same moment; when it is let go, one creates the schema and the other finds it done."""
    script = (
        "import sys; from store.postgres.connection import open_database; from webcare.config import StoreSettings\n"
        f"db = open_database(StoreSettings({pg_database.url!r}, {pg_database.password_env!r}, 2, 10), 'desk')\n"
        "print(len(db.migrated)); db.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with connect(settings(pg_database), "test") as holder:
        holder.autocommit = True
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        procs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        waiting = 0
        deadline = time.monotonic() + 30
        while waiting < 2 and time.monotonic() < deadline:
            row = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
            waiting = row[0] if row else 0
            time.sleep(0.05)
        assert waiting == 2, [p.communicate(timeout=5) for p in procs if p.poll() is not None]
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sorted(out.strip() for out, _ in results) == ["0", str(len(STEPS))]
    assert pg_database.psql("SELECT count(*) FROM schema_version") == str(len(STEPS))


def test_a_database_with_a_newer_schema_is_refused(pg_database: PgDatabase) -> None:
    open_database(settings(pg_database), "desk").close()
    pg_database.psql(f"INSERT INTO schema_version (version, what) VALUES ({CURRENT + 1}, 'from a newer webcare')")
    with pytest.raises(SchemaTooNew) as caught:
        open_database(settings(pg_database), "desk")
    assert f"schema {CURRENT + 1} is newer than this webcare knows ({CURRENT})" in str(caught.value)
    assert pg_database.psql("SELECT count(*) FROM schema_version") == str(len(STEPS) + 1)  # nothing undone


def test_a_state_change_for_a_version_already_taken_is_refused_by_the_schema(pg_database: PgDatabase) -> None:
    """The optimistic check holds in the database itself: history numbers a mention's changes,
    and a second change numbered like the first cannot be stored."""
    db = open_database(settings(pg_database), "desk")
    with db.pool.connection() as conn:
        conn.execute(
            "INSERT INTO mentions (id, source, channel, author, first_seen, content) "
            "VALUES ('m1', 'demo', 'x', '@an', now(), '{}')"
        )
        entry = "INSERT INTO history (mention_id, version, at, who, entry) VALUES ('m1', 1, now(), %s, '{}')"
        conn.execute(entry, ("an",))
        conn.commit()
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(entry, ("bert",))
        conn.rollback()
    db.close()


def test_a_role_that_may_not_create_tables_is_told_so(pg_database: PgDatabase) -> None:
    """The database is the superuser's, not the role's: since PostgreSQL 15 the role may not
    create tables in its public schema. Said, with nothing half made."""
    server = pg_database.server
    server.psql(f"CREATE DATABASE {pg_database.name}_theirs TEMPLATE template0")
    url = pg_database.url + "_theirs"
    with pytest.raises(StoreError) as caught:
        open_database(settings(pg_database, url=url), "desk")
    assert str(caught.value).startswith(f"database webcare@127.0.0.1:{server.port}/{pg_database.name}_theirs: cannot bring the schema to version {CURRENT}: ")
    assert "permission denied for schema public" in str(caught.value)
    assert server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", f"{pg_database.name}_theirs") == "0"


# --- webcare check -------------------------------------------------------------------------


def test_webcare_check_says_the_database_is_reachable_and_current(pg_database: PgDatabase, tmp_path: Path) -> None:
    config = write_config(tmp_path, pg_database.store_table())
    empty = webcare("check", "--config", str(config), cwd=tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert f"database: {pg_database.url.split('://')[1]} reachable, empty (no webcare tables yet: opening it creates schema {CURRENT})" in empty.stdout
    assert tables(pg_database) == set()  # the check created nothing

    open_database(settings(pg_database), "desk").close()
    current = webcare("check", "--config", str(config), cwd=tmp_path)
    assert current.returncode == 0, current.stderr
    assert f"database: webcare@127.0.0.1:{pg_database.server.port}/{pg_database.name} reachable, schema {CURRENT} (current)" in current.stdout

    pg_database.psql(f"INSERT INTO schema_version (version, what) VALUES ({CURRENT + 1}, 'newer')")
    newer = webcare("check", "--config", str(config), cwd=tmp_path)
    assert newer.returncode == 1
    assert f"schema {CURRENT + 1} (NEWER than this webcare knows, {CURRENT}: upgrade webcare here)" in newer.stderr


def test_webcare_check_says_an_unreachable_database_and_fails(pg_database: PgDatabase, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(pg_database.password_env, "not-the-password")
    config = write_config(tmp_path, pg_database.store_table())
    run = webcare("check", "--config", str(config), cwd=tmp_path)
    assert run.returncode == 1
    assert f"database unreachable: webcare@127.0.0.1:{pg_database.server.port}/{pg_database.name}: " in run.stderr
    assert "password authentication failed" in run.stderr and "not-the-password" not in run.stderr + run.stdout


def test_a_collector_with_store_collects_into_the_database(pg_database: PgDatabase, tmp_path: Path) -> None:
    """[store] chooses the store (store/open.py): the mentions go to the database, not data_dir."""
    config = write_config(tmp_path, '[[sources]]\ntype = "demo"\nname = "demo"\n' + pg_database.store_table())
    run = webcare("collect", "--once", "--config", str(config), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    stored = int(pg_database.psql("SELECT count(*) FROM mentions"))
    assert stored > 0 and f"{stored} new mentions stored in {pg_database.url.split('://')[1]}" in run.stdout
    assert not (tmp_path / "data" / "mentions").exists()
    again = webcare("collect", "--once", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0 and int(pg_database.psql("SELECT count(*) FROM mentions")) >= stored
