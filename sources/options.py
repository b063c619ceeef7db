"""Reading a [[sources]] entry's own keys, with errors that name the key.

Every source type declares its keys as a frozen dataclass (`text`, `duration`, `flag` … below
make its fields) and reads an entry with `read`, which checks each value through `Options` and
refuses unknown keys with a "did you mean", so a typo ("ulr = ...") is caught by
`webcare check` instead of silently ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import Field, field, fields
from datetime import date as _date
from datetime import datetime as _datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from sources.source import OptionError
from webcare.channels import normalize_channel
from webcare.config import SourceConfig
from webcare.known import suggest
from webcare.norms import parse_duration

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|m|min|h|hour)\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.IGNORECASE)


class Options:
    """The options of one source entry, read key by key with the checks and messages every
    type shares (`read` below drives it from the type's dataclass); `done()` after reading
    rejects unknown keys."""

    def __init__(self, sc: SourceConfig) -> None:
        self._values: dict[str, Any] = dict(sc.options)
        self._read: set[str] = set()

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self._values.get(key)

    def given(self, key: str) -> bool:
        """Whether the entry has `key` (and so it is read, not unknown)."""
        return self._get(key) is not None

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        value = self._get(key)
        if value is None:
            if required:
                raise OptionError(f"{key}: missing")
            return default or ""
        if not isinstance(value, str):
            raise OptionError(f"{key}: must be a string, not {value!r}")
        return value

    def url(self, key: str, default: str = "", *, required: bool = False) -> str:
        """An http(s) base address, without a trailing slash ("" when unset and no default)."""
        url = self.text(key, default, required=required).strip().rstrip("/")
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise OptionError(f"{key}: {url!r} is not an http:// or https:// address")
        return url

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise OptionError(f"{key}: must be true or false, not {value!r}")
        return value

    def whole(self, key: str, default: int, minimum: int = 0) -> int:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise OptionError(f"{key}: must be a whole number ≥ {minimum}, not {value!r}")
        return value

    def seconds(self, key: str, default: str) -> float:
        """A duration like '5m', '30s', '2h' in seconds; never 0 or less (an interval, a
        timeout or a look-back of nothing is a mistake)."""
        text = self.text(key, default)
        m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*s(?:ec)?\s*$", text)
        if m:
            if float(m[1]) <= 0:
                raise OptionError(f"{key}: must be longer than 0 seconds")
            return float(m[1])
        try:
            value = parse_duration(text)
        except ValueError:
            value = None
        if value is None:
            raise OptionError(f"{key}: {text!r} is not a duration like '30s', '5m' or '1h'")
        if value.total_seconds() <= 0:
            raise OptionError(f"{key}: must be longer than 0 seconds")
        return value.total_seconds()

    def rate(self, key: str, default: str) -> float:
        """A rate like '6/min' in events per second."""
        text = self.text(key, default)
        m = _RATE.match(text)
        if not m or float(m[1]) <= 0:
            raise OptionError(f"{key}: {text!r} is not a rate like '6/min', '1/s' or '30/hour'")
        per = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}[m[2]]
        return float(m[1]) / per

    def size(self, key: str, default: str) -> int:
        """A size like '10MB' or '512kB' in bytes."""
        value = self._get(key)
        text = default if value is None else str(value)
        m = _SIZE.match(text)
        if not m or float(m[1]) <= 0:
            raise OptionError(f"{key}: {text!r} is not a size like '10MB' or '512kB'")
        unit = (m[2] or "b").lower()[0]
        return int(float(m[1]) * {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit])

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        """One of `allowed` (e.g. replies = "send" | "dry-run" | "off")."""
        text = self.text(key, default)
        if text not in allowed:
            raise OptionError(
                f"{key}: {text!r} is not one of {', '.join(repr(a) for a in allowed)}"
            )
        return text

    def strs(self, key: str) -> list[str]:
        """A list of strings (hashtags, queries, page ids); a single string counts as one."""
        value = self._get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise OptionError(f"{key}: must be a list of non-empty strings, not {value!r}")
        return [v.strip() for v in value]

    def day(self, key: str) -> _date | None:
        """A date: a TOML date (2027-02-01) or the same as a string; None when absent."""
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, _date) and not isinstance(value, _datetime):
            return value
        if isinstance(value, str):
            try:
                return _date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise OptionError(f"{key}: must be a date like 2027-02-01, not {value!r}")

    def replies(self) -> str:
        """The `replies` key every source that can post shares: "send" (after the operator
        confirms), "dry-run" (show what would be sent, send nothing) or "off"."""
        return self.choice("replies", "send", ("send", "dry-run", "off"))

    def channel(self, key: str, default: str) -> str:
        text = self.text(key, default)
        try:
            return normalize_channel(text)
        except ValueError as exc:
            raise OptionError(f"{key}: {exc}") from None

    def secret(self, key: str) -> str | None:
        """The value of the environment variable named by `key` (e.g. token_env), if set."""
        name = self.text(key)
        return os.environ.get(name) if name else None

    def done(self) -> None:
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise OptionError(f"{unknown[0]}: unknown key for this source type{suggest(unknown[0], self._read)}")


# --- typed options ------------------------------------------------------------------------
#
# Each source type declares its keys as a frozen dataclass: the field's name is the key, its
# type and default are the key's, and its metadata says how the value is read (a duration, a
# size, an address …) and what the key is for in one line ("help"). `read` turns a [[sources]]
# entry into one, with the same checks and messages as the `Options` methods above, and
# refuses unknown keys with a "did you mean"; `webcare check` and the docs' key tables list the
# same fields (sources.registry.option_keys).


def _option(default: Any, help: str, kind: str, **more: Any) -> Any:
    return field(default=default, metadata={"help": help, "kind": kind, **more})


def text(help: str, default: str = "", *, required: bool = False) -> Any:
    """A string (surrounding spaces dropped)."""
    return _option(default, help, "text", required=required)


def env(help: str, *, required: bool = False) -> Any:
    """The name of an environment variable that holds a secret (a `*_env` key); the secret
    itself is read with `secret(name)`, never from the file."""
    return _option("", help, "text", required=required, env=True)


def address(help: str, default: str = "", *, required: bool = False) -> Any:
    """An http(s) base address, without a trailing slash (Options.url)."""
    return _option(default, help, "url", required=required)


def flag(help: str, default: bool | None) -> Any:
    """true or false; None as default: the source decides from the other keys."""
    return _option(default, help, "bool")


def number(help: str, default: int | None, *, minimum: int = 0) -> Any:
    """A whole number ≥ `minimum`; None as default: the source decides."""
    return _option(default, help, "int", minimum=minimum)


def duration(help: str, default: str) -> Any:
    """A duration like "5m" in the file, seconds in the field."""
    return _option(_seconds_of(default), help, "seconds", text=default)


def size(help: str, default: str) -> Any:
    """A size like "10MB" in the file, bytes in the field."""
    return _option(_bytes_of(default), help, "size", text=default)


def rate(help: str, default: str) -> Any:
    """A rate like "6/min" in the file, events per second in the field."""
    return _option(_per_second_of(default), help, "rate", text=default)


def choice(help: str, default: str, allowed: tuple[str, ...]) -> Any:
    return _option(default, help, "choice", allowed=allowed)


def replies() -> Any:
    """The `replies` key every source that can post shares (Options.replies)."""
    return choice("send (after the operator confirms), dry-run (say what would be sent) or off",
                  "send", ("send", "dry-run", "off"))


def channel(help: str, default: str) -> Any:
    return _option(default, help, "channel")


def texts(help: str) -> Any:
    """A list of non-empty strings; a single string counts as one."""
    return _option((), help, "strs")


def day(help: str) -> Any:
    """A date like 2027-02-01 (a TOML date or the same as a string); None when absent."""
    return _option(None, help, "date")


def secret(name: str) -> str | None:
    """The value of the environment variable `name` (an `*_env` key's value), if set."""
    return os.environ.get(name) if name else None


def _seconds_of(text: str) -> float:
    return Options(SourceConfig("", "", {"d": text}, 0)).seconds("d", text)


def _bytes_of(text: str) -> int:
    return Options(SourceConfig("", "", {"d": text}, 0)).size("d", text)


def _per_second_of(text: str) -> float:
    return Options(SourceConfig("", "", {"d": text}, 0)).rate("d", text)


if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")  # a source's options dataclass


def read(options: type[T], sc: SourceConfig) -> T:
    """The entry's keys as an `options` dataclass: every field read as its metadata says
    (OptionError naming the key when a value is wrong or a required key missing), then any key
    the dataclass does not have refused, with a "did you mean"."""
    opts = Options(sc)
    values: dict[str, Any] = {}
    for f in fields(options):
        values[f.name] = _read_one(opts, f)
    opts.done()
    return options(**values)


def _read_one(opts: Options, f: Field[Any]) -> Any:
    meta, key, default = f.metadata, f.name, cast(Any, f.default)
    kind = meta["kind"]
    if kind == "text":
        return opts.text(key, default, required=meta["required"]).strip()
    if kind == "url":
        return opts.url(key, default, required=meta["required"])
    if kind == "bool":
        return opts.flag(key, False) if opts.given(key) else default
    if kind == "int":
        return opts.whole(key, 0, minimum=meta["minimum"]) if opts.given(key) else default
    if kind == "seconds":
        return opts.seconds(key, meta["text"])
    if kind == "size":
        return opts.size(key, meta["text"])
    if kind == "rate":
        return opts.rate(key, meta["text"])
    if kind == "choice":
        return opts.choice(key, default, meta["allowed"])
    if kind == "channel":
        return opts.channel(key, default)
    if kind == "strs":
        return tuple(opts.strs(key))
    if kind == "date":
        return opts.day(key)
    raise AssertionError(f"{key}: unknown option kind {kind!r}")


def keys(options: type) -> dict[str, str]:
    """Key → its one-line help, in the order the dataclass declares them."""
    return {f.name: f.metadata["help"] for f in fields(options)}


def table(options: type) -> list[tuple[str, str, str]]:
    """(key, default as written in config.toml, help) for each key, in declared order: the rows
    of a key table in the docs. The default is "(required)" for a required key and "" where
    the source decides from the other keys."""
    rows = []
    for f in fields(options):
        meta, default = f.metadata, cast(Any, f.default)
        if meta.get("required"):
            shown = "(required)"
        elif "text" in meta:
            shown = f'"{meta["text"]}"'
        elif default is None or default == () or (default == "" and meta["kind"] != "choice"):
            shown = ""
        elif isinstance(default, bool):
            shown = "true" if default else "false"
        elif isinstance(default, str):
            shown = f'"{default}"'
        else:
            shown = str(default)
        rows.append((f.name, shown, meta["help"]))
    return rows


def required_keys(options: type) -> set[str]:
    return {f.name for f in fields(options) if f.metadata.get("required")}


def to_config(value: Any) -> dict[str, Any]:
    """An options dataclass back as a [[sources]] entry's keys (what `read` reads to the same
    value): durations in seconds, sizes in bytes, rates per hour; unset keys left out."""
    out: dict[str, Any] = {}
    for f in fields(value):
        v = getattr(value, f.name)
        kind = f.metadata["kind"]
        if v is None or (kind in ("text", "url") and v == "") or (kind == "strs" and not v):
            continue
        if kind == "seconds":
            v = f"{_number(v)}s"
        elif kind == "size":
            v = str(v)
        elif kind == "rate":
            v = f"{_number(v * 3600)}/hour"
        elif kind == "strs":
            v = list(v)
        out[f.name] = v
    return out


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
