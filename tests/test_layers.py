"""The layering the README's "Design" describes: the domain and the adapters never import the UI."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI = {"textual", "rich", "tui"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package,forbidden", [
    ("webcare", UI | {"sources", "store"}),
    ("store", UI | {"sources"}),
    ("sources", UI),
])
def test_inner_layers_do_not_import_outer_ones(package, forbidden):
    for path in sorted((ROOT / package).rglob("*.py")):
        if path.name == "cli.py" and package == "webcare":
            continue  # the composition root wires everything together
        bad = imports(path) & forbidden
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
