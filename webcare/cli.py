"""The command line, and the composition root: the one place that wires the domain (webcare)
to its adapters (sources, store, tui).

    webcare [--config PATH] [--open ID]      the desk (on the mention an alert named)
    webcare collect [--config PATH] [--once] the headless collector
    webcare export [--config PATH] mentions --format jsonl|csv
    webcare export [--config PATH] plan --format ics|jsonl|csv
    webcare import [--config PATH] plan FILE.csv   all rows or none (exit 2, every bad row named)
    webcare check [--config PATH]            validate the configuration (exit 2 on error); name
                                             damaged files, failed housekeeping and an
                                             unreachable [store] database (exit 1)
    webcare restore [--config PATH] [--from ARCHIVE] [--force] [FILE ...]
                                             put files (or everything) back from a backup
    webcare serve [--config PATH] [--max-desks N] [--token-env NAME]   the desk in a browser
    webcare --version
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from webcare import __version__
from webcare.config import Config, ConfigError, check_holidays, load, store_settings
from webcare.mention import Mention
from webcare.planning import CSV_COLUMNS as PLAN_CSV_COLUMNS
from webcare.untrusted import CleanFormatter

if TYPE_CHECKING:  # the adapters load lazily, after the desk's first paint
    from sources.alerts import AlertWatch
    from sources.poller import Poller
    from sources.source import Source
    from store import Store
    from store.postgres.connection import Database
    from webcare.report import Report

EXIT_CONFIG = 2
EXIT_FAILURE = 1


@contextmanager
def _output(path: str | None, newline: str | None = "") -> Iterator[TextIO]:
    """The file named by -o, else standard output (left open)."""
    if not path:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline=newline) as out:
        yield out


def find_config(given: str | None) -> Path:
    """--config, else $WEBCARE_CONFIG, else ./config.toml, else the user config directory."""
    if given:
        return Path(given).expanduser()
    if os.environ.get("WEBCARE_CONFIG"):
        return Path(os.environ["WEBCARE_CONFIG"]).expanduser()
    local = Path("config.toml")
    if local.exists():
        return local.resolve()
    from platformdirs import user_config_path

    user = user_config_path("webcare") / "config.toml"
    if user.exists():
        return user
    raise ConfigError(
        f"no config.toml found (looked in {Path.cwd()} and {user.parent}); pass --config PATH or set WEBCARE_CONFIG"
    )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="config.toml to use"
    )
    parser = argparse.ArgumentParser(
        prog="webcare",
        description="A terminal desk for government webcare teams.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"webcare {__version__}")
    parser.add_argument("--open", metavar="ID", dest="open_id", help="start the desk on this mention (the short id an alert names)")
    sub = parser.add_subparsers(dest="command")
    collect = sub.add_parser("collect", parents=[common], help="run the headless collector")
    collect.add_argument("--once", action="store_true", help="poll every source once, then exit")
    export = sub.add_parser("export", parents=[common], help="export data")
    export.add_argument("what", choices=["mentions", "plan"])
    export.add_argument(
        "--format",
        choices=["jsonl", "csv", "ics"],
        default="jsonl",
        help="mentions: jsonl or csv; plan: ics (iCalendar), jsonl or csv",
    )
    export.add_argument(
        "--output", "-o", metavar="FILE", help="write here instead of standard output"
    )
    export.add_argument("--author", metavar="AUTHOR", help="only this person's mentions (an access request; logged)")
    importing = sub.add_parser("import", parents=[common], help="import data")
    importing.add_argument("what", choices=["plan"])
    importing.add_argument(
        "file", metavar="FILE.csv", help="columns: " + ", ".join(PLAN_CSV_COLUMNS)
    )
    sub.add_parser("check", parents=[common], help="validate the configuration")
    forget = sub.add_parser("forget", parents=[common], help="erase a person's data on request (logged)")
    forget.add_argument("author", metavar="AUTHOR", help="handle or e-mail address, as the mentions show it")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser("housekeeping", parents=[common], help="anonymise past the retention period and back up, now")
    restore = sub.add_parser(
        "restore", parents=[common], help="put damaged files (or the whole data directory) back from a backup"
    )
    restore.add_argument(
        "files", nargs="*", metavar="FILE", help="paths in the data directory, e.g. mentions/000003.json (none: everything)"
    )
    restore.add_argument("--from", dest="archive", metavar="ARCHIVE", help="the backup to use (default: the newest that holds the files)")
    restore.add_argument("--force", action="store_true", help="restore even while a collector runs")
    restore.add_argument(
        "--dismiss", action="store_true", help="restore nothing: mark the quarantined FILEs as dealt with (the header stops naming them)"
    )
    move = sub.add_parser(
        "migrate", parents=[common], help="copy the desk's data into an empty PostgreSQL database or data directory, and verify it"
    )
    move.add_argument("--to", required=True, metavar="URL|DIR", help="postgresql://user@host/database (no password), or a new folder")
    move.add_argument(
        "--password-env", metavar="NAME", default="", help="the environment variable holding the database's password (never on the command line)"
    )
    move.add_argument("--force", action="store_true", help="copy even while a collector runs on the source")
    report = sub.add_parser("report", parents=[common], help="figures for management")
    report.add_argument("--from", dest="start", metavar="DATE", help="first day, YYYY-MM-DD (default: 6 days before --to)")
    report.add_argument("--to", dest="end", metavar="DATE", help="last day, YYYY-MM-DD (default: today)")
    report.add_argument("--format", choices=["md", "html", "csv", "json"], default="md")
    report.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    handover = sub.add_parser("handover", parents=[common], help="what this shift leaves the next")
    handover.add_argument("--since", metavar="TIME", help="HH:MM or YYYY-MM-DDTHH:MM (default: the start of the current shift)")
    handover.add_argument("--note", metavar="TEXT", help="leave a note for the next shift (and print the handover)")
    handover.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    serve = sub.add_parser("serve", parents=[common], help="the desk in a browser, behind a token (loopback by default)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: reach it through an SSH tunnel); any other "
        "address serves the desk and its token in plain HTTP",
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--public-url", metavar="URL", help="the address browsers use, behind a reverse proxy (e.g. https://desk.example.org)")
    serve.add_argument("--max-desks", type=int, default=4, metavar="N", help="desks open in browsers at once (default 4; each is a process)")
    serve.add_argument(
        "--token-env",
        metavar="NAME",
        help="take the token from this environment variable (for a service) instead of making a "
        "new one at each start; never put the token itself on the command line",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Warnings from the sources (no logging is configured otherwise) go to standard error
    # through logging's last-resort handler: cleaned of escape codes like all outside text.
    if logging.lastResort is not None:
        logging.lastResort.setFormatter(CleanFormatter())
    try:
        config = load(find_config(getattr(args, "config", None)))
        if args.command in (None, "check", "serve"):  # the commands that run a terminal desk
            _check_keys(config)
        _private(config, fix=args.command != "check")
        if args.command == "check":
            return cmd_check(config)
        if config.store is not None and (
            args.command in ("forget", "housekeeping", "restore", "report")
            or (args.command == "export" and args.what == "mentions" and args.author is not None and args.format != "ics")
        ):
            return cmd_on_database(config, args)
        if args.command == "migrate":
            return cmd_migrate(config, args.to, args.password_env, args.force)
        if args.command == "collect":
            return cmd_collect(config, once=args.once)
        if args.command == "export":
            if args.what == "plan":
                return cmd_export_plan(config, args.format, args.output)
            if args.format == "ics":
                print(
                    "webcare export mentions: --format is jsonl or csv (ics is for the plan)",
                    file=sys.stderr,
                )
                return EXIT_CONFIG
            return cmd_export(config, args.format, args.output, args.author)
        if args.command == "import":
            return cmd_import_plan(config, Path(args.file))
        if args.command == "forget":
            return cmd_forget(config, args.author, args.yes)
        if args.command == "housekeeping":
            return cmd_housekeeping(config)
        if args.command == "restore":
            return cmd_restore(config, args.files, args.archive, args.force, args.dismiss)
        if args.command == "report":
            return cmd_report(config, args.start, args.end, args.format, args.output)
        if args.command == "handover":
            return cmd_handover(config, args.since, args.note, args.output)
        if args.command == "serve":
            from tui.serve import serve

            return serve(
                config.path,
                host=args.host,
                port=args.port,
                public_url=args.public_url,
                max_desks=args.max_desks,
                token_env=args.token_env,
            )
        return cmd_desk(served_operator(config), getattr(args, "open_id", None))
    except ConfigError as exc:
        print(f"webcare: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from store.jsonstorage import StoreError

        if isinstance(exc, StoreError | OSError):
            print(f"webcare: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        raise


def served_operator(config: Config) -> Config:
    """A desk that `webcare serve` started for a browser acts as the name its user gave there
    (in WEBCARE_OPERATOR), whatever [desk] operator and initials say: one config.toml serves
    every colleague who uses the browser desk."""
    if os.environ.get("WEBCARE_SERVED") != "1":
        return config
    from dataclasses import replace

    from webcare.config import initials_of
    from webcare.untrusted import clean_line

    name = clean_line(os.environ.get("WEBCARE_OPERATOR", ""), 40)
    if not name:
        return config
    return replace(config, operator=name, initials=initials_of(name))


def _private(config: Config, fix: bool) -> None:
    """Before anything is written: every file and folder this process makes (the desk, every
    command, the browser desks `serve` starts) is private to the account, or shared with
    [desk] group only, whatever umask the process was started with. Unless `fix` is false
    (`webcare check` only reports), a data or backup directory left too open is closed."""
    from store import modes

    modes.apply(config.group)
    if fix:
        modes.secure(config.data_dir)
        if config.retention.backup_dir is not None:
            try:
                modes.secure(config.retention.backup_dir)
            except OSError:  # the backup then fails, and says so in the header and `check`
                pass


def _warn_open(config: Config) -> None:
    """`webcare check`: name every file and folder of the data and backup directories that is
    open to other accounts (or, without [desk] group, to a group), and say how to close them."""
    from store import modes

    sharing = modes.current()
    roots = [config.data_dir]
    if config.retention.backup_dir is not None:
        roots.append(config.retention.backup_dir)
    if sharing.gid is not None and os.geteuid() != 0 and sharing.gid not in (os.getegid(), *os.getgroups()):
        print(
            f"webcare check: warning: [desk] group: you are not in group {sharing.group!r}; the "
            "other operators cannot read what your desk writes (add yourself: "
            f"`usermod -aG {sharing.group} $USER`, then log in again)",
            file=sys.stderr,
        )
    for root in roots:
        exposed = modes.too_open(root, sharing)
        if exposed:
            shown, more = exposed[:5], len(exposed) - 5
            for e in shown:
                print(f"webcare check: warning: {e.describe()}", file=sys.stderr)
            if more > 0:
                print(f"webcare check: warning: … and {more} more files and folders in {root}", file=sys.stderr)
            hint = ""
            if sharing.gid is None and not any(e.others for e in exposed):
                hint = f"; if the operators share the desk through group {exposed[0].group!r}, set [desk] group = {exposed[0].group!r}"
            print(
                f"webcare check: {root} holds personal data: close it with `{modes.fix_command(root, sharing)}` "
                f"(the desk and the collector also close it when they start){hint}",
                file=sys.stderr,
            )
        foreign = modes.not_in_group(root, sharing)
        if foreign:
            print(
                f"webcare check: warning: {len(foreign)} files and folders in {root} do not belong to group "
                f"{sharing.group!r} (first: {foreign[0]}); the other operators may not read them: "
                f"`{modes.fix_command(root, sharing)}`",
                file=sys.stderr,
            )


def _open(config: Config, role: str = "desk") -> tuple[Store, list[Source], Callable[..., Poller]]:
    """The store ([store]'s database, else the files in data_dir), the sources and the poller
    factory for `config`."""
    from sources.http import NetworkPolicy
    from sources.registry import build_sources
    from store.open import open_store

    sources = build_sources(config)
    network = NetworkPolicy.from_config(config)
    # Typed as the TinyDB Store for the callers written against it; PostgresStore has the same
    # methods they use (the port, plus segments/content_records/load/change).
    store: Store = open_store(config, role)  # type: ignore[assignment]

    def make_poller(
        on_new: Callable[[int], object] | None = None,
        on_held: Callable[[list[str], list[str]], object] | None = None,
    ) -> Poller:
        # Imported here, not above: httpx, the tone word lists and the housekeeping come after
        # the desk's first paint.
        from sources.digest import digest_loop
        from sources.poller import Poller, collector_name
        from store.housekeeping import daily
        from webcare.intake import Intake

        async def chores() -> None:  # the daily housekeeping and the ambassadors' digest
            clock = lambda: datetime.now(UTC)  # noqa: E731
            if config.store is not None:  # the files' backup and retention: not for a database
                await digest_loop(config, clock, store)
                return
            await asyncio.gather(daily(config, store, clock), digest_loop(config, clock, store))

        # It collects the sources it holds a lease on: on the files every one, once this
        # process is the collector; on a shared database those no other collector holds.
        leases = store.source_leases(collector_name())
        return Poller(
            sources, Intake(config), store, on_new=on_new, chores=chores, network=network,
            alerts=_alert_watch(config, store), leases=leases, on_held=on_held,
        )  # fmt: skip

    return store, sources, make_poller


def _alert_watch(config: Config, store: Store) -> AlertWatch | None:
    """[[alerts]]: what the collector (headless, or a desk that collects) sends; None without."""
    if not config.alerts:
        return None
    from sources.alerts import Alerts, AlertWatch
    from tui.monitoring import Monitor  # the desk's trend book and crisis log: spikes alike

    clock = lambda: datetime.now(UTC)  # noqa: E731
    return AlertWatch(config, store, Alerts(config, clock=clock, marks=store.alert_marks), clock=clock, monitor=Monitor(config, store, clock))


def _check_keys(config: Config) -> None:
    """[keys]: only the desk's actions, keys a keyboard sends, no two actions on one key. Checked
    here, not in webcare.config: the actions are the terminal desk's (tui/keys.py)."""
    if not config.keys:
        return  # the check imports every screen: only worth it when something is remapped
    from tui.keys import check_keymap

    try:
        check_keymap(config.keys)
    except ValueError as exc:
        raise ConfigError(f"{config.path}: {exc}") from None


def cmd_check(config: Config) -> int:
    from sources.http import NetworkPolicy
    from sources.registry import build_sources

    sources = build_sources(config)
    NetworkPolicy.from_config(config)
    check_holidays(config)
    _check_alerts(config)
    try:
        from store.modes import make_dir

        make_dir(config.data_dir)
        probe = config.data_dir / ".webcare-check"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"[desk] data_dir: {config.data_dir} is not writable ({exc.strerror or exc})"
        ) from None
    _warn_open(config)
    names = ", ".join(f"{s.name} ({s.type})" for s in sources) or "none"
    print(
        f"{config.path}: ok — desk {config.name!r}, operator {config.operator!r}, sources: {names}; data in {config.data_dir}"
    )
    database_failed = _check_database(config)
    _check_roles(config)
    _check_ambassadors(config)
    chores_failed = _check_housekeeping(config)
    damaged = _check_quarantine(config)
    return EXIT_FAILURE if damaged or chores_failed or database_failed else 0


def _check_database(config: Config) -> bool:
    """[store]: whether the database is reachable and its schema current; True when it is
    unreachable or newer than this webcare. Reads only: the desk migrates, not the check."""
    if config.store is None:
        return False
    try:
        from store.postgres.connection import status
    except ImportError as exc:  # the optional extra is not installed
        print(
            f"database: cannot connect: {exc.name or exc} is not installed (pip install 'webcare[postgresql]')",
            file=sys.stderr,
        )
        return True
    from store.jsonstorage import StoreError

    try:
        found = status(config.store)
    except StoreError as exc:
        print(exc, file=sys.stderr)  # "database unreachable: webcare@db…/webcare: the reason"
        return True
    print(f"database: {found.describe()}", file=sys.stdout if found.version <= found.current_version else sys.stderr)
    if found.version == found.current_version:  # which collector collects which source
        from store.postgres.leases import describe_leases

        try:
            for line in describe_leases(config.store, [s.name for s in config.sources]):
                print(f"database: {line}")
        except StoreError as exc:
            print(exc, file=sys.stderr)
            return True
    return found.version > found.current_version


def _check_roles(config: Config) -> None:
    """Who holds each role now ([[roles]], and the experts' older `roles`)."""
    from webcare.roles import ROLE_NAMES

    now = datetime.now(UTC)
    held = []
    for role in ROLE_NAMES:
        holder = config.roles.holder(role, config.directory, now, config.timezone)
        if holder is not None:
            held.append(f"{role} {holder.expert.name}")
    if held:
        print("roles now: " + "; ".join(held))


def _check_ambassadors(config: Config) -> None:
    """How many ambassadors opted in, when their digest goes, and why the last one did not."""
    from store.digests import DigestMarks
    from webcare.ambassadors import ambassadors
    from webcare.untrusted import clean_line

    people = ambassadors(config.watch)
    if not people:
        return
    at = config.ambassadors.digest_at
    said = f"ambassadors: {len(people)} opted in; " + (f"digest daily from {at:%H:%M}" if at else "no digest")
    if at and config.smtp is None:
        said += " — but there is no [smtp]: it cannot be e-mailed"
    print(said)
    marks = DigestMarks(config.data_dir).read()
    last = marks[max(marks)] if marks else {}
    if isinstance(last, dict) and last.get("error"):
        print(f"ambassadors' digest: last try failed {_when(last.get('error_at'), config)}: {clean_line(str(last['error']), 300)}")


def _check_alerts(config: Config) -> None:
    """[[alerts]]: each URL is one Apprise knows (loading its plugins costs the desk's start too
    much, so only `check` asks); a url_env that is not set is a warning (the service may set it)."""
    if not config.alerts:
        return
    import apprise

    from sources.alerts import _quiet_apprise

    _quiet_apprise()
    urls = [(t, "url", t.url) for t in config.alerts if t.url]
    urls += [(t, "url_env", os.environ[t.url_env]) for t in config.alerts if t.url_env and os.environ.get(t.url_env)]
    urls += [(t, f"to: [[experts]] {e.name!r} alert", e.alert) for t in config.alerts if t.to for e in config.directory.experts if e.alert]
    for target, key, url in urls:
        if not apprise.Apprise().add(url):  # not the URL in the message: it may hold a token
            raise ConfigError(f"{config.path}: [[alerts]] {target.name!r}: {key}: not a URL Apprise knows (see docs/monitoring.md, Alerts)")
    for t in config.alerts:
        if t.url_env and not os.environ.get(t.url_env):
            print(f"webcare check: warning: [[alerts]] {t.name!r}: url_env: {t.url_env} is not set here", file=sys.stderr)


def _when(text: str | None, config: Config) -> str:
    try:
        return datetime.fromisoformat(text).astimezone(config.timezone).strftime("%Y-%m-%d %H:%M") if text else "never"
    except ValueError:
        return "?"


def _check_housekeeping(config: Config) -> bool:
    """The daily chores' last results (health.json); True when the last run failed."""
    from store.jsonstorage import read_json
    from store.store import HOUSEKEEPING
    from webcare.untrusted import clean_line

    if config.store is not None:  # the chores' results are in the database's health table
        from store.postgres.retention import read_housekeeping

        record = read_housekeeping(config.store)
    else:
        try:  # read as it is: a check creates nothing in the data directory
            health = read_json(config.data_dir / "health.json")
        except (OSError, ValueError):
            health = None
        record = health.get(HOUSEKEEPING) if isinstance(health, dict) else None
    if not isinstance(record, dict) or not record:
        return False
    size = record.get("last_backup_size")
    backup = f"last backup {_when(record.get('last_backup_at'), config)}"
    if config.store is not None:
        backup = "backups: the database's own"
    if record.get("last_backup"):
        backup += f" ({size / 1e6:.1f} MB, {record['last_backup']})" if isinstance(size, int) else f" ({record['last_backup']})"
    retention = f"last retention run {_when(record.get('last_retention_at'), config)}"
    print(f"housekeeping: {backup}; {retention}")
    if record.get("error"):
        print(
            f"housekeeping FAILED {_when(record.get('error_at'), config)}: {clean_line(str(record['error']), 300)}"
            " — fix the cause and run `webcare housekeeping`",
            file=sys.stderr,
        )
        return True
    return False


def _check_quarantine(config: Config) -> bool:
    """Damaged files moved to data_dir/quarantine, each with the exact command that restores
    it from the newest backup holding it; True when there are any."""
    import shlex

    from store.housekeeping import backups_dir
    from store.quarantine import quarantine_dir, quarantined
    from store.restore import newest_holding

    found = [q for q in quarantined(config.data_dir) if not q.derived]
    if not found:
        return False
    print(f"damaged files, moved to {quarantine_dir(config.data_dir)} (kept, never deleted):", file=sys.stderr)
    config_arg = shlex.quote(str(Path(config.path).resolve()))
    for q in found:
        print(f"  {q.name}: found {_when(q.at.isoformat(), config)}, now {q.path}", file=sys.stderr)
        if q.reason:
            print(f"    why: {q.reason}", file=sys.stderr)
        if q.name.endswith(".jsonl"):
            print("    its readable lines were kept in place; the backup has the damaged ones as they were", file=sys.stderr)
        elif q.name.startswith("state/"):
            print("    the mentions' statuses in it were lost since; restoring replaces what was done to them since", file=sys.stderr)
        archive = newest_holding(backups_dir(config), q.name)
        if archive is None:
            print(f"    no backup holds it; to stop the header naming it: webcare restore --config {config_arg} --dismiss {shlex.quote(q.name)}", file=sys.stderr)
            continue
        print(
            f"    restore it: webcare restore --config {config_arg} --from {shlex.quote(str(archive))} {shlex.quote(q.name)}",
            file=sys.stderr,
        )
    return True


def cmd_desk(config: Config, open_id: str | None = None) -> int:
    import gc

    # From here to the first frame Python makes many long-lived objects (modules, the queue,
    # the widgets) and little garbage: its cyclic collector would run some 150 times for ~20 ms
    # and free next to nothing. The desk turns it back on once the stream is on screen.
    gc.disable()
    store, sources, make_poller = _open(config)
    from sources.http import NetworkPolicy
    from sources.moderation import moderators
    from sources.replies import repliers
    from tui.app import WebcareApp

    network = NetworkPolicy.from_config(config)
    # replies follow [network] too
    senders = repliers(sources, network)
    moderation = moderators(sources, network)  # and so does moderation on the platforms
    WebcareApp(config, store, make_poller=make_poller, senders=senders, moderators=moderation, open_id=open_id).run()
    return 0


def cmd_collect(config: Config, once: bool) -> int:
    store, sources, make_poller = _open(config, "collector")
    into = config.store.where if config.store is not None else config.data_dir  # said, never a password
    store.rows()  # know every stored id (from the indexes), so dedup needs no scan per poll
    import gc

    gc.freeze()  # that index lives as long as the collector: keep it out of every full collection
    first_look = True

    def held_changed(gained: list[str], lost: list[str]) -> None:
        """Say which sources this collector took or handed on (several collectors share them)."""
        nonlocal first_look
        everything = first_look and not lost and len(gained) == len(sources)
        first_look = False
        if everything:
            return  # as said when it started: it collects them all
        if gained:
            print(f"webcare collect: {poller.collector} now collects {', '.join(gained)}", file=sys.stderr, flush=True)
        if lost:
            print(f"webcare collect: {poller.collector} no longer collects {', '.join(lost)} "
                  "(another collector holds it now)", file=sys.stderr, flush=True)  # fmt: skip

    poller = make_poller(on_held=held_changed)
    if once:
        new = asyncio.run(poller.poll_once())
        from sources.digest import send_digest

        digest = asyncio.run(send_digest(config, datetime.now(UTC), store))  # due, and not sent yet today
        if digest.sent:
            print(f"ambassadors' digest e-mailed to {len(digest.sent)}")
        for error in digest.errors:
            print(f"ambassadors' digest not sent: {error}", file=sys.stderr)
        for name, h in poller.health.items():
            state = h.state if not h.last_error else f"{h.state}: {h.last_error}"
            print(f"{name}: {state}; {h.fetched} fetched, {h.new} new")
        print(f"{new} new mentions stored in {into}")
        return 0 if all(h.state == "ok" for h in poller.health.values()) else EXIT_FAILURE
    waited = False
    # On the data directory's files one collector collects: this one waits for the one running
    # to stop. Collectors on a database run side by side, sharing the sources by their leases.
    while config.store is None and not store.try_collector_lease():
        if not waited:
            print(
                f"webcare collect: another process collects for {into}; waiting for it to stop",
                file=sys.stderr,
                flush=True,
            )
            waited = True
        time.sleep(2)
    print(
        f"webcare collect: collecting {len(sources)} sources into {into}",
        file=sys.stderr,
        flush=True,
    )

    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None  # run() is awaited by asyncio.run
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await poller.run()
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(run())
    finally:
        store.close()
    return 0


def cmd_export(config: Config, fmt: str, output: str | None, author: str | None = None) -> int:
    from store.open import open_store

    store: Store = open_store(config, "desk")  # type: ignore[assignment]
    if author is not None:  # an access request: exactly this person's records, and a log line
        from store.retention import access_export, log_request

        records = access_export(store, author)
        log_request(config.data_dir, "access", author, config.operator, datetime.now(UTC), mentions=len(records))
        mentions = [Mention.from_records(r, r) for r in records]
    else:
        mentions = store.load()
    return _write_mentions(mentions, fmt, output)


def _write_mentions(mentions: list[Mention], fmt: str, output: str | None) -> int:
    with _output(output) as out:
        if fmt == "jsonl":
            for m in mentions:
                out.write(json.dumps(m.export_record(), ensure_ascii=False) + "\n")
            return 0
        # The CSV has the same columns as the JSON records (taken from the record itself, so it
        # never falls behind it); lists and tables (history, feedback, …) are JSON in their cell.
        # Every cell is written as text a spreadsheet will not run (a post that starts with "="
        # is outside text): see csv_cell.
        from webcare.untrusted import csv_cell

        writer = csv.DictWriter(out, fieldnames=list(Mention.export_fields()))
        writer.writeheader()
        for m in mentions:
            writer.writerow(
                {
                    key: csv_cell(
                        json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
                    )
                    for key, value in m.export_record().items()
                }
            )
    return 0


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a date like 2026-11-16") from None


def cmd_report(config: Config, start: str | None, end: str | None, fmt: str, output: str | None) -> int:
    """Volume, tone and response times against the norms for the days --from to --to."""
    from store.open import open_store
    from webcare import report

    begin, stop, now = _report_period(config, start, end)
    mentions = list(open_store(config, "desk").every_mention())
    figures = report.figures(mentions, begin, stop, config.timezone, now)
    return _write_report(config, figures, fmt, output)


def _report_period(config: Config, start: str | None, end: str | None) -> tuple[datetime, datetime, datetime]:
    """The report's period from --from and --to (the last seven days by default) as its first
    and end moment, and now."""
    from webcare import report

    now = datetime.now(UTC)
    last = _day(end, "--to") if end else now.astimezone(config.timezone).date()
    first = _day(start, "--from") if start else last - timedelta(days=6)
    try:
        begin, stop = report.period(first, last, config.timezone)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return begin, stop, now


def _write_report(config: Config, figures: Report, fmt: str, output: str | None) -> int:
    from webcare import report

    render = {
        "md": lambda r: report.to_markdown(r, config.language),
        "html": lambda r: report.to_html(r, config.language),
        "csv": report.to_csv,
        "json": report.to_json,
    }[fmt]
    with _output(output) as out:
        out.write(render(figures))
    return 0


def _since(text: str, config: Config, now: datetime) -> datetime:
    """--since as HH:MM (the last such time, in the desk's timezone) or a date and time."""
    from webcare.shifts import moment_since

    try:
        return moment_since(text, now, config.timezone)
    except ValueError:
        raise ConfigError(f"--since: {text!r} is not a past time like 17:00 or 2026-11-20T17:00") from None


def cmd_handover(config: Config, since: str | None, note: str | None, output: str | None) -> int:
    """Since the shift began: what came in, what was answered, what is open, what waits on
    experts, the drafts not sent yet, and the notes left for the next shift, as Markdown."""
    from store.open import open_store
    from webcare.handover import Note, handover, to_markdown
    from webcare.shifts import current_shift

    now = datetime.now(UTC)
    store: Store = open_store(config, "desk")  # type: ignore[assignment]
    notes = store.notes
    if note:
        notes.add(Note(now, config.operator, note))
    shift = current_shift(config.shifts, now, config.timezone)
    start = _since(since, config, now) if since else shift.start
    drafts = store.drafts.all().values()  # unsent replies, whenever written
    h = handover(store.load(), start, now, config.timezone, notes.since(start), shift=shift.name if not since else "", drafts=drafts)
    with _output(output) as out:
        out.write(to_markdown(h, config.language))
    return 0


def cmd_forget(config: Config, author: str, yes: bool) -> int:
    """Erase a person from every file in the data directory and its backups; logged (by keyed
    hash) in privacy.log. Exit 0 only when the final check of every file finds no trace."""
    from store import Store
    from store.housekeeping import backups_dir
    from store.retention import forget

    if not yes:
        if not sys.stdin.isatty():
            print("webcare forget: add --yes to confirm (no terminal to ask)", file=sys.stderr)
            return EXIT_CONFIG
        keys = "[j/N]" if config.language == "nl" else "[y/N]"  # either yes is taken
        answer = input(f"Erase every trace of {author!r} in {config.data_dir} and its backups? {keys} ")
        if answer.strip().lower() not in ("y", "yes", "j", "ja"):
            print("nothing erased")
            return 0
    try:
        result = forget(Store(config.data_dir), author, datetime.now(UTC), config.operator, backups_dir(config))
    except ValueError as exc:
        print(f"webcare forget: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"erased: {result.mentions} mentions by them, their identifiers removed from {result.redacted} other records, "
        f"{result.files} other files and {result.backups} backups; logged as {result.subject[:20]}… in privacy.log"
    )
    if result.remaining:  # the final check of every file (and backup) found something
        print("still holding a trace (remove or rewrite by hand, then run forget again):", file=sys.stderr)
        for path in result.remaining:
            print(f"  {path}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def cmd_housekeeping(config: Config) -> int:
    from store import Store
    from store.housekeeping import run_chores


    done = run_chores(config, Store(config.data_dir), datetime.now(UTC))
    for error in done.errors:
        print(f"webcare housekeeping: {error}", file=sys.stderr)
    print(f"anonymised {done.anonymised} mentions older than {config.retention.days} days; backup {done.archive}")
    return EXIT_FAILURE if done.errors else 0


def cmd_restore(config: Config, files: list[str], archive: str | None, force: bool, dismiss: bool) -> int:
    """Put files (or the whole data directory) back from a backup; see store/restore.py."""
    from store.housekeeping import backups_dir
    from store.quarantine import resolve
    from store.restore import newest_holding, restore_files

    if dismiss:
        if not files:
            print("webcare restore --dismiss: name the FILEs to mark as dealt with", file=sys.stderr)
            return EXIT_CONFIG
        for name in files:
            print(f"{name}: {resolve(config.data_dir, name)} quarantined copies marked as dealt with")
        return 0
    chosen = Path(archive) if archive else None
    if chosen is None:
        chosen = newest_holding(backups_dir(config), files[0] if len(files) == 1 else None)
        if chosen is None:
            print(f"webcare restore: no backup in {backups_dir(config)} holds {' '.join(files) or 'anything'}", file=sys.stderr)
            return EXIT_FAILURE
    done = restore_files(chosen, config.data_dir, files or None, force=force)
    for name in done.files:
        print(f"restored {name} from {done.archive}")
    if done.moved_aside:
        print(f"moved aside (newer than the backup): {', '.join(done.moved_aside)}")
    if done.replaced:
        print(f"what it replaced is kept in {done.replaced}")
    print("restart the desks that are open on this data directory")
    return 0


# --- moving between stores ---------------------------------------------------------------------


def cmd_migrate(config: Config, to: str, password_env: str, force: bool) -> int:
    """Copy the configured store into an empty database (`to` a postgresql:// URL) or a new data
    directory (`to` a folder), verify it (store/migrate.py) and say what to change in config.toml."""
    from store.migrate import DatabaseSide, FilesSide, collector_running, files_target, migrate
    from store.open import open_store

    to_database = "://" in to
    settings = store_settings(to, password_env) if to_database else None  # checked before anything is opened
    source_store = open_store(config, "migrate")
    try:
        running = collector_running(source_store)
        where = config.store.where if config.store is not None else str(config.data_dir)
        if running and not force:
            print(
                f"webcare migrate: {running} on {where}: stop the collector first (the copy would miss what it "
                "collects meanwhile), or add --force",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        if config.store is None:
            source: FilesSide | DatabaseSide = FilesSide(source_store, [s.name for s in config.sources])  # type: ignore[arg-type]
        else:
            source = DatabaseSide(source_store)  # type: ignore[arg-type]
        if settings is not None:
            try:
                from store.postgres.mentions import open_postgres
            except ImportError as exc:  # the optional extra is not installed
                print(f"webcare migrate: {exc.name or exc} is not installed (pip install 'webcare[postgresql]')", file=sys.stderr)
                return EXIT_FAILURE
            target: FilesSide | DatabaseSide = DatabaseSide(open_postgres(settings, "migrate"))
        else:
            target = files_target(Path(to))
        try:
            outcome = migrate(source, target)
        finally:
            target.store.close()
    finally:
        source_store.close()
    print("\n".join(outcome.lines()))
    if not outcome.ok:
        print(
            "webcare migrate: the copy does not read back as the source (✗ above): keep config.toml as it is and "
            f"empty {outcome.target} before trying again",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    if settings is not None:
        table = f'[store]\nurl = "{settings.url}"' + (f'\npassword_env = "{settings.password_env}"' if settings.password_env else "")
        print(f"\nNext, with the desks closed: in config.toml add\n\n{table}\n\nand start the desks and the collector again.")
    else:
        print(
            f"\nNext, with the desks closed: in config.toml remove the [store] table and set [desk] data_dir = \"{outcome.target}\", "
            "and start the desks and the collector again."
        )
    print(f"{outcome.source} is left as it was: keep it until the desks run well on the copy.")
    return 0


# --- the commands on a PostgreSQL store ([store]) ----------------------------------------------

POSTGRES_DOCS = "docs/operations/postgresql.md"


def cmd_on_database(config: Config, args: argparse.Namespace) -> int:
    """forget, housekeeping, report, restore and an access request (export --author) when [store]
    names a database: retention and erasure run as SQL there (store/postgres/retention.py), reports aggregate there
    (store/postgres/reports.py); backups and restores are the database's own."""
    if args.command == "restore":
        print(
            "webcare restore: this desk keeps its data in the database ([store]), whose backups are the "
            f"database's own: restore with pg_restore or your service's point-in-time recovery (see {POSTGRES_DOCS}, "
            "Backups), then run `webcare check`",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    if args.command == "forget" and not args.yes and not _confirmed(config, args.author, config.store.where):  # type: ignore[union-attr]
        return EXIT_CONFIG if not sys.stdin.isatty() else 0
    try:
        from store.postgres.connection import open_database
    except ImportError as exc:  # the optional extra is not installed
        print(f"webcare {args.command}: {exc.name or exc} is not installed (pip install 'webcare[postgresql]')", file=sys.stderr)
        return EXIT_FAILURE
    db = open_database(config.store, "housekeeping" if args.command == "housekeeping" else "desk")  # type: ignore[arg-type]
    try:
        if args.command == "forget":
            return _forget_on_database(config, db, args.author)
        if args.command == "export":  # an access request: exactly this person's records, and a log line
            from store.postgres.retention import access_export, log_request

            records = access_export(db, args.author)
            log_request(db, "access", args.author, config.operator, datetime.now(UTC), mentions=len(records))
            return _write_mentions([Mention.from_records(r, r) for r in records], args.format, args.output)
        if args.command == "housekeeping":
            from store.postgres.retention import run_chores

            done = run_chores(db, config.retention.days, config.retention.evidence_days, datetime.now(UTC))
            for error in done.errors:
                print(f"webcare housekeeping: {error}", file=sys.stderr)
            print(
                f"anonymised {done.anonymised} mentions older than {config.retention.days} days; backup: the database's "
                f"own (pg_dump or point-in-time recovery, see {POSTGRES_DOCS})"
            )
            return EXIT_FAILURE if done.errors else 0
        return _report_on_database(config, db, args.start, args.end, args.format, args.output)
    finally:
        db.close()


def _confirmed(config: Config, author: str, where: str) -> bool:
    if not sys.stdin.isatty():
        print("webcare forget: add --yes to confirm (no terminal to ask)", file=sys.stderr)
        return False
    keys = "[j/N]" if config.language == "nl" else "[y/N]"  # either yes is taken
    answer = input(f"Erase every trace of {author!r} in the database {where}? {keys} ")
    if answer.strip().lower() in ("y", "yes", "j", "ja"):
        return True
    print("nothing erased")
    return False


def _forget_on_database(config: Config, db: Database, author: str) -> int:
    from store.postgres.retention import forget

    try:
        result = forget(db, author, datetime.now(UTC), config.operator)
    except ValueError as exc:
        print(f"webcare forget: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"erased: {result.mentions} mentions by them, their identifiers removed from {result.redacted} other mentions "
        f"and {result.files} other rows; logged as {result.subject[:20]}… in privacy_log. The database's backups still "
        f"hold them until they age out (see {POSTGRES_DOCS}, Retention and forget)"
    )
    if result.remaining:  # the final search of every table found something
        print("still holding a trace (rewrite by hand, then run forget again):", file=sys.stderr)
        for where in result.remaining:
            print(f"  {where}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _report_on_database(config: Config, db: Database, start: str | None, end: str | None, fmt: str, output: str | None) -> int:
    """cmd_report's report, of only the period's mentions (the database picks them out)."""
    from store.postgres.reports import figures

    begin, stop, now = _report_period(config, start, end)
    return _write_report(config, figures(db, begin, stop, config.timezone, now), fmt, output)


def cmd_export_plan(config: Config, fmt: str, output: str | None) -> int:
    """The content plan: ics (dated items, for Outlook or any calendar), jsonl or csv (every
    item, the backlog too; the csv is what `import plan` reads)."""
    from store.open import open_store
    from webcare.planning import csv_row, plan_to_ics

    items = open_store(config, "desk").plan.all()
    if fmt == "ics":
        data = plan_to_ics(items, config.timezone, name=config.name, language=config.language)
        if output:
            Path(output).write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return 0
    with _output(output) as out:
        if fmt == "jsonl":
            for item in items:
                out.write(json.dumps(item.to_record(), ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=PLAN_CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(csv_row(item) for item in items)
    return 0


def cmd_import_plan(config: Config, path: Path) -> int:
    """Every row of a CSV plan, or none: a bad row is named (row number and field) on stderr
    and nothing is imported (exit 2). Rows already imported (the same ids) are not doubled."""
    from store.open import open_store
    from webcare.planning import PlanImportError, parse_plan_csv

    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"webcare import plan: {path}: cannot read ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_CONFIG
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # what Excel on Windows saves as "CSV"
    try:
        items = parse_plan_csv(text, owner=config.operator)
    except PlanImportError as exc:
        print(
            f"webcare import plan: {path}: nothing imported, {len(exc.errors)} {'error' if len(exc.errors) == 1 else 'errors'}:",
            file=sys.stderr,
        )
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return EXIT_CONFIG
    added = open_store(config, "desk").plan.add_many(items)
    known = len(items) - len(added)
    again = f" ({known} already in the plan)" if known else ""
    print(
        f"{len(added)} {'item' if len(added) == 1 else 'items'} imported{again} into {config.data_dir / 'plan.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
