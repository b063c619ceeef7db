"""The manual stays true and whole: the README short, every relative link leading somewhere in
the project, nothing pointing outside it, the key tables equal to the desk's real bindings,
the scheme's words as the desk has them, the screenshot script working, and the MkDocs site
building with --strict."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

from textual.binding import Binding

import tui
from webcare import scheme

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
README = ROOT / "README.md"

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def prose(text: str) -> str:
    """The text without code: a link inside a code block or `code` is not a link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs' toc makes it (and GitHub, for the headings used here)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    """The anchors of `path`'s headings (`code` in a heading keeps its text)."""
    headings = HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))
    return {slug(INLINE_CODE.sub(lambda m: m.group(0)[1:-1], h)) for h in headings}


def test_readme_is_under_16_kb() -> None:
    assert len(README.read_bytes()) < 16 * 1024


def test_quick_start_keeps_its_two_commands() -> None:
    # .ci/run runs the second line of the first code block after "## Quick start".
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```", 2)[1]
    lines = block.strip("\n").split("\n")[1:]  # after the language tag
    assert lines == ["pip install . && webcare", "pip install '.[test]' && python -m pytest -n 2"]


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in [README, *PAGES]:
        for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.is_relative_to(ROOT) or not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_nothing_refers_to_files_outside_the_project() -> None:
    # Spelt in pieces so this file does not find itself.
    outside = [".." + "/shared", "shared" + "/reaction-scheme", "DESIGN" + ".md"]
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    found = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file() or path.suffix in {".svg", ".png", ".gz", ".zip", ".eml"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {needle}" for needle in outside if needle in text]
    assert found == []


# --- keys -------------------------------------------------------------------------------

# Textual's names for keys that the tables write as the character itself.
CHARACTERS = {
    "slash": "/", "question_mark": "?", "colon": ":", "exclamation_mark": "!",
    "left_square_bracket": "[", "right_square_bracket": "]",
}
KEY_TABLE = "| key | id | does |"


def code_bindings() -> dict[str, set[str]]:
    """Every binding with an id in the desk's code: id → its keys."""
    found: dict[str, set[str]] = {}
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        if info.name == "tui.serve":  # the browser server: no bindings, and textual-serve's imports
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for b in cls.__dict__.get("BINDINGS", []):
                if isinstance(b, Binding) and b.id:
                    found[b.id] = {CHARACTERS.get(k.strip(), k.strip()) for k in b.key.split(",")}
    return found


def documented_bindings() -> dict[str, set[str]]:
    """Every row of the manual's key tables (`| key | id | does |`): id → its keys."""
    found: dict[str, set[str]] = {}
    for page in PAGES:
        in_table = False
        for line in page.read_text(encoding="utf-8").split("\n"):
            if line.strip() == KEY_TABLE:
                in_table = True
                continue
            if not in_table or not line.startswith("|"):
                in_table = False
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set(cells[0]) <= {"-"}:
                continue
            ids = re.findall(r"`([^`]+)`", cells[1])
            assert len(ids) == 1, f"{page.name}: {line}"
            assert ids[0] not in found, f"{page.name}: {ids[0]} documented twice"
            found[ids[0]] = set(re.findall(r"`([^`]+)`", cells[0]))
    return found


def test_key_tables_match_the_desks_bindings_both_ways() -> None:
    code, docs = code_bindings(), documented_bindings()
    assert len(code) > 100  # the walk found the desk's screens
    assert sorted(set(code) - set(docs)) == [], "bindings the manual does not list"
    assert sorted(set(docs) - set(code)) == [], "the manual lists bindings the desk has not"
    wrong = {i: (docs[i], code[i]) for i in code if docs[i] != code[i]}
    assert wrong == {}, "documented keys (left) differ from the desk's (right)"


def test_the_stream_keys_are_in_the_desk_page() -> None:
    desk = (DOCS / "desk.md").read_text(encoding="utf-8")
    for binding_id in code_bindings():
        if binding_id.startswith(("stream.", "app.")):
            assert f"`{binding_id}`" in desk, binding_id


def test_triage_page_has_the_schemes_dutch_words() -> None:
    page = (DOCS / "triage.md").read_text(encoding="utf-8")
    for question in scheme.DEFAULT["questions"]:
        assert question["text"]["nl"] in page, question["id"]
        for option in question["options"]:
            assert f"{option['label']['nl']} → {option['goto']}" in page, question["id"]
    for leaf in scheme.DEFAULT["leaves"]:
        assert f"| {leaf['id']} | {leaf['action']['nl']} |" in page, leaf["id"]


# --- the screenshots and the site --------------------------------------------------------


async def test_screenshot_script_makes_a_picture_of_the_desk(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("screenshots", DOCS / "screenshots.py")
    assert spec is not None and spec.loader is not None
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    path = await screenshots.shoot("stream", tmp_path)
    svg = path.read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    text = svg.replace("&#160;", " ")
    assert "Vlaamse Landmaatschappij" in text and "te laat" in text
    for name in screenshots.SCREENS:  # every picture the manual shows is committed
        assert (DOCS / "images" / f"{name}.svg").is_file(), name


def test_mkdocs_builds_the_manual_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for page in ["index.html", "desk/index.html", "triage/index.html", "design/index.html"]:
        assert (site / page).is_file(), page
    assert (site / "images" / "stream.svg").is_file()
