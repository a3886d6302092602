"""The manifest: the frozen description of a build that all downstream code trusts.

Schema (version 1), all paths relative to the build root (the manifest's grand-parent folder):
  schema_version, name, mix{a,b,source_a,source_b,share_a_requested,share_a_actual},
  seed, dev_frac, thresholds{vad_conf_min,min_tokens,max_tokens,epsilon},
  sources{NAME: {location, files[{name,sha1,rows}], rows_read, reader_skipped, reader_repaired,
                 drops{reason: n}, rows_kept, rows_used{train,dev,test,probe}, card{version,license}}},
  shards[{name, source, split, role, path, sha1, rows, jsonl{path,sha1}}],
  index{path, sha1, rows}, counts{train,dev,test,probe}, label_space{name,labels,ekman,ekman_labels},
  catalog{sha1,files}, lexicon{...}, pipeline{...}, annotate{...}, emodata{version,git_commit},
  config{...}, config_sha1; from the weak-supervision stage weak_supervision{...}, lf_analysis{...} and,
  unless --end-model off, end_model{space, model, models{weak,gold: settings, trained_rows, rows_with_label},
  max_eval_rows, splits{NAME: {weak_labels, end_model_weak, end_model_gold: scores, ratio}}}.
No timestamps: the same inputs and config give a byte-identical manifest.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
ROLES = ("train", "dev", "test", "probe")


def git_commit() -> str | None:
    """The git commit of the emodata checkout, or None when not installed from a git work tree."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def dumps(manifest: dict) -> str:
    """The manifest's file text: sorted keys, indented, newline-terminated."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Manifest:
    """A manifest read from disk, with its build root for resolving shard paths."""

    path: Path
    data: dict

    @classmethod
    def load(cls, path: str | Path) -> "Manifest":
        """Read a manifest JSON; the error names the file when it is missing or not a manifest."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"manifest not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"{path}: not an emodata manifest (schema_version {SCHEMA_VERSION} expected)")
        return cls(path.resolve(), data)

    @property
    def root(self) -> Path:
        """The build root (shard paths are relative to it)."""
        return self.path.parent.parent

    def shards(self, role: str | None = None, source: str | None = None) -> list[dict]:
        """Shard entries, optionally only one role and/or source."""
        return [s for s in self.data["shards"]
                if (role is None or s["role"] == role) and (source is None or s["source"] == source)]

    def shard_path(self, shard: dict) -> Path:
        """Absolute path of a shard's Parquet file (refused unless inside the build: `resolve`)."""
        return self.resolve(shard["path"])

    def resolve(self, rel: str) -> Path:
        """Absolute path of a file the manifest lists; EmodataError when it leads outside the build."""
        from emodata.core.safepath import inside_build

        return inside_build(self.root, rel, self.path)

    @property
    def labels(self) -> list[str]:
        """The unified label space of the build."""
        return list(self.data["label_space"]["labels"])

    def split_names(self) -> dict[str, list[dict]]:
        """Shards grouped by the name users see: train, dev, test, dailydialog (probe)."""
        return group_splits(self.data["shards"])


def group_splits(shards: list[dict]) -> dict[str, list[dict]]:
    """Shards by user-facing split name: train, dev, test (those present), then each probe by source.

    Shards of other roles (e.g. flip pairs, whose columns differ) are not splits and are left out.
    """
    groups: dict[str, list[dict]] = {}
    for role in ("train", "dev", "test"):
        members = [s for s in shards if s.get("role") == role]
        if members:
            groups[role] = members
    for shard in sorted((s for s in shards if s.get("role") == "probe"), key=lambda s: s["source"]):
        groups.setdefault(shard["source"], []).append(shard)
    return groups
