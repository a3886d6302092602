"""What the report shows, computed from a manifest and its shards: no HTML and no matplotlib here.

`collect(manifest_path)` returns a `ReportData`: the plotted record columns (`rows`), the pairs shard
(`pairs`), the source order, and one context per page section (`sections[SECTION_ID]`) made of
`Table`s, facts and notes whose cells are plain values (str, int, float, bool, None or a `Badge`):
never a dict or a list, so no JSON reaches a table cell. The weak-supervision sections (LF analysis,
label model, appraisal, flips, QC) are computed in `emodata.report.stages`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emodata.core.manifest import Manifest
from emodata.core.reader import read_role, read_shard
from expectations.docs import plain_value

ROW_ROLES = ("train", "dev", "test", "probe")
NOT_IN_BUILD = "Not in this build"

#: (id, heading) of every section, in page order.
SECTIONS = (
    ("summary", "Build summary"),
    ("labels", "Label distribution"),
    ("vad", "VAD distributions"),
    ("vad-conf", "Lexicon coverage (vad_conf) and the τ cut"),
    ("drops", "Dropped rows"),
    ("lf-analysis", "Labeling functions: coverage and conflict"),
    ("label-model", "Label model vs gold"),
    ("appraisal", "Appraisal atoms"),
    ("flips", "Valence-Flip pairs"),
    ("qc", "QC gate"),
)


@dataclass(frozen=True)
class Badge:
    """A cell shown as a coloured word (`cls`: "pass", "fail" or "warn")."""

    text: str
    cls: str


class Share(float):
    """A proportion in [0, 1], shown as a percentage."""

    @classmethod
    def of(cls, value: Any) -> Share | None:
        """`value` as a Share; None stays None."""
        return None if value is None else cls(value)


@dataclass
class Table:
    """A table for the page: a header and rows of plain cells (`Badge`s allowed); `caption` above it,
    `collapsed` tables are shown folded (<details>) with `caption` as their summary line."""

    header: list[str]
    rows: list[list[Any]]
    caption: str | None = None
    collapsed: bool = False

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass
class ReportData:
    """Everything the page and the figures need (see the module docstring)."""

    loaded: Manifest
    rows: pd.DataFrame
    pairs: pd.DataFrame | None
    sources: list[str]
    label_order: list[str]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def manifest(self) -> dict:
        """The manifest's content."""
        return self.loaded.data

    @property
    def title(self) -> str:
        """The page title."""
        return f"emodata build report — {self.manifest.get('name')}"


def plain(value: Any) -> Any:
    """A manifest value made fit for one table cell: scalars stay, dicts and lists become short
    readable text (`key: value; ...`), never JSON."""
    if isinstance(value, (dict, list, tuple)):
        return plain_value(value)
    return value


def kv_table(data: dict, caption: str | None = None) -> Table:
    """A key/value table of the entries of `data` (sorted), values made plain."""
    return Table(["key", "value"], [[k, plain(data[k])] for k in sorted(data)], caption)


def load_rows(manifest: Manifest) -> pd.DataFrame:
    """The record shards' plotted columns, one row per record: source, role, labels, v/a/d, vad_conf
    (read through the verified shard reader, `emodata.core.reader`)."""
    frames = []
    wanted = ("source", "labels", "labels_ekman", "vad", "vad_conf", "appraisal")
    for shard in manifest.data.get("shards", []):
        if shard.get("role") not in ROW_ROLES:
            continue
        table = read_shard(manifest.root, shard, manifest.path, wanted, missing_ok=True)
        names = set(table.column_names)
        frame = pd.DataFrame({"source": shard["source"], "role": shard["role"]}, index=range(table.num_rows))
        for column in ("labels", "labels_ekman", "appraisal"):
            if column in names:
                frame[column] = table.column(column).to_pylist()
        if "vad" in names:
            vad = table.column("vad").combine_chunks()
            for key in "vad":
                frame[key] = vad.field(key).to_numpy(zero_copy_only=False)
        if "vad_conf" in names:
            frame["vad_conf"] = table.column("vad_conf").to_numpy()
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["source", "role", "labels", "labels_ekman", "v", "a", "d", "vad_conf"])
    return pd.concat(frames, ignore_index=True)


def load_pairs(manifest: Manifest) -> pd.DataFrame | None:
    """Flip-pair shards (role "pairs") as `flip_kind` and optional `s_flip`, or None."""
    if not manifest.shards(role="pairs"):
        return None
    table = read_role(manifest, "pairs", ("kind", "s_flip"), missing_ok=True)
    if "kind" not in table.column_names:
        return None
    return table.to_pandas().rename(columns={"kind": "flip_kind"})


def sources_in_order(manifest: dict, rows: pd.DataFrame) -> list[str]:
    """Sources with rows: the mix's A and B first, then the others by name."""
    mix = manifest.get("mix") or {}
    first = [s for s in (mix.get("source_a"), mix.get("source_b")) if s]
    present = set(rows["source"]) if len(rows) else set()
    present |= {n for n, info in (manifest.get("sources") or {}).items() if any((info.get("rows_used") or {}).values())}
    return sorted(present, key=lambda n: (first.index(n) if n in first else len(first), n))


def qc_passed(qc: dict) -> bool | None:
    """The gate's verdict in a manifest's `qc` dict; None when it does not say."""
    return qc["success"] if isinstance(qc.get("success"), bool) else None


def qc_status(qc: Any) -> str:
    """One word for the summary: passed, FAILED, present (no verdict stated) or not in this build."""
    if not qc:
        return "not in this build"
    passed = qc_passed(qc) if isinstance(qc, dict) else None
    return "present" if passed is None else "passed" if passed else "FAILED"


def _counts(items: dict) -> str:
    return ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in items.items())


def build_facts(manifest: dict, manifest_name: str) -> list[tuple[str, Any]]:
    """(field, value) lines of the build summary: name, mix, counts, lexicon, pipeline, versions."""
    mix = manifest.get("mix") or {}
    lexicon = manifest.get("lexicon") or {}
    pipeline = manifest.get("pipeline") or {}
    emo = manifest.get("emodata") or {}
    share = mix.get("share_a_actual")
    return [
        ("name", manifest.get("name")),
        ("manifest", manifest_name),
        ("mix", f"{mix.get('source_a')} : {mix.get('source_b')} = {mix.get('a')}:{mix.get('b')} — "
                f"{mix.get('rows_a', 0):,} + {mix.get('rows_b', 0):,} = {mix.get('rows', 0):,} rows"
                + (f", actual share of A {share:.1%}" if isinstance(share, (int, float)) else "")),
        ("counts", _counts(manifest.get("counts") or {})),
        ("lexicon", f"{lexicon.get('name')} v{lexicon.get('version')} ({lexicon.get('entries', 0):,} entries, "
                    f"{lexicon.get('source')}, sha1 {str(lexicon.get('sha1'))[:12]})"),
        ("pipeline", f"{pipeline.get('name')} {pipeline.get('version')} (spaCy {pipeline.get('spacy')}"
                     + ("" if pipeline.get("has_model", True) else ", blank tokenizer") + ")"),
        ("thresholds", _counts(manifest.get("thresholds") or {})),
        ("seed / dev_frac", f"{manifest.get('seed')} / {manifest.get('dev_frac')}"),
        ("emodata", f"{emo.get('version')} (git {emo.get('git_commit')})"),
        ("config_sha1", manifest.get("config_sha1")),
        ("QC gate", qc_status(manifest.get("qc"))),
    ]


def summary_section(manifest: dict, sources: list[str], manifest_name: str) -> dict[str, Any]:
    """The build summary: facts, one row per source, one row per shard."""
    source_rows = []
    for source in sources:
        info = (manifest.get("sources") or {}).get(source, {})
        source_rows.append([source, (info.get("card") or {}).get("license"), info.get("rows_read"),
                            info.get("rows_kept"), _counts(info.get("rows_used") or {})])
    return {
        "facts": Table(["field", "value"], [list(f) for f in build_facts(manifest, manifest_name)]),
        "sources": Table(["source", "license", "rows read", "rows kept", "rows used"], source_rows),
        "shards": Table(["shard", "role", "rows", "path"],
                        [[s["name"], s["role"], s["rows"], s["path"]] for s in manifest.get("shards", [])]),
    }


def drop_table(manifest: dict, sources: list[str]) -> dict[str, list[tuple[str, int, str]]]:
    """Per source: (reason, rows, stage) for reader skips and filter drops, largest first."""
    out = {}
    for source in sources:
        info = (manifest.get("sources") or {}).get(source, {})
        items = [(f"reader: {k}", int(v), "reader") for k, v in (info.get("reader_skipped") or {}).items() if v]
        items += [(k, int(v), "filter") for k, v in (info.get("drops") or {}).items() if v]
        out[source] = sorted(items, key=lambda t: (-t[1], t[0]))
    return out


def drops_section(manifest: dict, sources: list[str]) -> dict[str, Any]:
    """The dropped-rows table (source, stage, reason, rows), largest first per source."""
    drops = drop_table(manifest, sources)
    return {"table": Table(["source", "stage", "reason", "rows"],
                           [[s, stage, reason, n] for s, items in drops.items() for reason, n, stage in items])}


def collect(manifest_path: Path) -> ReportData:
    """Load a manifest and its shards and compute every section's context."""
    from emodata.report import stages

    loaded = Manifest.load(manifest_path)
    manifest = loaded.data
    rows = load_rows(loaded)
    sources = sources_in_order(manifest, rows)
    data = ReportData(loaded=loaded, rows=rows, pairs=load_pairs(loaded), sources=sources,
                      label_order=list((manifest.get("label_space") or {}).get("labels") or []))
    data.sections["summary"] = summary_section(manifest, sources, loaded.path.name)
    data.sections["drops"] = drops_section(manifest, sources)
    data.sections.update(stages.stage_sections(manifest, rows, data.pairs, loaded.path))
    return data
