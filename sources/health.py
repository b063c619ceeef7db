"""The health of one source as the desk shows it: ok or failing, last error, last success."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from webcare.mention import from_iso, to_iso


@dataclass(slots=True)
class SourceHealth:
    name: str
    state: str = "starting"  # starting | ok | failing | rate-limited
    last_error: str = ""
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    next_attempt: datetime | None = None
    failures: int = 0  # consecutive
    fetched: int = 0  # items in the last successful fetch
    new: int = 0  # new mentions stored from the last successful fetch
    rate_limited_until: datetime | None = None  # when the platform lets us ask again
    live: bool = False  # a live connection (streaming, IDLE) is up
    live_error: str = ""  # why the live connection last dropped
    # When the source's token stops working (YYYY-MM-DD, from its `token_expires` key) and
    # whose token it is ("LinkedIn"): the header says so a week ahead.
    token_expires: str = ""
    token_label: str = ""
    # The collector that collects it (sources.poller.collector_name): with several collectors
    # on one database, which one to look at when it fails.
    collector: str = ""

    def to_record(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("last_success", "last_attempt", "next_attempt", "rate_limited_until"):
            d[key] = to_iso(d[key])
        return d

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> SourceHealth:
        h = cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
        for key in ("last_success", "last_attempt", "next_attempt", "rate_limited_until"):
            setattr(h, key, from_iso(getattr(h, key)))
        return h
