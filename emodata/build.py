"""`emodata build`: sources → annotate (cached) → filter → A:B mix + split → weak labels → appraisal
atoms → Valence-Flip pairs → shards → QC gate → manifest.

Annotation (tokens, negation scope, lexicon VAD, emotion and appraisal LF votes) is per source and
cached; the weak-label and appraisal models are per mix and fit on the mix's train rows only (on
their stored LF matrices). Row-wise work runs on the build's engine (`--engine/--workers`):
annotation per record partition, flip pairs per partition of the drawn rows, and labelling +
encoding per shard file (at most `--shard-rows` rows each); the client writes the bytes. Every mix
is written into a temporary folder beside its destination and renamed into place only when complete
(and only when the Great Expectations gate passes), so a failed build leaves nothing behind. Nothing
time-dependent enters hashed files.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from catalog import load_catalog
from labeling_functions.emotion import FINE_LABELS, emotion_lfs
from labeling_functions.weak_labels import AGGREGATORS

from emodata import __version__
from emodata.annotate import Annotator, lf_set_describe, make_annotator
from emodata.cache import AnnotatedCache
from emodata.core.config import BuildConfig
from emodata.card import write_card
from emodata.engines import Engine, open_engine
from emodata.core.errors import DataNotFoundError, EmodataError, QualityGateError
from emodata.flips import make_pairs, pairs_summary
from emodata.core.hashing import sha1_file, sha1_json
from emodata.text.lexicon import KNOWN_FILES, Lexicon, load_lexicon
from emodata.core.manifest import SCHEMA_VERSION, dumps, git_commit
from emodata.minsize import require_min_train_rows
from emodata.mix import Ratio, filter_rows, mixture_sizes, require_mix_satisfiable, require_rows_kept, select_and_split
from emodata.text.nlp import Pipeline, load_pipeline
from emodata.progress import Reporter
from emodata.publish import out_lock, publish
from emodata.shards import (RECORD_INPUT_COLUMNS, EncodedShard, encode_table, shard_files, to_record_table, write_bytes,
                     write_parquet)
from emodata.sources import SourceLocation, locate, read_source
from emodata.verify import write_checksums
from emodata.report.lf_markdown import lf_report_markdown
from emodata.weak import (CONTEXT_COLUMN, MixAppraisal, fit_mix_appraisal, fit_mix_labeler,
                   mix_end_model_check, mix_lf_analysis, probe_all_turns, with_labels, with_situation_votes)

SOURCE_A = "goemotions"
SOURCE_B = "empatheticdialogues"
PROBE = "dailydialog"
PROBE_SHARD = "dev_dailydialog_weak"
QC_FILE = "qc.json"
LF_REPORT = "lf_report"
PAIRS_SHARD = "pairs/train_pairs"  # outside data/: the glob data/*/*.parquet reads records only


@dataclass
class PreparedSource:
    """One source after reading, annotation and filtering."""

    name: str
    location: SourceLocation
    report: dict
    kept: pd.DataFrame
    drops: Counter
    rows_annotated: int
    annotated: pd.DataFrame | None = None  # the unfiltered rows, kept for the probe (scored on every tagged turn)


@dataclass
class BuildResult:
    """What one mix build produced: its folder, manifest path and data, and stage timings."""

    name: str
    root: Path
    manifest_path: Path
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)


def _overrides(config: BuildConfig) -> dict[str, str]:
    overrides = {}
    for item in config.source:
        name, sep, where = item.partition("=")
        if not sep or not where:
            raise EmodataError(f"--source {item!r}: expected NAME=PATH or NAME=hf:HUB_ID")
        overrides[name] = where
    return overrides


def resolve_lexicon(config: BuildConfig) -> Lexicon:
    """The lexicon named by --lexicon; by default NRC-VAD from DATA_DIR/lexicons, else the nrclex proxy."""
    search = [Path(config.data_dir) / "lexicons"] if config.data_dir else []
    spec = config.lexicon
    if spec is None and any((d / f).is_file() for d in search for f in KNOWN_FILES["nrc-vad"]):
        spec = "nrc-vad"
    return load_lexicon(spec, search_dirs=search)


def build_annotator(config: BuildConfig, pipeline: Pipeline | None = None, lexicon: Lexicon | None = None) -> Annotator:
    """The annotator `emodata build` uses for `config` (pipeline and lexicon loaded unless given)."""
    from labeling_functions.appraisal import flat_appraisal_lfs

    negation = config.negation == "on"
    return make_annotator(pipeline or load_pipeline(config.spacy_model), lexicon or resolve_lexicon(config),
                          config.negation, config.negation_scope, emotion_lfs(negation=negation),
                          flat_appraisal_lfs(negation))


def _relative_files(report: dict, location: SourceLocation) -> list[dict]:
    base = Path(location.where)
    files = []
    for f in report["files"]:
        path = Path(f["path"])
        name = path.relative_to(base).as_posix() if location.kind != "hub" and path.is_relative_to(base) else path.name
        files.append({"name": name, "sha1": f["sha1"], "rows": f["rows"]})
    return files


def prepare_source(location: SourceLocation, config: BuildConfig, annotator: Annotator, engine: Engine,
                   cache: AnnotatedCache,
                   vad_conf_min: float, reporter: Reporter) -> PreparedSource:
    """Read and annotate one source (or take it from the cache), then filter it."""
    options = {"max_chars": config.max_chars, **({"fmt": config.goemotions_format} if location.name == SOURCE_A else {})}
    key = cache.key(location.name, location.fingerprint(), {"on_bad_row": config.on_bad_row, **options},
                    annotator.key())
    cached = cache.get(location.name, key) if location.kind != "hub" else None
    if cached is not None:
        annotated, report = cached
        reporter.note(f"{location.name}: annotated cache hit ({len(annotated):,} rows)")
    else:
        with reporter.stage(f"read {location.name}"):
            data = read_source(location, on_bad_row=config.on_bad_row, **options)
        report = data.report.to_dict()
        with reporter.stage(f"annotate {location.name}", total=len(data.records)) as advance:
            annotated = engine.annotate(data.records, annotator, progress=advance)
        cache.put(location.name, key, annotated, report)
    with reporter.stage(f"filter {location.name}"):
        kept, drops = filter_rows(annotated, config.min_tokens, config.max_tokens, vad_conf_min)
    with reporter.stage(f"situation votes {location.name}"):
        kept = with_situation_votes(kept, annotator)
    require_rows_kept(location.name, len(annotated), len(kept), drops)
    return PreparedSource(location.name, location, report, kept, drops, len(annotated),
                          annotated if location.name == PROBE else None)


#: Annotated columns a shard file's map task needs: the record's (`to_record_table`) and the LF votes
#: it is labelled from (`with_labels`). Only these travel to a worker.
SHARD_TASK_COLUMNS = (*RECORD_INPUT_COLUMNS, "emotion_votes", "appraisal_votes", CONTEXT_COLUMN)


@dataclass(frozen=True)
class ShardChunk:
    """The rows of one shard file and the split they are written under (a map task's part)."""

    split: str
    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.frame)


def encode_records(labeler, n_lfs: int, appraisal, min_tokens: int, max_tokens: int,
                   chunk: ShardChunk) -> EncodedShard:
    """Map task of the write stage: weak labels + appraisal atoms for a chunk's rows, then its record
    table as Parquet + JSONL bytes (pure: the same chunk and models always give the same bytes)."""
    frame = with_labels(labeler, n_lfs, appraisal, chunk.frame)
    return encode_table(to_record_table(frame, chunk.split, min_tokens, max_tokens))


def _put(tmp: Path, rel: str, encoded: EncodedShard, entry: dict) -> dict:
    """Write an encoded shard at `rel` (no suffix) as Parquet + JSONL; returns its manifest shard entry."""
    write_bytes(tmp / f"{rel}.parquet", encoded.parquet)
    write_bytes(tmp / f"{rel}.jsonl", encoded.jsonl)
    return {**entry, "path": f"{rel}.parquet", "sha1": sha1_file(tmp / f"{rel}.parquet"), "rows": encoded.rows,
            "jsonl": {"path": f"{rel}.jsonl", "sha1": sha1_file(tmp / f"{rel}.jsonl")}}


@dataclass(frozen=True)
class RecordShard:
    """One record split of a mix to write: its source, shard stem, role, split and rows."""

    source: str
    stem: str
    role: str
    split: str
    frame: pd.DataFrame


def _write_record_shards(tmp: Path, shards: list[RecordShard], labeler, n_lfs: int, appraisal: MixAppraisal,
                         config: BuildConfig, engine: Engine, progress=None) -> list[dict]:
    """Label, encode (on the engine, one task per file) and write every record shard; their entries.

    Each file is written as soon as its bytes arrive, so at most a few files' bytes are held at once.
    """
    files, chunks = [], []
    columns = list(SHARD_TASK_COLUMNS)
    for shard in shards:
        frame = shard.frame.reset_index(drop=True)[columns]
        for name, start, stop in shard_files(shard.stem, len(frame), config.shard_rows):
            files.append((shard, name))
            chunks.append(ShardChunk(shard.split, frame.iloc[start:stop]))

    def put(index: int, encoded: EncodedShard) -> dict:
        shard, name = files[index]
        return _put(tmp, f"data/{shard.source}/{name}", encoded, {"name": f"{shard.source}/{name}",
                                                                   "source": shard.source, "split": shard.split,
                                                                   "role": shard.role})

    return engine.map(encode_records, chunks, (labeler, n_lfs, appraisal.model, config.min_tokens,
                                               config.max_tokens), progress, consume=put)


def _write_verifier(tmp: Path, verifier) -> dict:
    """Save the appraisal verifier (the trainer's L_app) as a build artifact."""
    rel = "artifacts/appraisal_verifier.npz"
    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
    verifier.save(tmp / rel)
    return {"name": "appraisal_verifier", "path": rel, "sha1": sha1_file(tmp / rel)}


def _write_index(tmp: Path, drawn: list[pd.DataFrame]) -> dict:
    frame = pd.concat([d[["id", "source", "split", "perm_rank"]] for d in drawn], ignore_index=True)
    table = pa.Table.from_pandas(frame.astype({"perm_rank": "int64"}), preserve_index=False)
    table = table.replace_schema_metadata(None)
    path = tmp / "index" / "permutation.parquet"
    write_parquet(table, path)
    return {"path": "index/permutation.parquet", "sha1": sha1_file(path), "rows": table.num_rows}


def _write_checksums(tmp: Path) -> None:
    write_checksums(tmp)


def _run_gate(tmp: Path, manifest: dict, reporter: Reporter) -> float:
    """Run the Great Expectations gate on the written shards; a critical failure aborts the build.

    The summary goes into the manifest (`qc`), the full results next to it (`manifests/qc.json`).
    """
    from expectations import run_gate

    with reporter.stage("QC gate (Great Expectations)"):
        result = run_gate(tmp, manifest)
    manifest["qc"] = result.summary()
    (tmp / "manifests" / QC_FILE).write_text(dumps(result.to_json()), encoding="utf-8")
    if not result.success:
        raise QualityGateError(f"QC gate failed for {manifest['name']}; nothing was written.\n"
                               + result.failures_text())
    warnings = result.failed("warning")
    if warnings:
        reporter.note(f"QC gate: {len(warnings)} warning(s): " + ", ".join(o.check for o in warnings))
    return result.seconds


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished build into place; an old build stays complete at its path until one atomic swap
    (`emodata.publish.publish`: renameat2 RENAME_EXCHANGE, with a documented fallback)."""
    publish(tmp, final)


def build_mix(ratio: Ratio, prepared: dict[str, PreparedSource], config: BuildConfig, annotator: Annotator,
              vad_conf_min: float, reporter: Reporter, engine: Engine) -> BuildResult:
    """Mix, split, write and freeze one A:B build; returns its manifest."""
    started = time.perf_counter()
    catalog = load_catalog()
    out = Path(config.out)
    final = out / ratio.name
    members = [s for s, share in ((SOURCE_A, ratio.a), (SOURCE_B, ratio.b)) if share > 0]
    pools, tests, extra_drops = {}, {}, {name: Counter() for name in prepared}
    for name in members:
        kept = prepared[name].kept
        pools[name] = kept[kept["source_split"] != "test"]
        tests[name] = kept[kept["source_split"] == "test"]
    if len(members) == 2:  # an exact text may not sit in both sources of one mix
        seen = set(prepared[SOURCE_A].kept["text_key"])
        for frame_dict in (pools, tests):
            dup = frame_dict[SOURCE_B]["text_key"].isin(seen)
            extra_drops[SOURCE_B]["duplicate_text_across_sources"] += int(dup.sum())
            frame_dict[SOURCE_B] = frame_dict[SOURCE_B][~dup]
    n_a, n_b = mixture_sizes(len(pools.get(SOURCE_A, ())), len(pools.get(SOURCE_B, ())), ratio)
    require_mix_satisfiable(ratio, {n: k for n, k in ((SOURCE_A, n_a), (SOURCE_B, n_b)) if n in members},
                            {n: len(pools[n]) for n in members},
                            {n: f"{len(prepared[n].kept):,} rows kept after filtering, {len(tests[n]):,} of them in "
                                f"its test split, {extra_drops[n]['duplicate_text_across_sources']:,} repeat a text "
                                "of the other source" for n in members})
    drawn = {name: select_and_split(pools[name], n, config.dev_frac, config.seed, name)
             for name, n in ((SOURCE_A, n_a), (SOURCE_B, n_b)) if name in members}
    require_min_train_rows(ratio.name, drawn, config.min_train_rows,
                           {n: (p.rows_annotated, len(p.kept), p.drops + extra_drops[n]) for n, p in prepared.items()})
    probe = None
    if PROBE in prepared:
        # The probe shares no exact text with any split of the mix, test included.
        in_mix = [f["text_key"] for f in [*drawn.values(), *tests.values()]]
        mixed = set(pd.concat(in_mix)) if in_mix else set()
        probe = prepared[PROBE].kept
        leak = probe["text_key"].isin(mixed)
        extra_drops[PROBE]["text_in_mix"] += int(leak.sum())
        probe = probe[~leak]
    n_lfs = len(annotator.lfs)
    with reporter.stage(f"weak labels {ratio.name}"):
        train_rows = pd.concat([f[f["split"] == "train"] for f in drawn.values()], ignore_index=True)
        labeler = fit_mix_labeler(train_rows, annotator.lfs, FINE_LABELS, config.seed, config.label_model)
        labelled = {f"{name}/dev": frame[frame["split"] == "dev"] for name, frame in drawn.items()}
        if probe is not None:
            labelled[f"{PROBE}/{PROBE_SHARD}"] = probe
        probe_all, notes = ({}, {}) if probe is None else probe_all_turns(
            prepared[PROBE].annotated, mixed, f"{PROBE}/{PROBE_SHARD}", prepared[PROBE].drops + extra_drops[PROBE])
        lf_summary, lf_full = mix_lf_analysis(labelled, annotator.lfs, labeler, probe_all, notes)
    end_model = None
    if config.end_model == "on":
        with reporter.stage(f"end model {ratio.name}"):
            end_model = mix_end_model_check(train_rows, {**labelled, **probe_all}, labeler, n_lfs, config.seed)
        lf_full["end_model"] = end_model
    records = []  # every record shard of the mix, in manifest order
    for name, frame in drawn.items():
        for split in ("train", "dev"):
            records.append(RecordShard(name, split, split, split, frame[frame["split"] == split]))
        if len(tests[name]):
            records.append(RecordShard(name, "test", "test", "test", tests[name]))
    if probe is not None:
        records.append(RecordShard(PROBE, PROBE_SHARD, "probe", "dev", probe))
    with reporter.stage(f"appraisal {ratio.name}"):
        parts = {f"{r.source}/{r.stem}": r.frame for r in records}
        roles = {f"{r.source}/{r.stem}": r.role for r in records}
        appraisal = fit_mix_appraisal(parts, roles, config.seed, config.negation == "on", annotator.scoper.method)
    pairs, pair_tally = None, None
    if config.flip_frac > 0:
        with reporter.stage(f"valence-flip pairs {ratio.name}"):
            # x' is re-scored by the annotate stage; its LF votes are not needed.
            scorer = dataclasses.replace(annotator, lfs=(), appraisal_lfs=())
            pairs, pair_tally = make_pairs(train_rows, scorer, scorer.pipeline, config.flip_frac, config.seed,
                                           engine=engine)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{ratio.name}.tmp-", dir=out))
    try:
        with reporter.stage(f"write {ratio.name}", total=sum(len(r.frame) for r in records)) as advance:
            shards = _write_record_shards(tmp, records, labeler, n_lfs, appraisal, config, engine, advance)
            if pairs is not None:
                shards.append(_put(tmp, PAIRS_SHARD, encode_table(pairs), {"name": "pairs/train_pairs",
                                                                           "source": "mix", "split": "train",
                                                                           "role": "pairs"}))
            index = _write_index(tmp, list(drawn.values()))
            artifacts = [_write_verifier(tmp, appraisal.verifier)]
        counts = Counter()
        for shard in shards:
            counts[shard["role"]] += shard["rows"]
        mixed_rows = n_a + n_b
        # Only this mix's own ratio: building 20:80 alone or beside 50:50 gives the same manifest.
        mix_config = config.hashed() | {"mix": [f"{ratio.a}:{ratio.b}"]}
        sources = {}
        for name, prep in prepared.items():
            used = Counter()  # a split may be several files
            for shard in shards:
                if shard["source"] == name:
                    used[shard["role"]] += shard["rows"]
            card = catalog.sources.get(name)
            location = {"kind": prep.location.kind}
            if prep.location.kind == "hub":
                location["hub_id"] = prep.location.where
            sources[name] = {
                "location": location, "files": _relative_files(prep.report, prep.location),
                "rows_read": prep.report["rows_read"], "reader_skipped": prep.report["skipped"],
                "reader_repaired": prep.report["repaired"], "rows_annotated": prep.rows_annotated,
                "drops": dict(sorted((prep.drops + extra_drops[name]).items())), "rows_kept": len(prep.kept),
                "rows_used": dict(sorted(used.items())),
                "card": {"version": card.version, "license": card.license} if card else None,
            }
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "name": ratio.name,
            "mix": {"a": ratio.a, "b": ratio.b, "source_a": SOURCE_A, "source_b": SOURCE_B,
                    "share_a_requested": round(ratio.share_a, 6),
                    "share_a_actual": round(n_a / mixed_rows, 6) if mixed_rows else None,
                    "rows": mixed_rows, "rows_a": n_a, "rows_b": n_b},
            "seed": config.seed, "dev_frac": config.dev_frac,
            "thresholds": {"vad_conf_min": vad_conf_min, "min_tokens": config.min_tokens,
                           "max_tokens": config.max_tokens, "epsilon": annotator.epsilon},
            "sources": sources,
            "shards": shards,
            "index": index,
            "counts": {role: counts.get(role, 0) for role in ("train", "dev", "test", "probe")},
            "label_space": {"name": "unified", "labels": list(catalog.unified_labels), "ekman": "ekman7",
                            "ekman_labels": list(catalog.taxonomies["ekman7"].labels)},
            "catalog": {"sha1": catalog.sha1, "files": list(catalog.files)},
            "lexicon": annotator.lexicon.describe(),
            "pipeline": annotator.pipeline.describe(),
            "annotate": annotator.describe() | {"lexicon": annotator.lexicon.sha1},
            "emodata": {"version": __version__, "git_commit": git_commit()},
            "config": mix_config,
            "config_sha1": sha1_json({"config": mix_config, "annotate": annotator.key(), "catalog": catalog.sha1}),
        }
        manifest["weak_supervision"] = {"lfs": lf_set_describe(annotator.lfs), "negation_scope": annotator.scoper.describe(),
                                        **labeler.describe(),
                                        "report": {"json": f"manifests/{LF_REPORT}.json",
                                                   "markdown": f"manifests/{LF_REPORT}.md"}}
        manifest["lf_analysis"] = lf_summary
        if end_model is not None:
            manifest["end_model"] = end_model
        manifest["appraisal"] = appraisal.summary
        manifest["artifacts"] = artifacts
        if pairs is not None:
            manifest["pairs"] = pairs_summary(pairs, pair_tally, seed=config.seed)
            manifest["counts"]["pairs"] = pairs.num_rows
        manifest_path = tmp / "manifests" / f"{ratio.name}.json"
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        (tmp / "manifests" / f"{LF_REPORT}.json").write_text(dumps(lf_full), encoding="utf-8")
        (tmp / "manifests" / f"{LF_REPORT}.md").write_text(lf_report_markdown(lf_full, manifest), encoding="utf-8")
        gate_seconds = _run_gate(tmp, manifest, reporter)
        manifest_path.write_text(dumps(manifest), encoding="utf-8")
        write_card(tmp, manifest)
        _write_checksums(tmp)
        _publish(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildResult(ratio.name, final, final / "manifests" / f"{ratio.name}.json", manifest,
                       {"mix_and_write": time.perf_counter() - started, "qc_gate": gate_seconds})


def check_user_paths(config: BuildConfig, ratios: list[Ratio]) -> None:
    """Refuse, before any work, a mix whose parts do not sum to 100 (a mix is named by its ratio, so
    30:30 would be built as 50:50 under another name), a --data-dir that does not exist and an --out
    that is a file."""
    for ratio in ratios:
        if ratio.a + ratio.b != 100:
            raise EmodataError(f"--mix {ratio.a}:{ratio.b}: the parts must sum to 100 (percent of GoEmotions "
                               f"and EmpatheticDialogues), e.g. 20:80")
    if config.data_dir and not Path(config.data_dir).is_dir():
        raise DataNotFoundError(f"--data-dir {config.data_dir}: the folder does not exist")
    if Path(config.out).exists() and not Path(config.out).is_dir():
        raise EmodataError(f"--out {config.out}: is a file, not a folder")


def build(config: BuildConfig, reporter: Reporter | None = None) -> list[BuildResult]:
    """Run `emodata build`: one frozen, verified-by-hash build per requested mix."""
    reporter = reporter or Reporter(quiet=config.quiet)
    ratios = [Ratio.parse(m) for m in config.mix]
    check_user_paths(config, ratios)
    if config.on_bad_row not in ("error", "skip"):
        raise EmodataError(f"--on-bad-row must be error or skip, not {config.on_bad_row!r}")
    if not 0.0 <= config.dev_frac < 1.0:
        raise EmodataError(f"--dev-frac must be in [0, 1), not {config.dev_frac}")
    if not 0.0 <= config.flip_frac <= 1.0:
        raise EmodataError(f"--flip-frac must be in [0, 1], not {config.flip_frac}")
    if config.label_model not in AGGREGATORS:
        raise EmodataError(f"--label-model must be one of {', '.join(AGGREGATORS)}, not {config.label_model!r}")
    if config.shard_rows < 1:
        raise EmodataError(f"--shard-rows must be at least 1, not {config.shard_rows}")
    if config.negation_scope not in ("window", "parse", "crf"):
        raise EmodataError(f"--negation-scope must be window, parse or crf, not {config.negation_scope!r}")
    out = Path(config.out)
    if config.min_train_rows < 1:
        raise EmodataError(f"--min-train-rows must be at least 1, not {config.min_train_rows}")
    with out_lock(out, reporter.note):  # one build at a time into one OUT (emodata.publish)
        return _build_locked(config, reporter, ratios, out)


def _build_locked(config: BuildConfig, reporter: Reporter, ratios: list[Ratio], out: Path) -> list[BuildResult]:
    """The rest of `build`, run while holding OUT's lock."""
    for ratio in ratios:
        if (out / ratio.name).exists() and not config.overwrite:
            raise EmodataError(f"{out / ratio.name} already exists; pass --overwrite to replace it")
    overrides = _overrides(config)
    needed = sorted({SOURCE_A for r in ratios if r.a} | {SOURCE_B for r in ratios if r.b})
    locations, missing = {}, []
    for name in needed:  # report every missing source at once, not the first
        try:
            locations[name] = locate(name, config.data_dir, config.sample, overrides.get(name))
        except DataNotFoundError as exc:
            missing.append(str(exc))
    if missing:
        raise DataNotFoundError("\n".join(missing))
    if config.probe:
        try:
            locations[PROBE] = locate(PROBE, config.data_dir, config.sample, overrides.get(PROBE))
        except DataNotFoundError as exc:
            reporter.note(f"no DailyDialog probe: {exc}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    lexicon = resolve_lexicon(config)
    pipeline = load_pipeline(config.spacy_model)
    if config.negation not in ("on", "off"):
        raise EmodataError(f"--negation must be on or off, not {config.negation!r}")
    annotator = build_annotator(config, pipeline, lexicon)
    vad_conf_min = config.vad_conf_min if config.vad_conf_min is not None else lexicon.recommended_vad_conf_min
    timings["load_lexicon_and_pipeline"] = time.perf_counter() - t0
    reporter.note(f"lexicon {lexicon.name} ({len(lexicon):,} words), spaCy {pipeline.name} {pipeline.version}, "
                  f"tau={vad_conf_min}")
    cache = AnnotatedCache(config.cache_dir, enabled=not config.no_cache)
    prepared, results = {}, []
    with open_engine(config) as engine:  # one engine for the whole build (a Dask cluster starts lazily)
        for name, location in locations.items():
            t0 = time.perf_counter()
            prepared[name] = prepare_source(location, config, annotator, engine, cache, vad_conf_min, reporter)
            timings[f"prepare_{name}"] = time.perf_counter() - t0
        for ratio in ratios:
            result = build_mix(ratio, prepared, config, annotator, vad_conf_min, reporter, engine)
            result.timings = timings | result.timings
            results.append(result)
            reporter.summary(result)
    return results
