"""The manual's key tables say exactly what webcare accepts: each source page lists one row per
key its type reads, and docs/configuration.md names every table and key webcare/config.py
checks. A key added to the code without the docs (or the other way round) fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sources.registry import TYPES, option_keys

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def table_keys(markdown: str) -> list[str]:
    """The first column's `key` of every row of the tables whose header begins `| key |`."""
    keys: list[str] = []
    in_table = False
    for line in markdown.splitlines():
        if line.startswith("| key |"):
            in_table = True
        elif in_table and line.startswith("|"):
            cell = line.split("|")[1].strip()
            if not set(cell) <= set("-: "):
                keys.append(cell.strip("`"))
        else:
            in_table = False
    return keys


def sections(markdown: str) -> dict[str, str]:
    """`## heading` → the text under it, up to the next `## `."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def config_checks() -> dict[str, set[str] | None]:
    """The top-level tables webcare/config.py reads (`_table(data, "x")`, `data.get("x")`), with
    the keys it allows for those it checks with `_unknown(table, "x", {...})` (None: the table's
    keys are checked by the module that parses it)."""
    tree = ast.parse((ROOT / "webcare" / "config.py").read_text(encoding="utf-8"))
    found: dict[str, set[str] | None] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        words = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if isinstance(func, ast.Name) and func.id == "_unknown" and isinstance(node.args[2], ast.Set):
            found[words[0]] = {str(e.value) for e in node.args[2].elts if isinstance(e, ast.Constant)}
        elif isinstance(func, ast.Name) and func.id == "_table" and words:
            found.setdefault(words[0], None)
        elif isinstance(func, ast.Attribute) and func.attr == "get" and getattr(func.value, "id", "") == "data" and words:
            found.setdefault(words[0], None)
    return found


def tables_read_elsewhere() -> set[str]:
    """Top-level tables other modules take from the whole file: `config.raw.get("smtp")`,
    `_entries(raw_config, "experts")`."""
    pattern = re.compile(r'config\.raw\.get\("(\w+)"|_entries\(\w+, "(\w+)"\)')
    return {
        a or b
        for folder in ("webcare", "sources", "tui")
        for path in (ROOT / folder).rglob("*.py")
        for a, b in pattern.findall(path.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize("source_type", sorted(TYPES))
def test_each_source_page_lists_exactly_the_keys_its_type_accepts(source_type: str) -> None:
    page = DOCS / "sources" / f"{source_type}.md"
    listed = table_keys(page.read_text(encoding="utf-8"))
    assert len(listed) == len(set(listed)), f"{page.name}: a key is listed twice"
    accepted = option_keys(source_type)
    assert not set(listed) - accepted, f"{page.name} lists keys the source does not accept: {sorted(set(listed) - accepted)}"
    assert not accepted - set(listed), f"{page.name} leaves out keys the source accepts: {sorted(accepted - set(listed))}"


def test_the_sources_index_links_every_type() -> None:
    index = (DOCS / "sources" / "index.md").read_text(encoding="utf-8")
    for source_type in TYPES:
        assert f"({source_type}.md)" in index


def test_configuration_names_every_table_and_key_config_py_checks() -> None:
    checks: dict[str, set[str] | None] = dict.fromkeys(tables_read_elsewhere())
    checks.update(config_checks())
    # the helpers still find what they look for
    assert {"desk", "clock", "norms", "retention", "calendar", "experts", "smtp", "keys"} <= set(checks)
    page = sections((DOCS / "configuration.md").read_text(encoding="utf-8"))
    for table, keys in checks.items():
        heading = next((h for h in page if f"[{table}]" in h or f"[[{table}]]" in h), None)
        assert heading, f"docs/configuration.md has no section for [{table}]"
        if keys is not None:
            listed = set(table_keys(page[heading]))
            assert listed == keys, f"[{table}]: the page lists {sorted(listed)}, config.py allows {sorted(keys)}"


def test_the_table_helper_reads_rows_not_separators() -> None:
    text = "| key | default |\n|---|---|\n| `url` | x |\n| `every` | y |\n\nmore\n| other | table |\n|---|---|\n| `no` | z |\n"
    assert table_keys(text) == ["url", "every"]


def test_the_export_fields_are_documented() -> None:
    from webcare.mention import Mention

    page = sections((DOCS / "operations" / "index.md").read_text(encoding="utf-8"))["Exporting mentions"]
    documented = [
        name.strip().strip("`")
        for row in page.splitlines()
        if row.startswith("| `")
        for name in row.split("|")[1].split(",")
    ]
    assert len(documented) == len(set(documented))
    assert set(documented) == set(Mention.export_fields())
