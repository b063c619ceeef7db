"""Reading a [[sources]] entry's own keys, with errors that name the key.

Every source type reads its options through `Options`; unknown keys are reported, so a typo
("ulr = ...") is caught by `webcare check` instead of silently ignored.
"""

from __future__ import annotations

import os
import re
from datetime import date as _date
from datetime import datetime as _datetime
from typing import Any
from urllib.parse import urlsplit

from sources.source import OptionError
from webcare.channels import normalize_channel
from webcare.config import SourceConfig, suggest
from webcare.norms import parse_duration

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|m|min|h|hour)\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.IGNORECASE)


class Options:
    """The options of one source entry; call `done()` after reading to reject unknown keys."""

    def __init__(self, sc: SourceConfig) -> None:
        self._values: dict[str, Any] = dict(sc.options)
        self._read: set[str] = set()

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self._values.get(key)

    def str(self, key: str, default: str | None = None, *, required: bool = False) -> str:
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
        url = self.str(key, default, required=required).strip().rstrip("/")
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise OptionError(f"{key}: {url!r} is not an http:// or https:// address")
        return url

    def bool(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise OptionError(f"{key}: must be true or false, not {value!r}")
        return value

    def int(self, key: str, default: int, minimum: int = 0) -> int:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise OptionError(f"{key}: must be a whole number ≥ {minimum}, not {value!r}")
        return value

    def seconds(self, key: str, default: str) -> float:
        """A duration like '5m', '30s', '2h' in seconds; never 0 or less (an interval, a
        timeout or a look-back of nothing is a mistake)."""
        text = self.str(key, default)
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
        text = self.str(key, default)
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
        text = self.str(key, default)
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

    def date(self, key: str) -> _date | None:
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
        text = self.str(key, default)
        try:
            return normalize_channel(text)
        except ValueError as exc:
            raise OptionError(f"{key}: {exc}") from None

    def secret(self, key: str) -> str | None:
        """The value of the environment variable named by `key` (e.g. token_env), if set."""
        name = self.str(key)
        return os.environ.get(name) if name else None

    def done(self) -> None:
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise OptionError(f"{unknown[0]}: unknown key for this source type{suggest(unknown[0], self._read)}")
