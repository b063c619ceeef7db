"""The typed way from a screen to the desk app: `desk(self).queue`, `desk(self).session.act(…)`.

Textual types `self.app` as any App; every screen of this desk runs inside a WebcareApp, so the
cast is made once, here, and the type checker sees what a screen may use."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.message_pump import MessagePump

if TYPE_CHECKING:
    from tui.app import WebcareApp


def desk(node: MessagePump) -> WebcareApp:
    """The desk app `node` (a screen, a widget) runs in."""
    return cast("WebcareApp", node.app)
