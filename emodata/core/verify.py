"""Verifying a whole build (`emodata verify`, and the trainer before it reads): re-hash and re-count
every file a build holds, naming each mismatch.

What is checked (an empty problem list means all of it holds):
- every shard, JSONL export, the index and every artifact the manifest lists: present, SHA-1 as listed,
  Parquet row counts and JSONL line counts as listed; role counts add up;
- `checksums.sha1`: well-formed, lists every file of the build (the manifest's own line included, so a
  deleted line fails), each with its current SHA-1, and agrees with the manifest's SHA-1s;
- no extra files: a file in the build that `checksums.sha1` does not list is named (`report`,
  `qc --docs` and `export` write beside the build, into `OUT/NAME-derived/`, never into it). The one
  exception is `run.json` (`RUN_FILE`) at the build root: the run record (engine, workers, stage
  seconds) differs from run to run, so it is kept out of the manifest's hashed bytes and out of
  `checksums.sha1` (which stay byte-identical across engines and workers); it is informational only,
  never read by a consumer, and tolerated here without a check.
Every path read from the manifest or `checksums.sha1` must resolve inside the build
(`emodata.core.safepath.inside_build`); one that does not raises EmodataError naming the file and the path.
Each listed file is checked as the shard reader checks it (`emodata.core.reader.file_problem`), here
collected into a list of problems instead of raised.
"""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

from emodata.core.errors import VerificationError
from emodata.core.hashing import sha1_file
from emodata.core.manifest import Manifest
from emodata.core.reader import file_problem
from emodata.core.safepath import inside_build

CHECKSUMS = "checksums.sha1"
#: The run record at the build root: named by the manifest (`run`), neither hashed nor checked.
RUN_FILE = "run.json"


def _check_file(path: Path, rel: str, sha1: str, problems: list[str]) -> bool:
    """Check one file's SHA-1, appending what is wrong to `problems`."""
    problem = file_problem(path, sha1)
    if problem:
        problems.append(f"{rel}: {problem}")
    return problem is None


def _listed_files(manifest: Manifest) -> dict[str, tuple[str, int | None, str]]:
    """rel path → (SHA-1, rows or None, kind) of every file the manifest lists."""
    listed: dict[str, tuple[str, int | None, str]] = {}
    for entry in [*manifest.data["shards"], manifest.data["index"]]:
        listed[entry["path"]] = (entry["sha1"], entry["rows"], "parquet")
        if "jsonl" in entry:
            listed[entry["jsonl"]["path"]] = (entry["jsonl"]["sha1"], entry["rows"], "jsonl")
    for artifact in manifest.data.get("artifacts", []):
        listed[artifact["path"]] = (artifact["sha1"], None, "artifact")
    return listed


def _check_listed(manifest: Manifest, listed: dict, problems: list[str]) -> None:
    for rel, (sha1, rows, kind) in listed.items():
        path = manifest.resolve(rel)
        if not _check_file(path, rel, sha1, problems) or rows is None:
            continue
        if kind == "parquet":
            actual = pq.ParquetFile(path).metadata.num_rows
        else:
            with open(path, "rb") as handle:
                actual = sum(1 for _ in handle)
        if actual != rows:
            problems.append(f"{rel}: {actual} {'rows' if kind == 'parquet' else 'lines'} != manifest {rows}")
    counts: dict[str, int] = {}
    for shard in manifest.data["shards"]:
        counts[shard["role"]] = counts.get(shard["role"], 0) + shard["rows"]
    for role, n in manifest.data["counts"].items():
        if counts.get(role, 0) != n:
            problems.append(f"counts.{role}: shards add up to {counts.get(role, 0)}, manifest says {n}")


def read_checksums(root: Path, problems: list[str]) -> dict[str, str]:
    """rel path → SHA-1 of `checksums.sha1` (paths checked to lie inside the build); bad lines are problems."""
    checksums = root / CHECKSUMS
    if not checksums.is_file():
        problems.append(f"{CHECKSUMS}: missing")
        return {}
    lines: dict[str, str] = {}
    for line_no, line in enumerate(checksums.read_text(encoding="utf-8").splitlines(), start=1):
        sha1, _, rel = line.partition("  ")
        if not rel or len(sha1) != 40:
            problems.append(f"{CHECKSUMS}, line {line_no}: not 'SHA1  PATH'")
            continue
        inside_build(root, rel, f"{checksums}, line {line_no}")
        if rel in lines:
            problems.append(f"{CHECKSUMS}, line {line_no}: {rel} listed twice")
        lines[rel] = sha1
    return lines


def build_files(root: Path) -> list[str]:
    """Every file (and symlink) in a build as relative POSIX paths, `checksums.sha1` and `run.json` aside."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root)
        found += [(here / f).as_posix() for f in files]
        found += [(here / d).as_posix() for d in dirs if (Path(folder) / d).is_symlink()]
    return sorted(f for f in found if f not in (CHECKSUMS, RUN_FILE))


def write_checksums(root: Path) -> None:
    """Write `checksums.sha1` of a build: one `SHA1  PATH` line per file (`build_files`), sorted."""
    lines = [f"{sha1_file(root / rel)}  {rel}" for rel in build_files(root)]
    (root / CHECKSUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _check_checksums(manifest: Manifest, listed: dict, problems: list[str]) -> None:
    root = manifest.root
    lines = read_checksums(root, problems)
    if not lines and not (root / CHECKSUMS).is_file():
        return
    own = manifest.path.relative_to(root.resolve()).as_posix()
    for rel in [own, *listed]:
        if rel not in lines:
            problems.append(f"{CHECKSUMS}: no line for {rel}")
    for rel, sha1 in lines.items():
        if rel in listed:  # the file itself was checked against the manifest
            if sha1 != listed[rel][0]:
                problems.append(f"{CHECKSUMS}: {rel} SHA-1 differs from the manifest's")
        else:
            _check_file(inside_build(root, rel, root / CHECKSUMS), rel, sha1, problems)
    for rel in build_files(root):
        if rel not in lines:
            problems.append(f"{rel}: extra file, not listed in {CHECKSUMS}")


def verify(manifest_path: str | Path) -> list[str]:
    """All mismatches between a build's manifest, its `checksums.sha1` and its files (empty = verified)."""
    manifest = Manifest.load(manifest_path)
    problems: list[str] = []
    listed = _listed_files(manifest)
    _check_listed(manifest, listed, problems)
    _check_checksums(manifest, listed, problems)
    return problems


def require_verified(manifest_path: str | Path) -> None:
    """Raise VerificationError listing every problem `verify` finds (what the trainer runs first)."""
    problems = verify(manifest_path)
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  ... {len(problems) - 20} more" if len(problems) > 20 else "")
        raise VerificationError(f"{manifest_path}: the build does not verify ({len(problems)} problem(s)); "
                                f"refusing to use it:\n  {shown}")
