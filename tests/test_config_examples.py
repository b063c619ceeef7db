"""The bundled config.toml's commented examples are true: each [[sources]] block, uncommented,
is a valid source of its type (so a team can copy one and fill in its own names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.registry import build_sources
from webcare.config import load

ROOT = Path(__file__).resolve().parent.parent


def _commented_source_blocks() -> list[str]:
    blocks, current = [], None
    for line in (ROOT / "config.toml").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("# [[sources]]"):
            if current:
                blocks.append("\n".join(current))
            current = [stripped[2:]]
        elif current is not None and stripped.startswith("# ") and not stripped.startswith("# #"):
            current.append(stripped[2:])
        elif current is not None and stripped.startswith("# #"):
            continue  # a comment inside the example
        elif current is not None:
            blocks.append("\n".join(current))
            current = None
    if current:
        blocks.append("\n".join(current))
    return blocks


BLOCKS = _commented_source_blocks()


def test_every_source_type_has_an_example() -> None:
    types = {line.split('"')[1] for b in BLOCKS for line in b.splitlines() if line.startswith("type =")}
    assert {"rss", "mastodon", "bluesky", "imap", "reddit", "youtube", "x", "facebook", "instagram", "linkedin"} <= types


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[1] if len(b.splitlines()) > 1 else b for b in BLOCKS])
def test_each_example_is_a_valid_source(tmp_path: Path, block: str) -> None:
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(shipped.replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"') + "\n" + block + "\n")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "own-ca.pem").write_text("")
    sources = build_sources(load(config))
    assert len(sources) == 2  # the demo and the example


def _commented_table(name: str) -> str:
    """The commented example of [name] in config.toml, uncommented (its lines up to the first
    line that is not a comment)."""
    lines = (ROOT / "config.toml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# [{name}]"))
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        block.append(line[2:])
    return "\n".join(block)


def test_the_store_example_is_valid(tmp_path: Path) -> None:
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(shipped + "\n" + _commented_table("store") + "\n")
    store = load(config).store
    assert store is not None and store.url.startswith("postgresql://") and store.password_env
