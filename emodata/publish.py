"""Publishing a finished build into OUT without ever leaving the path empty, under a lock on OUT.

Atomic swap. A build is written into a temporary folder beside its destination (`OUT/.NAME.tmp-*`).
On Linux it is published with ONE `renameat2(RENAME_EXCHANGE)` system call (through ctypes), which swaps
the two folders atomically: at every instant `OUT/NAME` is either the complete old build or the complete
new one, and the old one is then deleted from the temporary name. A first build (nothing to swap) is a
single `rename`. This keeps `OUT/NAME` a real folder (no symlink indirection that `shutil.rmtree`,
`rsync` or a user's tooling would trip over) and needs no change in any reader.
Fallback (not Linux, or a file system without RENAME_EXCHANGE: EINVAL/ENOSYS): the old build is renamed
aside to `OUT/.NAME.old-PID`, then the new one into place. A kill between those two renames leaves
`OUT/NAME` absent for that instant; `recover` (run by the next build when it takes the lock) moves the
old build back, so the previous build is never lost.

Lock. `OUT/.emodata.lock` holds the PID of the build that has it, under `fcntl.flock(LOCK_EX)`. A
second build into the same OUT refuses with "build in progress by PID N". The kernel releases a flock
when its process dies, so a lock file left by a killed build (its PID no longer running) is taken over,
with a message; taking the lock also removes temporary folders of killed builds. A build removes the
lock file when it ends (a waiting build re-checks that the file it locked is still the one at the path).
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

from emodata.core.errors import EmodataError

LOCK_FILE = ".emodata.lock"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False when the system lacks it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, f"renameat2(RENAME_EXCHANGE) {a} <-> {b}: {os.strerror(err)}")


def _old_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.old-{os.getpid()}")


def publish(tmp: Path, final: Path, exchange: Callable[[Path, Path], bool] | None = None) -> None:
    """Move the finished build `tmp` to `final`; an existing `final` stays complete at its path until the
    swap (see the module docstring), then is deleted. `exchange` (default: renameat2) swaps two paths
    atomically or returns False when it cannot, which selects the fallback."""
    if not final.exists() and not final.is_symlink():
        os.rename(tmp, final)
        return
    if (exchange or _renameat2_exchange)(tmp, final):  # tmp now holds the old build
        shutil.rmtree(tmp)
        return
    old = _old_name(final)
    os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old)


def recover(out: Path, note: Callable[[str], None]) -> None:
    """Repair what killed builds left in OUT (call with the lock held): put back an old build that the
    fallback renamed aside when its replacement never arrived; delete temporary and stale folders."""
    if not out.is_dir():
        return
    for path in sorted(out.iterdir()):
        name = path.name
        if not name.startswith(".") or not path.is_dir() or (".tmp-" not in name and ".old-" not in name):
            continue
        final = out / name[1:].split(".old-")[0].split(".tmp-")[0]
        if ".old-" in name and not final.exists():
            os.rename(path, final)
            note(f"recovered {final} (a killed build had moved it aside to {name})")
        else:
            shutil.rmtree(path, ignore_errors=True)
            note(f"removed {path} left by a killed build")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(handle) -> int | None:
    handle.seek(0)
    text = handle.read().strip()
    return int(text) if text.isdigit() else None


def _open_locked(path: Path, out: Path):
    """Open and flock the lock file; the same inode must still be at `path` (a releasing build unlinks it)."""
    while True:
        handle = open(path, "a+", encoding="ascii")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(handle)
            handle.close()
            raise EmodataError(f"{out}: build in progress by PID {pid if pid is not None else '(unknown)'} "
                               f"(lock {path}); wait for it or build into another --out") from None
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()  # locked a file that its holder had just unlinked: take the new one


@contextlib.contextmanager
def out_lock(out: Path, note: Callable[[str], None]) -> Iterator[None]:
    """Hold the build lock of OUT (see the module docstring); EmodataError when another build has it.
    The lock file is removed on release, so a lock file with a PID in it was left by a killed build.
    An OUT folder that the lock itself created is removed again when nothing was published into it,
    so a refused or failed build leaves nothing behind."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    handle = _open_locked(path, out)
    try:
        stale = _read_pid(handle)
        if stale is not None and stale != os.getpid():
            state = "no longer running" if not _pid_alive(stale) else "running, but not holding the lock"
            note(f"taking over the stale build lock {path} of PID {stale} ({state})")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        recover(out, note)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # still holding the flock: nobody else can be using this inode
        handle.close()  # releases the flock
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty: a published build (or another build's lock) keeps it
