"""The manifest: the frozen description of a build that all downstream code trusts, as typed dataclasses.

`Manifest.load(path)` reads MANIFEST_DIR/NAME.json and refuses a file whose `schema_version` is not
this emodata's (the error names the file and both versions) or whose parts do not have their declared
shape (the error names the file and the key path); `Manifest.to_dict()` / `dumps()` write it back.
The JSON is the build's contract: reading and writing a manifest gives the same bytes. Schema
(version 1), paths relative to the build root (the manifest's grand-parent folder):

  schema_version, name, mix (`Mix`), seed, dev_frac, thresholds (`Thresholds`), sources{NAME: `SourceInfo`},
  shards[`Shard`], index (`IndexFile`), counts{train,dev,test,probe[,pairs]}, label_space (`LabelSpace`),
  catalog (`CatalogRef`), lexicon{...}, pipeline{...}, annotate{...}, emodata (`BuildStamp`), config{...},
  config_sha1, weak_supervision{...}, lf_analysis{...}, appraisal{...}, artifacts[`Artifact`], qc (`QcSummary`,
  the gate's summary; its full results are MANIFEST_DIR/qc.json) and, when built, end_model{...} and
  pairs{...} (the Valence-Flip summary, emodata/flips/summary.py), and run (the name of the run record,
  `run.json`, whose varying content is kept out of the manifest).

The stage summaries (lexicon, pipeline, annotate, config, weak_supervision, lf_analysis, end_model,
appraisal, pairs) are the producing module's own JSON and stay dicts here. Top-level keys this schema
does not name are kept in `extra` (written back unchanged, read by nothing). No timestamps: the same
inputs and config give a byte-identical manifest.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from emodata.core.errors import EmodataError
from emodata.core.typed_json import JsonShapeError, from_json, omit_none, to_json

SCHEMA_VERSION = 1
ROLES = ("train", "dev", "test", "probe")
#: Shard role of the Valence-Flip pairs (own columns: never a split of the records config).
PAIRS_ROLE = "pairs"
#: The QC gate's suites in its own order (manifests store them with sorted keys).
QC_SUITE_ORDER = ("record", "mix", "distribution", "pairs")
#: Columns of a per-expectation outcome table (MANIFEST_DIR/qc.json `outcomes`), in order.
QC_RESULT_COLUMNS = ("suite", "check", "expectation", "column", "severity", "success", "observed")


class ManifestError(EmodataError, ValueError):
    """A file that is not a manifest this emodata can read (the message names the file and the problem)."""


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
class Mix:
    """The A:B mixture: requested shares, sources and the rows drawn from each."""

    a: int
    b: int
    source_a: str
    source_b: str
    share_a_requested: float
    share_a_actual: float | None
    rows: int
    rows_a: int
    rows_b: int


@dataclass(frozen=True)
class Thresholds:
    """The row filters and the VAD smoothing constant."""

    vad_conf_min: float
    min_tokens: int
    max_tokens: int
    epsilon: float


@dataclass(frozen=True)
class Location:
    """Where a source was read from: `local`, `sample` or `hub` (then with its Hub id)."""

    kind: str
    hub_id: str | None = omit_none()


@dataclass(frozen=True)
class InputFile:
    """One input file of a source: its name (relative to the source folder), SHA-1 and rows."""

    name: str
    sha1: str
    rows: int


@dataclass(frozen=True)
class SourceCard:
    """The catalog card's version and license of a source."""

    version: str
    license: str


@dataclass(frozen=True)
class SourceInfo:
    """One source of the build: its inputs, what the reader and filters did, the rows used per role."""

    location: Location
    files: list[InputFile]
    rows_read: int
    reader_skipped: dict[str, Any]
    reader_repaired: dict[str, Any]
    rows_annotated: int
    drops: dict[str, int]
    rows_kept: int
    rows_used: dict[str, int]
    card: SourceCard | None


@dataclass(frozen=True)
class FileRef:
    """A file of the build: path (relative to the root) and SHA-1."""

    path: str
    sha1: str


@dataclass(frozen=True)
class Shard(Mapping):
    """One shard file. It also reads as its JSON dict (`shard["rows"]`), for code written against that."""

    name: str
    source: str
    split: str
    role: str
    path: str
    sha1: str
    rows: int
    jsonl: FileRef | None = omit_none()

    def __getitem__(self, key: str) -> Any:
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)

    @property
    def _json(self) -> dict:
        return to_json(self)


@dataclass(frozen=True)
class IndexFile:
    """The frozen draw order (`index/permutation.parquet`)."""

    path: str
    sha1: str
    rows: int


@dataclass(frozen=True)
class Artifact:
    """A model file the build ships (e.g. the appraisal verifier)."""

    name: str
    path: str
    sha1: str


@dataclass(frozen=True)
class LabelSpace:
    """The unified label space and the Ekman grouping of the records."""

    name: str
    labels: list[str]
    ekman: str
    ekman_labels: list[str]


@dataclass(frozen=True)
class CatalogRef:
    """The catalog the build used: its SHA-1 and files."""

    sha1: str
    files: list[str]


@dataclass(frozen=True)
class BuildStamp:
    """The emodata version and git commit that wrote the build."""

    version: str
    git_commit: str | None


@dataclass(frozen=True)
class SuiteSummary:
    """One QC suite's counts (and the names of the checks it skipped)."""

    evaluated: int
    failed_critical: int
    failed_warning: int
    skipped: list[str] | None = omit_none()


@dataclass(frozen=True)
class QcSummary:
    """The QC gate's summary (expectations/gate.py `GateResult.summary`)."""

    success: bool
    great_expectations: str
    rows: int
    suites: dict[str, SuiteSummary]

    def suite_rows(self) -> list[dict]:
        """Per suite, in the gate's order: suite, evaluated, passed, failed_critical, failed_warning, skipped."""
        rows = [{"suite": name, "evaluated": s.evaluated,
                 "passed": max(s.evaluated - s.failed_critical - s.failed_warning, 0),
                 "failed_critical": s.failed_critical, "failed_warning": s.failed_warning,
                 "skipped": len(s.skipped or ())} for name, s in self.suites.items()]
        order = {name: i for i, name in enumerate(QC_SUITE_ORDER)}
        return sorted(rows, key=lambda r: (order.get(r["suite"], len(order)), r["suite"]))


def qc_outcomes(details: dict) -> list[dict]:
    """The per-expectation outcomes of the gate's full results (MANIFEST_DIR/qc.json `outcomes`)."""
    outcomes = details.get("outcomes") if isinstance(details, dict) else None
    return [o for o in outcomes if isinstance(o, dict)] if isinstance(outcomes, list) else []


@dataclass(frozen=True)
class Manifest:
    """A build's manifest; `path` (not part of the JSON) is where it was read from, if it was."""

    schema_version: int
    name: str
    mix: Mix
    seed: int
    dev_frac: float
    thresholds: Thresholds
    sources: dict[str, SourceInfo]
    shard_entries: list[Shard] = field(metadata={"key": "shards"})
    index: IndexFile
    counts: dict[str, int]
    label_space: LabelSpace
    catalog: CatalogRef
    lexicon: dict[str, Any]
    pipeline: dict[str, Any]
    annotate: dict[str, Any]
    emodata: BuildStamp
    config: dict[str, Any]
    config_sha1: str
    weak_supervision: dict[str, Any] | None = omit_none()
    lf_analysis: dict[str, Any] | None = omit_none()
    end_model: dict[str, Any] | None = omit_none()
    appraisal: dict[str, Any] | None = omit_none()
    artifacts: list[Artifact] | None = omit_none()
    pairs: dict[str, Any] | None = omit_none()
    qc: QcSummary | None = omit_none()
    #: what was chosen by name from the registries (emodata/core/registry.py): {registry: [{name, version}]}
    registry: dict[str, list[dict[str, str]]] | None = omit_none()
    #: the run record's path (`run.json`: engine, workers, stage seconds). Only its name is here: its
    #: content differs between runs, so it is neither in the manifest nor in `checksums.sha1`.
    run: str | None = omit_none()
    extra: dict[str, Any] = field(default_factory=dict, metadata={"extra": True})
    path: Path | None = field(default=None, compare=False, metadata={"skip": True})

    @classmethod
    def load(cls, path: str | Path) -> "Manifest":
        """Read a manifest JSON; the error names the file when it is missing, not a manifest, of another
        schema version or of the wrong shape."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"manifest not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{path}: not valid JSON ({exc})") from exc
        return cls.from_dict(data, str(path), path.resolve())

    @classmethod
    def from_dict(cls, data: Any, where: str = "manifest", path: Path | None = None) -> "Manifest":
        """The manifest of a JSON dict (`where` names it in errors); refuses other schema versions."""
        if not isinstance(data, dict) or "schema_version" not in data:
            raise ManifestError(f"{where}: not an emodata manifest (no schema_version)")
        if data["schema_version"] != SCHEMA_VERSION:
            raise ManifestError(f"{where}: manifest schema_version {data['schema_version']!r} is not supported; "
                             f"this emodata reads version {SCHEMA_VERSION} (rebuild it, or use the emodata "
                             "that wrote it)")
        try:
            manifest = from_json(cls, data, where)
        except JsonShapeError as exc:
            raise ManifestError(f"{exc} (not a schema_version {SCHEMA_VERSION} manifest)") from exc
        object.__setattr__(manifest, "path", path)
        return manifest

    @classmethod
    def coerce(cls, manifest: "Manifest | dict") -> "Manifest":
        """`manifest` itself, or the manifest of a JSON dict."""
        return manifest if isinstance(manifest, Manifest) else cls.from_dict(manifest)

    def to_dict(self) -> dict:
        """The manifest's JSON dict (what the build writes)."""
        return to_json(self)

    def dumps(self) -> str:
        """The manifest's file text (`dumps(self.to_dict())`)."""
        return dumps(self.to_dict())

    @cached_property
    def data(self) -> dict:
        """The JSON dict, computed once (for code written against the dict manifest)."""
        return self.to_dict()

    @property
    def root(self) -> Path:
        """The build root (shard paths are relative to it)."""
        if self.path is None:
            raise ValueError(f"manifest {self.name}: not read from a file, so it has no build root")
        return self.path.parent.parent

    def shards(self, role: str | None = None, source: str | None = None) -> list[Shard]:
        """Shard entries, optionally only one role and/or source."""
        return [s for s in self.shard_entries
                if (role is None or s.role == role) and (source is None or s.source == source)]

    def shard_path(self, shard: Mapping) -> Path:
        """Absolute path of a shard's Parquet file (refused unless inside the build: `resolve`)."""
        return self.resolve(shard["path"])

    def resolve(self, rel: str) -> Path:
        """Absolute path of a file the manifest lists; EmodataError when it leads outside the build."""
        from emodata.core.safepath import inside_build

        return inside_build(self.root, rel, self.path)

    @property
    def labels(self) -> list[str]:
        """The unified label space of the build."""
        return list(self.label_space.labels)

    def split_names(self) -> dict[str, list[Shard]]:
        """Shards grouped by the name users see: train, dev, test, then each probe by source (`group_splits`)."""
        return group_splits(self.shard_entries)

    def pair_shards(self) -> list[Shard]:
        """Shards holding Valence-Flip pairs (role "pairs")."""
        return self.shards(role=PAIRS_ROLE)

    @property
    def has_flips(self) -> bool:
        """Whether the build carries Valence-Flip pairs (a `pairs` summary or pair shards)."""
        return bool(self.pairs) or bool(self.pair_shards())

    def built_sources(self) -> list[str]:
        """Sources that contribute rows (a shared annotation pass may list others): mix A, mix B, then by name."""
        with_shards = {s.source for s in self.shard_entries}
        names = [n for n, info in self.sources.items() if n in with_shards or any(info.rows_used.values())]
        first = [self.mix.source_a, self.mix.source_b]
        return sorted(names, key=lambda n: (first.index(n) if n in first else len(first), n))

    def artifact(self, name: str) -> Artifact | None:
        """The shipped artifact called `name`, if any."""
        return next((a for a in self.artifacts or () if a.name == name), None)


def group_splits(shards: list[Mapping]) -> dict[str, list]:
    """Shards by user-facing split name: train, dev, test (those present), then each probe by source.

    Shards of other roles (e.g. flip pairs, whose columns differ) are not splits and are left out.
    """
    groups: dict[str, list] = {}
    for role in ("train", "dev", "test"):
        members = [s for s in shards if s.get("role") == role]
        if members:
            groups[role] = members
    for shard in sorted((s for s in shards if s.get("role") == "probe"), key=lambda s: s["source"]):
        groups.setdefault(shard["source"], []).append(shard)
    return groups
