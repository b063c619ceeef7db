"""What the desk says when a write fails or a file was found damaged: what was not saved and
why, in words an operator understands ("niet bewaard: de kalender — schijf vol"), never a
traceback. The words live here, in a table of their own (webcare.i18n.word)."""

from __future__ import annotations

import errno

from store.jsonstorage import StoreError
from webcare.i18n import word
from webcare.store_port import VersionConflict
from webcare.untrusted import clean_line

WORDS: dict[str, dict[str, str]] = {
    "not_saved": {"nl": "niet bewaard", "en": "not saved"},
    "the_calendar": {"nl": "de kalender", "en": "the calendar"},
    "the_crisis_log": {"nl": "het crisislogboek", "en": "the crisis log"},
    "the_note": {"nl": "de notitie", "en": "the note"},
    "disk_full": {"nl": "schijf vol", "en": "disk full"},
    "no_access": {"nl": "geen schrijfrechten", "en": "no permission to write"},
    "read_only": {"nl": "alleen-lezen bestandssysteem", "en": "read-only file system"},
    "lock_busy": {"nl": "schrijfslot bleef bezet", "en": "the write lock stayed busy"},
    "damaged": {"nl": "beschadigd", "en": "damaged"},
    "see_check": {"nl": "zie webcare check", "en": "see webcare check"},
    "more": {"nl": "meer", "en": "more"},
    "housekeeping_failed": {"nl": "onderhoud mislukt", "en": "housekeeping failed"},
    "input_kept": {"nl": "je tekst staat er nog", "en": "your text is still there"},
    "changed_meanwhile": {"nl": "iemand anders wijzigde dit intussen", "en": "someone else changed it meanwhile"},
}

_WHY = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EACCES: "no_access",
        errno.EPERM: "no_access", errno.EROFS: "read_only"}  # fmt: skip


def w(key: str, language: str) -> str:
    return word(key, language, WORDS)


def why(exc: BaseException, language: str) -> str:
    """Why a write failed, in a few words: someone else's change came first, a full disk, no
    permission, the lock, else the error's own (cleaned) text."""
    if isinstance(exc, VersionConflict):  # another desk's change came first: it stays
        return w("changed_meanwhile", language)
    if isinstance(exc, StoreError) and exc.timeout:
        return w("lock_busy", language)
    code = exc.errno if isinstance(exc, (OSError, StoreError)) else None
    key = _WHY.get(code or -1)
    return w(key, language) if key else clean_line(str(exc), 160)


def not_saved(what: str, exc: BaseException, language: str) -> str:
    """'niet bewaard: de kalender — schijf vol'."""
    return f"{w('not_saved', language)}: {what} — {why(exc, language)}"


def damage_line(files: list[str], language: str, shown: int = 2) -> str:
    """'beschadigd: mentions/000003.json — zie webcare check' for the header."""
    names = ", ".join(files[:shown])
    if len(files) > shown:
        names += f" +{len(files) - shown} {w('more', language)}"
    return f"{w('damaged', language)}: {names} — {w('see_check', language)}"
