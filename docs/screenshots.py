"""Make the manual's screenshots from the real desk: `python docs/screenshots.py` writes
docs/images/<screen>.svg.

Each screen is the real app under Textual's Pilot on the bundled config.toml, in a data
directory of its own filled with the demo source's backlog, at a fixed size and on a fixed
clock, so the same code gives the same pictures and they change only when the desk does.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: the desk's code is in ROOT
    sys.path.insert(0, str(ROOT))

from sources.demo import DemoSource  # noqa: E402
from sources.poller import Poller  # noqa: E402
from store import Store  # noqa: E402
from tui.app import WebcareApp  # noqa: E402
from webcare.config import Config, load  # noqa: E402
from webcare.intake import Intake  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"
SIZE = (100, 30)  # wide enough for the detail pane beside the stream (tui/screens/stream.py WIDE)
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday morning in the first plan period
OPERATOR = "An"

# The key presses that lead from the stream to each screen.
SCREENS: dict[str, tuple[str, ...]] = {
    "stream": (),
    "detail": ("j", "j", "enter"),
    "triage": ("j", "t", "n"),
    "calendar": ("c",),
    "dashboard": ("R",),
}


def demo_config(folder: Path) -> Config:
    """The bundled config.toml with its data directory in `folder` and a named operator."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^operator = ".*?"', f'operator = "{OPERATOR}"', text, count=1)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


async def fill(config: Config) -> None:
    """One poll of the demo source by the real collector, at NOW: its backlog (every urgency on
    it) is stored, and the collector's heartbeat too, so the header says it runs."""
    source = DemoSource.from_config(config.sources[0], config)
    source._clock = lambda: NOW  # the backlog is published over the hours before the clock
    await Poller([source], Intake(config), Store(config.data_dir), clock=lambda: NOW).poll_once()


async def shoot(screen: str, out_dir: Path = IMAGES) -> Path:
    """Save `screen` (a key of SCREENS) as out_dir/<screen>.svg and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        config = demo_config(Path(tmp))
        await fill(config)
        app = WebcareApp(config, Store(config.data_dir), make_poller=None, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for key in SCREENS[screen]:
                await pilot.press(key)
                await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            path = out_dir / f"{screen}.svg"
            app.save_screenshot(path.name, str(out_dir))
    return path


async def main(screens: list[str]) -> None:
    for screen in screens or list(SCREENS):
        print(await shoot(screen))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
