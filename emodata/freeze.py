"""The last stages of one mix's build: write the files, describe them in the manifest, gate, freeze, publish.

Everything is written into a temporary folder beside the destination (`staging`), which is removed
if any stage fails and renamed into place only by `publish`, after the Great Expectations gate
passed, so a failed build leaves nothing behind. Row-wise work (labelling + encoding per shard file,
at most `--shard-rows` rows each) runs on the build's engine; this process writes the bytes.
"""
from __future__ import annotations

import gc
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Sequence
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from emodata import __version__
from emodata.annotate import lf_set_describe
from emodata.card import write_card
from emodata.core.errors import QualityGateError
from emodata.core.hashing import sha1_file, sha1_json
from emodata.core.manifest import (ROLES, SCHEMA_VERSION, Artifact, BuildStamp, CatalogRef, FileRef, IndexFile,
                                   InputFile, LabelSpace, Location, Manifest, Mix, QcSummary, Shard, SourceCard,
                                   SourceInfo, Thresholds, dumps, git_commit)
from emodata.core.typed_json import from_json
from emodata.flips import pairs_summary
from emodata.publish import publish as publish_folder
from emodata.shards import (RECORD_INPUT_COLUMNS, EncodedShard, WrittenShard, shard_files, write_encoded,
                            write_parquet, write_table)
from emodata.cache import AnnotatedParts
from emodata.stages import ORIGIN, POSITION, MixContext, PreparedSource, chosen_by_name, materialise
from emodata.verify import RUN_FILE, write_checksums
from emodata.report.lf_markdown import lf_report_markdown
from emodata.weak import CONTEXT_COLUMN

QC_FILE = "qc.json"
LF_REPORT = "lf_report"
PAIRS_SHARD = "pairs/train_pairs"  # outside data/: the glob data/*/*.parquet reads records only
#: Annotated columns a shard file's map task needs: the record's (`to_record_table`) and the LF votes
#: it is labelled from (`with_labels`). Only these travel to a worker.
SHARD_TASK_COLUMNS = (*RECORD_INPUT_COLUMNS, "emotion_votes", "appraisal_votes", CONTEXT_COLUMN)


@dataclass(frozen=True)
class ShardChunk:
    """The rows of one shard file and the split they are written under (a map task's part); with a
    `target` (the file's path without suffix) the task writes the file itself instead of returning bytes."""

    split: str
    frame: pd.DataFrame
    target: Path | None = None

    def __len__(self) -> int:
        return len(self.frame)


class ChunkPlan(Sequence):
    """The write stage's parts, in file order: part i is shard file i's rows (`SHARD_TASK_COLUMNS`).

    At the first part asked for, each source's parts are read once and every written row is spilled
    to its file's spill file in `folder` (`AnnotatedParts.scatter`); part i is then read back from its
    spill file (and the file removed) only when the engine takes it, so the client holds the rows of
    the few files in flight, never a whole split, and reads the annotated parts once, not once per file."""

    def __init__(self, prepared: dict[str, PreparedSource], items: list[tuple[str, pd.DataFrame, Path | None]],
                 folder: Path):
        self.prepared, self.items, self.folder = prepared, items, folder  # (split, narrow rows, target) per file
        self.spills: dict[int, Path] | None = None

    def __len__(self) -> int:
        return len(self.items)

    def _scatter(self) -> dict[int, Path]:
        plans = {name: (np.full(len(p.parts), -1, np.int64), np.zeros(len(p.parts), np.int64))
                 for name, p in self.prepared.items()}
        for index, (_, rows, _) in enumerate(self.items):
            for origin in pd.unique(rows[ORIGIN]):
                destination, rank = plans[origin]
                mine = rows[rows[ORIGIN] == origin]
                positions = mine[POSITION].to_numpy()
                if (destination[positions] >= 0).any():
                    raise RuntimeError(f"{origin}: a row is written to two shard files")
                destination[positions] = index
                rank[positions] = np.flatnonzero((rows[ORIGIN] == origin).to_numpy())
        spills: dict[int, Path] = {}
        for origin, (destination, rank) in plans.items():
            if (destination >= 0).any():
                spills.update(self.prepared[origin].parts.scatter(destination, rank, SHARD_TASK_COLUMNS, self.folder))
        return spills

    def __getitem__(self, index: int) -> ShardChunk:
        if self.spills is None:
            self.spills = self._scatter()
        split, rows, target = self.items[index]
        if not len(rows):
            return ShardChunk(split, materialise(self.prepared, rows, SHARD_TASK_COLUMNS), target)
        path = self.spills.pop(index)

        def read(prep, mine, columns):
            if len(mine) != len(rows):
                raise RuntimeError("a shard file holds rows of two sources")  # never: one record shard, one source
            return AnnotatedParts.read_spill(path, columns)

        frame = materialise(self.prepared, rows, SHARD_TASK_COLUMNS, read)
        path.unlink()
        return ShardChunk(split, frame, target)


#: The write stage's map task: (labeler, n_lfs, appraisal model, min_tokens, max_tokens, chunk) → bytes.
EncodeTask = Callable[..., EncodedShard]


@contextmanager
def staging(ctx: MixContext) -> Iterator[Path]:
    """The mix's temporary folder beside its destination (`ctx.tmp`), removed if anything inside fails."""
    out = Path(ctx.config.out)
    out.mkdir(parents=True, exist_ok=True)
    ctx.tmp = Path(tempfile.mkdtemp(prefix=f".{ctx.name}.tmp-", dir=out))
    try:
        yield ctx.tmp
    except BaseException:
        shutil.rmtree(ctx.tmp, ignore_errors=True)
        raise


def spill_folder(ctx: MixContext) -> Path:
    """A new folder for the write stage's spill files, beside the staging folder in OUT (the build's own
    disk, not the system temp folder, which may be a small tmpfs); the caller removes it. Named like a
    temporary folder (`.NAME.tmp-spill-*`), so the next build into OUT removes one a killed build left."""
    return Path(tempfile.mkdtemp(prefix=f".{ctx.name}.tmp-spill-", dir=ctx.tmp.parent))


def _put(tmp: Path, rel: str, encoded: EncodedShard | WrittenShard, name: str, source: str, split: str,
         role: str) -> Shard:
    """The manifest entry of a shard at `rel` (no suffix): written here as Parquet + JSONL from its bytes,
    or already written by the task that encoded it (`WrittenShard`)."""
    written = encoded if isinstance(encoded, WrittenShard) else write_encoded(encoded, tmp / rel)
    return Shard(name, source, split, role, f"{rel}.parquet", written.parquet_sha1, written.rows,
                 FileRef(f"{rel}.jsonl", written.jsonl_sha1))


def _write_record_shards(ctx: MixContext, encode: EncodeTask, progress=None) -> list[Shard]:
    """Label, encode and write every record shard (on the engine, one task per file); their entries.

    On an engine whose tasks share this disk (`Engine.shares_disk`: in-process, a LocalCluster) each task
    writes its own file and sends back only its SHA-1s and rows; otherwise (a remote `--scheduler`) the
    bytes come back and are written here as they arrive, a few files' bytes at a time.
    """
    files, items = [], []
    for shard in ctx.records:
        frame = shard.frame.reset_index(drop=True)
        for name, start, stop in shard_files(shard.stem, len(frame), ctx.config.shard_rows):
            files.append((shard, name))
            target = ctx.tmp / f"data/{shard.source}/{name}" if ctx.engine.shares_disk else None
            items.append((shard.split, frame.iloc[start:stop], target))
    folder = spill_folder(ctx)
    try:
        return _write_chunks(ctx, encode, files, ChunkPlan(ctx.prepared, items, folder), progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_chunks(ctx: MixContext, encode: EncodeTask, files: list, chunks: ChunkPlan, progress=None) -> list[Shard]:
    """Encode every shard file's chunk on the engine and write each as its bytes arrive."""

    def put(index: int, encoded: EncodedShard) -> Shard:
        shard, name = files[index]
        return _put(ctx.tmp, f"data/{shard.source}/{name}", encoded, f"{shard.source}/{name}", shard.source,
                    shard.split, shard.role)

    args = (ctx.labeler, len(ctx.annotator.lfs), ctx.appraisal.model, ctx.config.min_tokens, ctx.config.max_tokens)
    return ctx.engine.map(encode, chunks, args, progress, consume=put)


def _write_verifier(tmp: Path, verifier) -> Artifact:
    """Save the appraisal verifier (the trainer's L_app) as a build artifact."""
    rel = "artifacts/appraisal_verifier.npz"
    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
    verifier.save(tmp / rel)
    return Artifact("appraisal_verifier", rel, sha1_file(tmp / rel))


def _write_index(tmp: Path, drawn: list[pd.DataFrame]) -> IndexFile:
    """Write the frozen draw order (`index/permutation.parquet`)."""
    frame = pd.concat([d[["id", "source", "split", "perm_rank"]] for d in drawn], ignore_index=True)
    table = pa.Table.from_pandas(frame.astype({"perm_rank": "int64"}), preserve_index=False)
    table = table.replace_schema_metadata(None)
    path = tmp / "index" / "permutation.parquet"
    write_parquet(table, path)
    return IndexFile("index/permutation.parquet", sha1_file(path), table.num_rows)


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """While inside, the objects alive on entry (the client's models, frames, spaCy pipeline) sit in the
    garbage collector's permanent generation (`gc.freeze`), so the collections the write stage's many
    short-lived objects trigger do not rescan them (real 20:80 build: GC 2.7 s → 0.6 s of the stage)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def write(ctx: MixContext, encode: EncodeTask) -> None:
    """Write the record shards (labelled by `encode` on the engine), the pairs shard, the draw order, the
    verifier, and the LF report's data (MANIFEST_DIR/lf_report.json; its .md is written by `freeze`)."""
    with long_lived_frozen(), ctx.reporter.stage(f"write {ctx.name}",
                                                 total=sum(len(r.frame) for r in ctx.records)) as advance:
        ctx.shards = _write_record_shards(ctx, encode, advance)
        if ctx.pairs is not None:
            written = write_table(ctx.pairs, ctx.tmp / PAIRS_SHARD)
            ctx.shards.append(_put(ctx.tmp, PAIRS_SHARD, written, "pairs/train_pairs", "mix", "train", "pairs"))
        ctx.index = _write_index(ctx.tmp, list(ctx.drawn.values()))
        ctx.artifacts = [_write_verifier(ctx.tmp, ctx.appraisal.verifier)]
    manifests = ctx.tmp / "manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    (manifests / f"{LF_REPORT}.json").write_text(dumps(ctx.lf_full), encoding="utf-8")


def _relative_files(prep: PreparedSource) -> list[InputFile]:
    """A source's input files, named relative to its folder (Hub files by their base name)."""
    base, files = Path(prep.location.where), []
    for f in prep.report["files"]:
        path = Path(f["path"])
        local = prep.location.kind != "hub" and path.is_relative_to(base)
        files.append(InputFile(path.relative_to(base).as_posix() if local else path.name, f["sha1"], f["rows"]))
    return files


def _source_info(ctx: MixContext, prep: PreparedSource) -> SourceInfo:
    """One source's manifest entry: inputs, reader and filter outcome, rows used per role."""
    used = Counter()  # a split may be several files
    for shard in ctx.shards:
        if shard.source == prep.name:
            used[shard.role] += shard.rows
    card = ctx.catalog.sources.get(prep.name)
    kind = prep.location.kind
    return SourceInfo(
        location=Location(kind, prep.location.where if kind == "hub" else None),
        files=_relative_files(prep), rows_read=prep.report["rows_read"],
        reader_skipped=prep.report["skipped"], reader_repaired=prep.report["repaired"],
        rows_annotated=prep.rows_annotated, drops=dict(sorted((prep.drops + ctx.extra_drops[prep.name]).items())),
        rows_kept=prep.rows_kept, rows_used=dict(sorted(used.items())),
        card=SourceCard(card.version, card.license) if card else None)


def describe(ctx: MixContext) -> None:
    """The mix's manifest (`ctx.manifest`, without the gate's `qc`) from the context."""
    ratio, config, annotator, catalog = ctx.ratio, ctx.config, ctx.annotator, ctx.catalog
    counts = Counter()
    for shard in ctx.shards:
        counts[shard.role] += shard.rows
    counts = {role: counts.get(role, 0) for role in ROLES} | ({"pairs": ctx.pairs.num_rows} if ctx.pairs is not None else {})
    rows = ctx.n_a + ctx.n_b
    # Only this mix's own ratio: building 20:80 alone or beside 50:50 gives the same manifest.
    mix_config = config.hashed() | {"mix": [f"{ratio.a}:{ratio.b}"]}
    ctx.manifest = Manifest(
        schema_version=SCHEMA_VERSION, name=ratio.name,
        mix=Mix(ratio.a, ratio.b, ctx.roles.a, ctx.roles.b, round(ratio.share_a, 6),
                round(ctx.n_a / rows, 6) if rows else None, rows, ctx.n_a, ctx.n_b),
        seed=config.seed, dev_frac=config.dev_frac,
        thresholds=Thresholds(ctx.vad_conf_min, config.min_tokens, config.max_tokens, annotator.epsilon),
        sources={name: _source_info(ctx, prep) for name, prep in ctx.prepared.items()},
        shard_entries=ctx.shards, index=ctx.index, counts=counts,
        label_space=LabelSpace("unified", list(catalog.unified_labels), "ekman7",
                               list(catalog.taxonomies["ekman7"].labels)),
        catalog=CatalogRef(catalog.sha1, list(catalog.files)),
        lexicon=annotator.lexicon.describe(), pipeline=annotator.pipeline.describe(),
        annotate=annotator.describe() | {"lexicon": annotator.lexicon.sha1},
        emodata=BuildStamp(__version__, git_commit()), config=mix_config,
        config_sha1=sha1_json({"config": mix_config, "annotate": annotator.key(), "catalog": catalog.sha1}),
        weak_supervision={"lfs": lf_set_describe(annotator.lfs), "negation_scope": annotator.scoper.describe(),
                          **ctx.labeler.describe(), "fit_sample": ctx.fit_sample, "report": {"json": f"manifests/{LF_REPORT}.json",
                                                               "markdown": f"manifests/{LF_REPORT}.md"}},
        lf_analysis=ctx.lf_summary, end_model=ctx.end_model, appraisal=ctx.appraisal.summary,
        artifacts=ctx.artifacts,
        pairs=pairs_summary(ctx.pairs, ctx.pair_tally, seed=config.seed) if ctx.pairs is not None else None,
        registry=chosen_by_name(config, sorted(ctx.prepared)), run=RUN_FILE)


def gate(ctx: MixContext) -> None:
    """Run the Great Expectations gate on the written shards; a critical failure aborts the build.

    The summary goes into the manifest (`qc`), the full results next to it (`manifests/qc.json`).
    """
    from expectations import run_gate

    with ctx.reporter.stage("QC gate (Great Expectations)"):
        result = run_gate(ctx.tmp, ctx.manifest.to_dict())
    ctx.manifest = replace(ctx.manifest, qc=from_json(QcSummary, result.summary(), "the QC gate's summary", "qc"))
    (ctx.tmp / "manifests" / QC_FILE).write_text(dumps(result.to_json()), encoding="utf-8")
    if not result.success:
        raise QualityGateError(f"QC gate failed for {ctx.name}; nothing was written.\n" + result.failures_text())
    warnings = result.failed("warning")
    if warnings:
        ctx.reporter.note(f"QC gate: {len(warnings)} warning(s): " + ", ".join(o.check for o in warnings))
    ctx.timings["qc_gate"] = result.seconds


def freeze(ctx: MixContext) -> Path:
    """Write the manifest, the LF report's Markdown (it shows parts of the manifest), the dataset card
    (README.md) and `checksums.sha1`; the manifest's final path."""
    (ctx.tmp / "manifests" / f"{ctx.name}.json").write_text(ctx.manifest.dumps(), encoding="utf-8")
    # The LF report's Markdown shows the manifest's appraisal AUC, flip judges and pairs beside the LFs.
    (ctx.tmp / "manifests" / f"{LF_REPORT}.md").write_text(lf_report_markdown(ctx.lf_full, ctx.manifest.to_dict()),
                                                           encoding="utf-8")
    write_card(ctx.tmp, ctx.manifest)
    write_checksums(ctx.tmp)
    ctx.run = run_record(ctx)
    (ctx.tmp / RUN_FILE).write_text(dumps(ctx.run), encoding="utf-8")
    return ctx.final / "manifests" / f"{ctx.name}.json"


def run_record(ctx: MixContext) -> dict:
    """What varies between two runs of the same build (`run.json`, beside the manifest, never hashed):
    the engine and its workers as requested and as run, and every stage's seconds so far (the shared
    source stages, then this mix's), in the order they ran."""
    config = ctx.config
    return {"name": ctx.name, "engine": ctx.engine.describe(),
            "requested": {"engine": config.engine, "workers": config.workers, "scheduler": config.scheduler},
            "stage_seconds": {name: round(seconds, 3) for name, seconds in ctx.reporter.timings.items()},
            "peak_rss_mib_after_stage": {name: round(mib, 1) for name, mib in ctx.reporter.peaks.items()},
            "child_processes": ctx.reporter.elsewhere,  # e.g. the end-model check (emodata/label_stage.py)
            "note": "run record: differs between runs (engine, workers, times); not part of the manifest's "
                    "hashed bytes nor of checksums.sha1"}


def publish(ctx: MixContext) -> None:
    """Move the finished build into place; an old build stays complete at its path until one atomic swap
    (`emodata.publish.publish`: renameat2 RENAME_EXCHANGE, with a documented fallback)."""
    publish_folder(ctx.tmp, ctx.final)
