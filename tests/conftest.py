"""Shared fixtures: a config.toml on disk, and a clock the tests move by hand."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from webcare.config import Config, load


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # a Monday, 10:00 in Brussels


BASE_CONFIG = """
[desk]
name = "Testdesk"
language = "{language}"
timezone = "Europe/Brussels"
data_dir = "data"
operator = "tester"

[norms]
x = "2h"
facebook = "4h"
email = "8h"
news = "none"

[watch]
keywords = ["VLM", "Vlaamse Landmaatschappij", "mestbank"]
"""


def write_config(tmp_path: Path, extra: str = "", language: str = "nl") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(BASE_CONFIG.format(language=language) + textwrap.dedent(extra), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path):
    """make_config(extra_toml="", language="nl") -> Config, written to tmp_path/config.toml."""

    def make(extra: str = "", language: str = "nl") -> Config:
        return load(write_config(tmp_path, extra, language))

    return make
