"""One rule for every path a build lists: it resolves inside the build folder, or it is refused.

A manifest or `checksums.sha1` is data read from disk, so the paths in it are untrusted: `../x`, an
absolute path or a symlink that leads out of the build would make `verify` hash, and `load`, `export`,
`query`, `report` and the trainer read, a file the build never froze. Every reader resolves such a path
through `inside_build`, which follows symlinks (`Path.resolve`) and refuses anything that does not end
up under the (resolved) build root, naming the file that listed the path and the path itself.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from emodata.core.errors import EmodataError


def inside_build(root: str | Path, rel: object, listed_in: str | Path) -> Path:
    """The absolute path of `rel` under the build `root`; EmodataError (naming `listed_in` and `rel`) when
    `rel` is not a relative POSIX path or resolves (symlinks followed) outside the build."""
    if not isinstance(rel, str) or not rel or "\0" in rel or "\\" in rel:
        raise EmodataError(f"{listed_in}: path {rel!r} is not a relative path inside the build")
    if PurePosixPath(rel).is_absolute() or rel.startswith("~"):
        raise EmodataError(f"{listed_in}: path {rel!r} is absolute; a build lists paths relative to its folder")
    base = Path(root).resolve()
    resolved = (base / rel).resolve()
    if resolved != base and base not in resolved.parents:
        raise EmodataError(f"{listed_in}: path {rel!r} resolves to {resolved}, outside the build folder {base}")
    return resolved
