"""Who may read the data directory: the account that runs the desk, or the operators' group.

The data directory holds citizens' personal data, so nothing in it is ever open to other
accounts on the server. By default it is private: folders 0700, files 0600. Operators who
share one desk through a Unix group (`[desk] group = "webcare"`) get folders 2770 (setgid: a
file made in them belongs to the group, whoever makes it) and files 0660.

Two layers, so that code written later is private without thinking about it:

- `apply(group)` (the command line calls it at start, for every command, the desk and the
  browser desks it starts) sets the process umask to 077, or 007 with a group: any file or
  folder any code makes gets no bits for others, whatever the umask the process was started
  with (a login shell's 022, systemd's 0002).
- the writers in store/ make their files and folders through this module (`create`,
  `make_dir`, `lock`; `write_atomically` and `Journal` use them), which set the exact mode
  whatever the umask: the store used as a library (tests, scripts) is private too.

`secure(data_dir)` closes a directory made too open (by an older version, by hand): the
folder itself at once (one stat when it is already right), everything in it when it was not.
`too_open(data_dir)` lists what is still open, for `webcare check`.
"""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock


@dataclass(frozen=True, slots=True)
class Sharing:
    """The modes a data directory's files and folders get: private, or shared with `gid`."""

    gid: int | None = None  # the operators' group; None: the owner only
    group: str = ""  # its name, for messages

    @property
    def file_mode(self) -> int:
        return 0o600 if self.gid is None else 0o660

    @property
    def dir_mode(self) -> int:
        return 0o700 if self.gid is None else 0o2770

    @property
    def umask(self) -> int:
        return 0o077 if self.gid is None else 0o007

    @property
    def allowed(self) -> int:
        """The permission bits a file or folder may have (the setgid bit aside)."""
        return 0o700 if self.gid is None else 0o770


PRIVATE = Sharing()
_sharing = PRIVATE


def sharing_for(group: str) -> Sharing:
    """The Sharing for `[desk] group` ("" for none); KeyError when no such group exists."""
    if not group:
        return PRIVATE
    return Sharing(grp.getgrnam(group).gr_gid, group)


def apply(group: str = "") -> Sharing:
    """Use `[desk] group` for every file this process makes from now on, and set the umask to
    match. Call it once at start, before anything is written."""
    global _sharing
    _sharing = sharing_for(group)
    os.umask(_sharing.umask)
    return _sharing


def current() -> Sharing:
    return _sharing


def file_mode() -> int:
    return _sharing.file_mode


def dir_mode() -> int:
    return _sharing.dir_mode


def _settle(fd: int, mode: int) -> None:
    """Give a file this process made (or owns) exactly `mode` and the group, whatever the
    umask. A file another operator made is theirs to keep right: it is left as it is."""
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        return
    gid = _sharing.gid
    if gid is not None and st.st_gid != gid:
        try:
            os.fchown(fd, -1, gid)
        except OSError:
            pass  # not in the group: `webcare check` says so
    if stat.S_IMODE(st.st_mode) != mode:
        os.fchmod(fd, mode)


def create(path: str | Path, flags: int) -> int:
    """os.open(path, flags | O_CREAT) for a data file, with the data file mode. Returns the
    descriptor. An existing file made by this account is put right too."""
    mode = _sharing.file_mode
    fd = os.open(path, flags | os.O_CREAT, mode)
    try:
        _settle(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _fix_dir(path: Path) -> None:
    gid = _sharing.gid
    if gid is not None:
        try:
            os.chown(path, -1, gid)  # before the chmod: a chown may clear the setgid bit
        except OSError:
            pass
    os.chmod(path, _sharing.dir_mode)


def make_dir(path: str | Path) -> Path:
    """mkdir -p for a data folder: every folder it makes (missing parents too, so that the
    operators' group can reach it) gets the data folder mode and the group; existing folders
    are left alone. One system call when the folder exists."""
    path = Path(path)
    try:
        os.mkdir(path, 0o700)  # the umask may only take away; the exact mode comes next
    except FileExistsError:
        if not path.is_dir():
            raise
        return path
    except FileNotFoundError:
        make_dir(path.parent)
        return make_dir(path)
    _fix_dir(path)
    return path


def lock(
    path: str | Path, *, timeout: float = -1, poll_interval: float = 0.05, thread_local: bool = True
) -> FileLock:
    """A FileLock whose lock file gets the data file mode (in a shared desk every operator's
    process must be able to open it; nobody else)."""
    return FileLock(
        str(path), timeout=timeout, mode=_sharing.file_mode, thread_local=thread_local,
        poll_interval=poll_interval,
    )


# --- an existing directory ------------------------------------------------------------------


def _entries(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """`root` and everything under it; symbolic links in it are not followed (`root` itself
    may be one: a data directory on another disk)."""
    try:
        yield root, os.stat(root)
    except (FileNotFoundError, NotADirectoryError):  # missing: `check` says so elsewhere
        return
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if not stat.S_ISLNK(st.st_mode):
                yield path, st


def _wrong(st: os.stat_result, sharing: Sharing) -> bool:
    """Whether a file or folder differs from the modes (and group) the data directory wants.
    A file's executable bit for its owner is let be: it gives nobody else anything."""
    if sharing.gid is not None and st.st_gid != sharing.gid:
        return True
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        return mode != sharing.dir_mode
    return mode & ~0o100 != sharing.file_mode


def secure(root: str | Path) -> None:
    """Close a data (or backup) directory that is too open. It is made if missing. When the
    folder itself is right nothing else is looked at (one stat); otherwise every file and
    folder in it that this account owns is given the right mode and group. What another
    account owns is left (they close it at their own start; `webcare check` names it)."""
    root = Path(root)
    try:
        st = os.stat(root)
    except FileNotFoundError:
        make_dir(root)
        return
    if _wrong(st, _sharing):
        fix(root)


def fix(root: str | Path) -> None:
    """Give every file and folder under `root` that this account owns the data directory's
    mode and group (symbolic links are not followed)."""
    me = os.geteuid()
    for path, st in _entries(Path(root)):
        if st.st_uid != me or not _wrong(st, _sharing):
            continue
        try:
            if stat.S_ISDIR(st.st_mode):
                _fix_dir(path)
            elif stat.S_ISREG(st.st_mode):
                if _sharing.gid is not None and st.st_gid != _sharing.gid:
                    os.chown(path, -1, _sharing.gid)
                os.chmod(path, _sharing.file_mode | stat.S_IMODE(st.st_mode) & 0o100)
        except OSError:
            continue  # `webcare check` names what is still open


@dataclass(frozen=True, slots=True)
class Exposure:
    """A file or folder open to more accounts than it should be."""

    path: Path
    mode: int  # permission bits, setgid included
    group: str  # its group's name
    others: bool  # other accounts may read, write or enter it

    def describe(self) -> str:
        folder = self.path.is_dir()
        bits = self.mode & 0o007 if self.others else (self.mode >> 3) & 0o007
        words = [
            word
            for bit, word in ((4, "readable"), (2, "writable"), (1, "enterable" if folder else "executable"))
            if bits & bit
        ]
        who = "every account on the server" if self.others else f"group {self.group!r}"
        kind = "folder" if folder else "file"
        return f"{self.path} ({kind}, mode {self.mode:04o}) is {' and '.join(words)} by {who}"


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def too_open(root: str | Path, sharing: Sharing | None = None) -> list[Exposure]:
    """What under `root` grants others anything, or (privately) grants the group anything.
    With a shared group, group access is expected."""
    sharing = sharing or _sharing
    out = []
    for path, st in _entries(Path(root)):
        mode = stat.S_IMODE(st.st_mode)
        others = bool(mode & 0o007)
        if others or mode & 0o777 & ~sharing.allowed:
            out.append(Exposure(path, mode, _group_name(st.st_gid), others))
    return out


def not_in_group(root: str | Path, sharing: Sharing | None = None) -> list[Path]:
    """With a shared group: files and folders under `root` that belong to another group (the
    other operators may not be able to read them)."""
    sharing = sharing or _sharing
    if sharing.gid is None:
        return []
    return [path for path, st in _entries(Path(root)) if st.st_gid != sharing.gid]


def fix_command(root: str | Path, sharing: Sharing | None = None) -> str:
    """The shell command that gives `root` and everything in it the right modes."""
    sharing = sharing or _sharing
    if sharing.gid is None:
        return f"chmod -R go-rwx {root}"
    return (
        f"chgrp -R {sharing.group} {root} && chmod -R g+rwX,o-rwx {root} && "
        f"find {root} -type d -exec chmod g+s {{}} +"
    )
