"""The layering docs/design.md describes ("The layers"), as import-linter contracts
(pyproject.toml's [tool.importlinter]): the domain imports no adapter and no UI, network or
storage library, the store no source and the adapters no UI; `webcare.cli`, the composition
root, alone wires them all.
.ci/run runs `lint-imports` too; this test keeps the README's test command checking the layers."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webcare", "sources", "store", "tui")
# lint-imports as its console script would run it, but with this interpreter (the one that has
# the test extra), without a cache directory left in the checkout.
LINT_IMPORTS = [sys.executable, "-c",
                "from importlinter.cli import lint_imports_command; lint_imports_command()",
                "--no-cache"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # lint-imports puts its working directory first on the path, so it reads the code there (not
    # an installed copy of webcare).
    return subprocess.run(LINT_IMPORTS, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_project_keeps_its_layers():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_crossed_layer_fails_the_check(tmp_path):
    """The contracts bite: each rule the hand-written layer test enforced still fails the check."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    # Imports inside functions count as much as those at the top.
    (tmp_path / "webcare" / "crossing.py").write_text(
        "def load():\n    from store import Store\n    import rich\n    return Store, rich\n")
    (tmp_path / "store" / "crossing.py").write_text("import sources.poller\nimport textual\n")
    (tmp_path / "sources" / "crossing.py").write_text("import tui.app\nimport webcare.cli\n")

    done = lint_imports(tmp_path)

    assert done.returncode != 0
    report = done.stdout
    assert "webcare is not allowed to import store" in report
    assert "webcare is not allowed to import rich" in report
    assert "store is not allowed to import sources" in report
    assert "store is not allowed to import textual" in report
    assert "sources is not allowed to import tui" in report
    assert "sources is not allowed to import webcare.cli" in report
