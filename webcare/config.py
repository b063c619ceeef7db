"""The configuration: one typed model read from config.toml, with errors that name the key.

`load(path)` returns a Config or raises ConfigError("[norms] x: '2 hours' is not a duration…").
Every table is parsed once, here or by the domain module that holds it (webcare.watch,
webcare.routing, …); a table or key config.toml does not know is refused with a "did you mean"
(webcare.known). Three are checked by the adapters that use them: the keys of each [[sources]]
entry (sources/), [network] (sources/http.py) and the actions and keys of [keys] (tui/keys.py).
"""

from __future__ import annotations

import getpass
import grp
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webcare.ambassadors import AmbassadorSettings
from webcare.ambassadors import parse_settings as parse_ambassadors
from webcare.channels import CHANNELS, normalize_channel
from webcare.hours import WeeklyHours
from webcare.known import suggest, unknown_key
from webcare.norms import Norm, parse_duration
from webcare.planning import (
    DEFAULT_CYCLE_START,
    DEFAULT_PLAN_CHANNELS,
    CalendarSettings,
    Campaign,
    holiday_country,
    parse_channels,
    parse_date,
)
from webcare.roles import Roles, load_roles
from webcare.routing import Directory, load_directory
from webcare.scheme import DEFAULT as DEFAULT_SCHEME
from webcare.scheme import Scheme, SchemeError
from webcare.scheme import parse as parse_scheme
from webcare.shifts import ShiftSpec, parse_shifts
from webcare.trends import TrendParams
from webcare.watch import Watch, parse_watch

# [[alerts]] and [[templates]] are parsed by modules imported only when config.toml has the
# table (see _parse): the desk's first frame needs neither, and without the table each parser
# gives an empty tuple, so the Config is the same either way.
if TYPE_CHECKING:
    from webcare.alerts import AlertTarget
    from webcare.templates import Template

LANGUAGES = ("nl", "en")

# The 2-4-8 norm and sensible values for the other channels, used where [norms] is silent.
DEFAULT_NORMS = {
    "x": "2h",
    "facebook": "4h",
    "email": "8h",
    "mastodon": "2h",
    "bluesky": "2h",
    "instagram": "4h",
    "linkedin": "4h",
    "youtube": "8h",
    "reddit": "4h",
    "news": "none",
    "web": "none",
    "other": "8h",
}


class ConfigError(Exception):
    """A configuration problem, phrased for the person who edits config.toml."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One [[sources]] entry: its type and name, and the type's own keys (checked by sources/)."""

    type: str
    name: str
    options: dict[str, Any]
    index: int  # position in [[sources]], for error messages

    @property
    def where(self) -> str:
        return f"[[sources]] #{self.index + 1} ({self.name!r})"


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    name: str
    language: str
    timezone: ZoneInfo
    data_dir: Path
    operator: str
    norms: dict[str, Norm]
    sources: tuple[SourceConfig, ...]
    keywords: tuple[str, ...]
    scheme: Scheme
    templates: tuple[Template, ...]  # reply templates ([[templates]])
    directory: Directory  # experts, units and the on-call roster
    initials: str  # the operator's initials, to sign replies
    website: str  # the organisation's site: {link} in reply templates
    raw: dict[str, Any] = field(repr=False)  # the whole file, for the sections owned elsewhere
    calendar: CalendarSettings = field(default_factory=CalendarSettings)  # [calendar]
    watch: Watch = field(default_factory=Watch)  # [watch]: keywords, rules, people
    shifts: tuple[ShiftSpec, ...] = ()  # [shifts]: when each shift starts (the handover's "since")
    trends: TrendParams = field(default_factory=TrendParams)  # [trends]: when a spike is raised
    crisis: CrisisSettings = field(default_factory=lambda: CrisisSettings())  # [crisis]
    retention: RetentionSettings = field(default_factory=lambda: RetentionSettings())  # [retention]
    group: str = ""  # [desk] group: the Unix group the operators share the data directory through
    roles: Roles = field(default_factory=Roles)  # [[roles]]: who is crisis contact, communication lead, …
    ambassadors: AmbassadorSettings = field(default_factory=AmbassadorSettings)  # [ambassadors]: the digest
    alerts: tuple[AlertTarget, ...] = ()  # [[alerts]]: where alerts go away from the terminal
    smtp: SmtpSettings | None = None  # [smtp]: hand-offs, e-mail replies, the digest; None: no e-mail
    keys: dict[str, str] = field(default_factory=dict)  # [keys]: binding id → "j,down" (tui/keys.py checks them)
    store: StoreSettings | None = None  # [store]: a PostgreSQL database; None: TinyDB files in data_dir

    def norm(self, channel: str) -> Norm:
        return self.norms.get(channel) or self.norms["other"]

    @property
    def calendar_channels(self) -> tuple[str, ...]:
        """The channels the team publishes on ([calendar] channels), for the plan's balance."""
        return self.calendar.channels


@dataclass(frozen=True, slots=True)
class CrisisSettings:
    """[crisis]: the norm every countdown follows in crisis mode, the holding statement (the
    first public words while the facts are gathered), and whether planned posts are held."""

    norm: timedelta = timedelta(minutes=30)
    holding_statement: str = (
        "We zijn op de hoogte van de situatie en volgen ze op de voet. We delen meer informatie "
        "zodra we die hebben. Dringende vragen? Bel 1700."
    )
    hold_plan: bool = True


def _crisis(data: dict[str, Any]) -> CrisisSettings:
    table = _table(data, "crisis")
    _unknown(table, "crisis", {"norm", "holding_statement", "hold_plan"})
    default = CrisisSettings()
    norm = default.norm
    if "norm" in table:
        try:
            parsed = parse_duration(str(table["norm"]))
        except ValueError:
            parsed = None
        if parsed is None or parsed.total_seconds() <= 0:
            raise ConfigError(f"[crisis] norm: {table['norm']!r} is not a duration like '30m' or '1h'")
        norm = parsed
    statement = _str(table, "crisis", "holding_statement", default.holding_statement).strip()
    if not statement:
        raise ConfigError("[crisis] holding_statement: must not be empty (the first words in a crisis)")
    hold = table.get("hold_plan", True)
    if not isinstance(hold, bool):
        raise ConfigError(f"[crisis] hold_plan: must be true or false, not {hold!r}")
    return CrisisSettings(norm, statement, hold)


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """[retention]: after how many days mentions are anonymised (0: never), how long the
    evidence of a moderation case outlives that (docs/audit.md, Moderation on the platform), and the
    daily backups (how many are kept, where)."""

    days: int = 90
    backups: int = 7
    backup_dir: Path | None = None  # None: data_dir/backups
    evidence_days: int = 365  # evidence kept on a moderated mention goes this long after keeping


def _retention(data: dict[str, Any], base: Path) -> RetentionSettings:
    """Relative paths are relative to the config file, like data_dir."""
    table = _table(data, "retention")
    _unknown(table, "retention", {"days", "backups", "backup_dir", "evidence_days"})
    values: dict[str, Any] = {}
    for key, minimum in (("days", 0), ("backups", 1), ("evidence_days", 1)):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"[retention] {key}: must be a whole number ≥ {minimum}, not {value!r}")
            values[key] = value
    if "backup_dir" in table:
        folder = _str(table, "retention", "backup_dir", "")
        if not folder.strip():
            raise ConfigError("[retention] backup_dir: must not be empty (leave it out for data_dir/backups)")
        path = Path(os.path.expanduser(folder))
        values["backup_dir"] = path if path.is_absolute() else (base / path).resolve()
    days, evidence_days = values.get("days", 90), values.get("evidence_days", 365)
    if days and evidence_days < days:  # evidence is kept longer than the rest, never shorter
        raise ConfigError(f"[retention] evidence_days: must be at least days ({days}), not {evidence_days}")
    return RetentionSettings(**values)


SMTP_SECURITY = ("ssl", "starttls", "none")
SMTP_DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
_SMTP_KEYS = {"host", "port", "security", "username", "password_env", "from", "from_name", "reply_to", "timeout"}
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_SMTP_TIMEOUT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min)?\s*$")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """[smtp]: the one mail server the desk sends through (hand-offs, e-mail replies, the
    ambassadors' digest; sources/handoff.py sends). The password is never in config.toml: the
    sender reads the environment variable password_env names when it sends."""

    host: str
    port: int
    security: str  # ssl | starttls | none
    sender: str  # [smtp] from
    username: str = ""
    password_env: str = ""
    from_name: str = ""
    reply_to: str = ""
    timeout: float = 20.0

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> SmtpSettings:
        """Read [smtp]; raises ConfigError("[smtp] port: …") naming the key."""
        if not isinstance(raw, Mapping):
            raise ConfigError("[smtp] must be a table")
        if "password" in raw:
            raise ConfigError("[smtp] password: never in config.toml; name an environment variable with password_env")
        extra = sorted(set(raw) - _SMTP_KEYS)
        if extra:
            raise ConfigError(unknown_key("[smtp] ", extra[0], _SMTP_KEYS))

        def text(key: str, default: str = "") -> str:
            value = raw.get(key, default)
            if not isinstance(value, str):
                raise ConfigError(f"[smtp] {key}: must be a string, not {value!r}")
            return value.strip()

        host = text("host")
        if not host or any(c.isspace() for c in host) or "/" in host:
            raise ConfigError(f"[smtp] host: {'missing' if not host else repr(host) + ' is not a host name'} (like 'smtp.example.org')")
        security = text("security", "starttls").lower()
        if security not in SMTP_SECURITY:
            raise ConfigError(f"[smtp] security: {security!r} is not one of {', '.join(SMTP_SECURITY)}")
        port = raw.get("port", SMTP_DEFAULT_PORTS[security])
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigError(f"[smtp] port: must be a port number (1-65535), not {port!r}")
        sender = text("from")
        if not sender:
            raise ConfigError("[smtp] from: missing (the desk's address, where experts reply)")
        for key, value in (("from", sender), ("reply_to", text("reply_to"))):
            if value and not _EMAIL.match(value):
                raise ConfigError(f"[smtp] {key}: {value!r} is not an e-mail address")
        username, password_env = text("username"), text("password_env")
        if username and not password_env:
            raise ConfigError("[smtp] password_env: missing (the environment variable that holds the password for username)")
        if password_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", password_env):
            raise ConfigError(f"[smtp] password_env: {password_env!r} is not an environment variable name")
        timeout_text = str(raw.get("timeout", "20s"))
        m = _SMTP_TIMEOUT.match(timeout_text)
        if not m or float(m[1]) <= 0:
            raise ConfigError(f"[smtp] timeout: {timeout_text!r} is not a duration like '20s' or '1m'")
        timeout = float(m[1]) * (60 if (m[2] or "s").startswith("m") else 1)
        return cls(host, port, security, sender, username, password_env, text("from_name"), text("reply_to"), timeout)


def _smtp(data: dict[str, Any]) -> SmtpSettings | None:
    """[smtp], or None without it (hand-offs then go to the clipboard)."""
    return None if data.get("smtp") is None else SmtpSettings.from_config(data["smtp"])


def _keys(data: dict[str, Any]) -> dict[str, str]:
    """[keys]: binding id = "key,key". Only the form is checked here; which ids exist and which
    keys Textual knows is the terminal desk's business (tui/keys.py check_keymap, run by the
    desk at start and by `webcare check`)."""
    table = _table(data, "keys")
    keymap: dict[str, str] = {}
    for action, value in table.items():
        if not isinstance(value, str) or not value.strip() or any(not k.strip() for k in value.split(",")):
            raise ConfigError(f'[keys] {action}: must be a string of keys like "j,down", not {value!r}')
        keymap[action] = value
    return keymap


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """[store]: the PostgreSQL database the desks and collectors share instead of the TinyDB
    files in [desk] data_dir (store/postgres/ connects). The password is never in config.toml:
    the store reads the environment variable password_env names when it connects."""

    url: str  # postgresql://user@host[:port][,host2…]/database[?sslmode=…], no password
    password_env: str = ""
    pool: int = 10  # connections one process keeps at most
    connect_timeout: int = 10  # seconds: libpq takes whole seconds

    @property
    def where(self) -> str:
        """user@host:port/database for messages: never a password (the URL holds none)."""
        return self.url.split("://", 1)[1].split("?", 1)[0]


_STORE_SCHEMES = ("postgresql", "postgres")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _store(data: dict[str, Any]) -> StoreSettings | None:
    """[store], or None without it (the TinyDB files in data_dir, as before)."""
    if "store" not in data:
        return None
    table = _table(data, "store")
    if "password" in table:
        raise ConfigError("[store] password: never in config.toml; name an environment variable with password_env")
    _unknown(table, "store", {"url", "password_env", "pool", "connect_timeout"})
    url = _str(table, "store", "url", "").strip()
    if not url:
        raise ConfigError('[store] url: missing (like "postgresql://webcare@db.example.org/webcare")')
    scheme, sep, rest = url.partition("://")
    netloc, _, query = rest.partition("?")
    userinfo = netloc.split("/", 1)[0].rpartition("@")[0]
    # Checked first, so no message below repeats a URL with a password in it.
    if ":" in userinfo or any(p.split("=", 1)[0].strip().lower() == "password" for p in query.split("&")):
        raise ConfigError(
            "[store] url: holds a password; take it out of the URL and name the environment variable "
            "that holds it with password_env"
        )
    if not sep or scheme.lower() not in _STORE_SCHEMES:
        raise ConfigError(f"[store] url: {url!r} is not a postgresql:// URL (like \"postgresql://webcare@db.example.org/webcare\")")
    if any(c.isspace() for c in url):
        raise ConfigError(f"[store] url: {url!r} has a space in it")
    password_env = _str(table, "store", "password_env", "").strip()
    if password_env and not _ENV_NAME.fullmatch(password_env):
        raise ConfigError(f"[store] password_env: {password_env!r} is not an environment variable name")
    pool = table.get("pool", 10)
    if isinstance(pool, bool) or not isinstance(pool, int) or not 1 <= pool <= 1000:
        raise ConfigError(f"[store] pool: must be a whole number from 1 to 1000, not {pool!r}")
    timeout_text = str(table.get("connect_timeout", "10s"))
    m = _SMTP_TIMEOUT.match(timeout_text)  # "10s", "1m": the same form as [smtp] timeout
    seconds = float(m[1]) * (60 if (m[2] or "s").startswith("m") else 1) if m else 0
    if not 1 <= seconds <= 600:
        raise ConfigError(f"[store] connect_timeout: {timeout_text!r} is not a duration from '1s' to '10m'")
    return StoreSettings(url, password_env, pool, round(seconds))



def store_settings(url: str, password_env: str = "") -> StoreSettings:
    """A database named outside config.toml (webcare migrate --to), checked as [store] is."""
    settings = _store({"store": {"url": url, "password_env": password_env}})
    assert settings is not None  # a [store] table was given
    return settings

# Without [shifts]: office hours, the evening and night, and the weekend.
DEFAULT_SHIFTS = {
    "dag": "mon-fri 08:00-17:00",
    "avond": "mon-thu 17:00-08:00",
    "weekend": "fri 17:00-mon 08:00",
}


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table, not {type(value).__name__}")
    return value


def _str(table: dict[str, Any], section: str, key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"[{section}] {key}: must be a string, not {value!r}")
    return value


# The top-level tables config.toml may hold; anything else is a typo (or a table of a newer
# webcare), refused rather than silently ignored while the defaults apply.
TABLES = frozenset({
    "desk", "clock", "norms", "sources", "watch", "scheme", "templates", "experts", "units",
    "oncall", "roles", "ambassadors", "shifts", "alerts", "trends", "crisis", "retention",
    "calendar", "smtp", "keys", "network", "store",
})  # fmt: skip


def _unknown(table: dict[str, Any], section: str, known: set[str]) -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise ConfigError(unknown_key(f"[{section}] ", extra[0], known))


def _unknown_tables(data: dict[str, Any]) -> None:
    for name in sorted(set(data) - TABLES):
        if isinstance(data[name], dict) or (isinstance(data[name], list) and data[name] and all(isinstance(e, dict) for e in data[name])):
            brackets = "[[{}]]" if isinstance(data[name], list) else "[{}]"
            raise ConfigError(f"{brackets.format(name)}: unknown table{suggest(name, TABLES)}")
        # A key above the first table, e.g. `language = "en"` where [desk] language was meant.
        raise ConfigError(
            f"{name}: unknown key at the top of the file (keys go inside a table such as [desk]; "
            f"known tables: {', '.join(sorted(TABLES))})"
        )


def resolve_operator(configured: str) -> str:
    """[desk] operator, else $WEBCARE_OPERATOR, else the login name."""
    if configured.strip():
        return configured.strip()
    if os.environ.get("WEBCARE_OPERATOR", "").strip():
        return os.environ["WEBCARE_OPERATOR"].strip()
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "operator"


def initials_of(name: str) -> str:
    """'An Peeters' → 'AP', 'an.peeters' → 'AP', 'root' → 'R'."""
    parts = [p for p in name.replace(".", " ").replace("_", " ").replace("-", " ").split() if p]
    return "".join(p[0].upper() for p in parts[:3]) or "?"


def check_holidays(config: Config) -> None:
    """[calendar] holidays names a country the holidays library knows (for `webcare check`)."""
    try:
        holiday_country(config.calendar.holidays)
    except ValueError as exc:
        raise ConfigError(f"{config.path}: [calendar] holidays: {exc}, or \"\" for none") from None


def load(path: Path) -> Config:
    """Read and check config.toml at `path`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    try:
        return _parse(path, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _parse(path: Path, data: dict[str, Any]) -> Config:
    _unknown_tables(data)
    desk = _table(data, "desk")
    _unknown(desk, "desk", {"name", "language", "timezone", "data_dir", "operator", "initials", "website", "group"})
    name = _str(desk, "desk", "name", "webcare")
    language = _str(desk, "desk", "language", "nl")
    if language not in LANGUAGES:
        raise ConfigError(f"[desk] language: {language!r} is not one of {', '.join(LANGUAGES)}")
    tz_name = _str(desk, "desk", "timezone", "Europe/Brussels")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[desk] timezone: {tz_name!r} is not a known time zone (like 'Europe/Brussels')") from None
    data_dir = Path(_str(desk, "desk", "data_dir", "data")).expanduser()
    if not data_dir.is_absolute():
        data_dir = (path.parent / data_dir).resolve()
    operator = resolve_operator(_str(desk, "desk", "operator", ""))
    initials = _str(desk, "desk", "initials", "").strip() or initials_of(operator)
    group = _group(_str(desk, "desk", "group", "").strip())

    clock = _table(data, "clock")
    _unknown(clock, "clock", {"office_hours", "office_hours_channels"})
    office = None
    office_channels: set[str] = set()
    if "office_hours" in clock:
        try:
            office = WeeklyHours.parse(_str(clock, "clock", "office_hours", ""))
        except ValueError as exc:
            raise ConfigError(f"[clock] office_hours: {exc}") from None
    channels = clock.get("office_hours_channels", [])
    if not isinstance(channels, list):
        raise ConfigError("[clock] office_hours_channels: must be a list of channels")
    for ch in channels:
        try:
            office_channels.add(normalize_channel(str(ch)))
        except ValueError as exc:
            raise ConfigError(f"[clock] office_hours_channels: {exc}") from None
    if office_channels and office is None:
        raise ConfigError("[clock] office_hours_channels: set [clock] office_hours too")

    norms_table = {**DEFAULT_NORMS}
    for key, value in _table(data, "norms").items():
        try:
            channel = normalize_channel(key)
        except ValueError as exc:
            raise ConfigError(f"[norms] {key}: {exc}{suggest(key, CHANNELS)}") from None
        if not isinstance(value, str):
            raise ConfigError(f"[norms] {key}: must be a string like '2h', not {value!r}")
        norms_table[channel] = value
    norms: dict[str, Norm] = {}
    for channel in CHANNELS:
        try:
            allowed: timedelta | None = parse_duration(norms_table[channel])
        except ValueError as exc:
            raise ConfigError(f"[norms] {channel}: {exc}") from None
        norms[channel] = Norm(allowed, office if channel in office_channels else None)

    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError("sources: write each source as a [[sources]] table")
    sources = []
    seen_names: set[str] = set()
    for i, entry in enumerate(raw_sources):
        if not isinstance(entry, dict):
            raise ConfigError(f"[[sources]] #{i + 1}: must be a table")
        stype = entry.get("type")
        if not isinstance(stype, str) or not stype:
            raise ConfigError(f"[[sources]] #{i + 1}: type: missing (e.g. type = \"rss\")")
        sname = entry.get("name", f"{stype} {i + 1}")
        if not isinstance(sname, str) or not sname.strip():
            raise ConfigError(f"[[sources]] #{i + 1}: name: must be a non-empty string")
        if sname in seen_names:
            raise ConfigError(f"[[sources]] #{i + 1}: name: {sname!r} is used twice; names must be unique")
        seen_names.add(sname)
        options = {k: v for k, v in entry.items() if k not in ("type", "name")}
        sources.append(SourceConfig(stype, sname, options, i))

    try:
        watch = parse_watch(_table(data, "watch"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None

    scheme_table = data.get("scheme")
    if scheme_table is not None and not isinstance(scheme_table, dict):
        raise ConfigError("[scheme] must be a table")
    try:
        scheme = parse_scheme(DEFAULT_SCHEME if scheme_table is None else scheme_table)
    except SchemeError as exc:
        raise ConfigError(str(exc)) from None
    templates: list[Template] = []
    if "templates" in data:
        from webcare.templates import load_templates

        raw_templates = data["templates"]
        try:
            templates = load_templates(raw_templates if isinstance(raw_templates, list) else [raw_templates])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    try:
        directory = load_directory(data)  # [[experts]], [[units]], [[oncall]]
        roles = load_roles(data, directory)  # [[roles]]
        ambassadors = parse_ambassadors(data.get("ambassadors"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None

    try:
        shifts = parse_shifts(data.get("shifts", DEFAULT_SHIFTS))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    alerts: tuple[AlertTarget, ...] = ()
    if "alerts" in data:
        from webcare.alerts import parse_alerts

        try:
            alerts = parse_alerts(data["alerts"], directory, shifts)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    try:
        trends = TrendParams.from_config(_table(data, "trends"))
    except ValueError as exc:
        raise ConfigError(f"[trends] {exc}") from None

    return Config(
        path=path,
        name=name,
        language=language,
        timezone=tz,
        data_dir=data_dir,
        operator=operator,
        norms=norms,
        sources=tuple(sources),
        keywords=watch.keywords,
        watch=watch,
        shifts=shifts,
        trends=trends,
        crisis=_crisis(data),
        retention=_retention(data, path.parent),
        scheme=scheme,
        templates=tuple(templates),
        directory=directory,
        initials=initials,
        website=_str(desk, "desk", "website", ""),
        raw=data,
        calendar=_calendar(data),
        group=group,
        roles=roles,
        ambassadors=ambassadors,
        alerts=alerts,
        smtp=_smtp(data),
        keys=_keys(data),
        store=_store(data),
    )


def _group(name: str) -> str:
    """[desk] group must name a group this machine knows: the data directory is shared with it
    (folders 2770, files 0660); "" keeps it private to the account (0700, 0600)."""
    if name:
        try:
            grp.getgrnam(name)
        except KeyError:
            raise ConfigError(
                f"[desk] group: {name!r} is not a group on this machine (create it with "
                f"`groupadd {name}` and add the operators, or leave the key out to keep the data "
                "directory private to one account)"
            ) from None
    return name


def _date(value: Any, where: str) -> date:
    """A TOML date (2026-11-16) or a string "2026-11-16"."""
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _calendar(data: dict[str, Any]) -> CalendarSettings:
    """[calendar]: cycle_start (a Monday), holidays (a country code or ""), channels (published
    on), [[calendar.campaigns]]."""
    cal = _table(data, "calendar")
    _unknown(cal, "calendar", {"cycle_start", "holidays", "campaigns", "channels"})
    cycle_start = _date(cal.get("cycle_start", DEFAULT_CYCLE_START), "[calendar] cycle_start")
    if cycle_start.weekday() != 0:
        raise ConfigError(
            f"[calendar] cycle_start: {cycle_start.isoformat()} is a {cycle_start:%A}, not a Monday "
            "(periods of two weeks start on a Monday)"
        )
    # Only the form is checked here: asking the holidays library whether it knows the country
    # costs 60 ms at every start; `webcare check` asks it (check_holidays).
    country = _str(cal, "calendar", "holidays", "").strip().upper()
    if country and not (country.isalpha() and 2 <= len(country) <= 3):
        raise ConfigError(f"[calendar] holidays: {country!r} is not a country code (like 'BE', 'NL', 'DE'), or \"\" for none")

    channels = cal.get("channels", list(DEFAULT_PLAN_CHANNELS))
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ConfigError("[calendar] channels: must be a list of channels, like [\"x\", \"facebook\"]")
    try:
        plan_channels = parse_channels(channels)
    except ValueError as exc:
        raise ConfigError(f"[calendar] channels: {exc}") from None

    raw = cal.get("campaigns", [])
    if not isinstance(raw, list):
        raise ConfigError("[calendar] campaigns: write each campaign as a [[calendar.campaigns]] table")
    campaigns = []
    for i, entry in enumerate(raw):
        where = f"[[calendar.campaigns]] #{i + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: name: missing (e.g. name = \"Week van het bos\")")
        where = f"{where} ({name!r})"
        extra = sorted(set(entry) - {"name", "from", "until", "theme"})
        if extra:
            raise ConfigError(unknown_key(f"{where}: ", extra[0], {"name", "from", "until", "theme"}))
        for key in ("from", "until"):
            if key not in entry:
                raise ConfigError(f"{where}: {key}: missing (a date like 2026-11-16)")
        start = _date(entry["from"], f"{where}: from")
        until = _date(entry["until"], f"{where}: until")
        if until < start:
            raise ConfigError(f"{where}: until: {until.isoformat()} is before from ({start.isoformat()})")
        theme = entry.get("theme", "")
        if not isinstance(theme, str):
            raise ConfigError(f"{where}: theme: must be a string, not {theme!r}")
        campaigns.append(Campaign(name.strip(), start, until, theme.strip().lower()))
    return CalendarSettings(cycle_start, country, tuple(campaigns), plan_channels)
