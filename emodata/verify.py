"""`emodata verify`: re-hash and re-count every file a manifest lists, naming each mismatch."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from .hashing import sha1_file
from .manifest import Manifest

CHECKSUMS = "checksums.sha1"


def _check_file(root: Path, rel: str, sha1: str, problems: list[str]) -> bool:
    """Check one file's SHA-1, appending what is wrong to `problems`."""
    path = root / rel
    if not path.is_file():
        problems.append(f"{rel}: missing")
        return False
    actual = sha1_file(path)
    if actual != sha1:
        problems.append(f"{rel}: SHA-1 {actual} != manifest {sha1}")
        return False
    return True


def verify(manifest_path: str | Path) -> list[str]:
    """All mismatches between a manifest and the files on disk (empty list = verified)."""
    manifest = Manifest.load(manifest_path)
    root, problems = manifest.root, []
    entries = list(manifest.data["shards"]) + [manifest.data["index"]]
    listed = {e["path"]: e["sha1"] for e in entries} | {e["jsonl"]["path"]: e["jsonl"]["sha1"]
                                                        for e in entries if "jsonl" in e}
    for entry in entries:
        if _check_file(root, entry["path"], entry["sha1"], problems):
            rows = pq.ParquetFile(root / entry["path"]).metadata.num_rows
            if rows != entry["rows"]:
                problems.append(f"{entry['path']}: {rows} rows != manifest {entry['rows']}")
        if "jsonl" in entry and _check_file(root, entry["jsonl"]["path"], entry["jsonl"]["sha1"], problems):
            with open(root / entry["jsonl"]["path"], "rb") as handle:
                lines = sum(1 for _ in handle)
            if lines != entry["rows"]:
                problems.append(f"{entry['jsonl']['path']}: {lines} lines != manifest {entry['rows']}")
    counts: dict[str, int] = {}
    for shard in manifest.data["shards"]:
        counts[shard["role"]] = counts.get(shard["role"], 0) + shard["rows"]
    for role, n in manifest.data["counts"].items():
        if counts.get(role, 0) != n:
            problems.append(f"counts.{role}: shards add up to {counts.get(role, 0)}, manifest says {n}")
    checksums = root / CHECKSUMS
    if not checksums.is_file():
        problems.append(f"{CHECKSUMS}: missing")
    else:
        for line_no, line in enumerate(checksums.read_text(encoding="utf-8").splitlines(), start=1):
            sha1, _, rel = line.partition("  ")
            if not rel:
                problems.append(f"{CHECKSUMS}, line {line_no}: not 'SHA1  PATH'")
            elif rel in listed:  # the file itself was checked against the manifest above
                if sha1 != listed[rel]:
                    problems.append(f"{CHECKSUMS}, line {line_no}: {rel} SHA-1 differs from the manifest's")
            else:
                _check_file(root, rel, sha1, problems)
    return problems
