"""`emodata build`: sources → annotate (cached) → filter → per mix: select → label → appraise → flip pairs
→ write → describe → gate → freeze → publish.

Out of core: the annotate stage writes each source to disk as Parquet parts, one per partition
(`--part-rows`) as it completes; with the cache on they are its entry (emodata/cache.py). The client
never holds a whole annotated source: filtering runs as one DuckDB query over the parts
(`mix.filter_parquet`), and the mix's selection on the kept rows' compact narrow columns
(`stages.KEPT_COLUMNS`: split and text key; the draw reads its pool's dialogue ids only while drawing);
they produce row positions per split;
every later stage reads only the columns and rows it needs (`stages.materialise`): the models fit on a
bounded, seeded sample of the train rows (`--fit-rows`), and the write stage reads each source's parts
once, spilling every written row to its shard file (`freeze.ChunkPlan`). The weak-label and appraisal
models are per mix and fit on the mix's train rows only (on their stored LF matrices). A mix's stages
(emodata/stages.py, emodata/freeze.py) pass one `MixContext`. Row-wise work runs on the build's engine
(`--engine/--workers`): annotation per record partition, flip pairs per partition of the drawn rows,
and labelling + encoding per shard file (at most `--shard-rows` rows each, `encode_records`), whose task
writes the file itself when it shares this disk. Every mix is written into a temporary folder beside
its destination and renamed into place only when complete (and only when the Great Expectations gate
passes), so a failed build leaves nothing behind. Nothing time-dependent enters hashed files: the
engine, workers and stage seconds go to the run record (`run.json`), outside the manifest's hashes.
"""
from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import labeling_functions.emotion  # noqa: F401  (registers the "emotion" LF set)
import labeling_functions.weak_labels  # noqa: F401  (registers the aggregators)

from emodata.annotate import Annotator, make_annotator
from emodata.cache import AnnotatedCache, AnnotatedParts
from emodata.core import registry
from emodata.core.config import BuildConfig
from emodata.core.errors import DataNotFoundError, EmodataError
from emodata.engines import Engine, open_engine
from emodata.freeze import ShardChunk, describe, freeze, gate, publish, staging, write
from emodata.mix import Ratio, filter_parquet, key_bytes, require_rows_kept
from emodata.progress import Reporter
from emodata.publish import out_lock
from emodata.shards import EncodedShard, WrittenShard, encode_table, to_record_table, write_table
from emodata.sources import SourceLocation, locate, record_parts, stream_source
from emodata.label_stage import cancel_background, end_model_result, label
from emodata.stages import (APPRAISAL_LF_SET, EMOTION_LF_SET, KEPT_COLUMNS, ORIGIN, POSITION, MixContext,
                            PreparedSource, SourceRoles, appraise, flip_pairs, select)
from emodata.text.lexicon import KNOWN_FILES, Lexicon, load_lexicon
from emodata.text.nlp import Pipeline, load_pipeline
from emodata.weak import situation_votes, with_labels

#: Reader options a source takes from the build config: {source: {reader option: BuildConfig field}}.
READER_OPTIONS = {"goemotions": {"fmt": "goemotions_format"}}


@dataclass
class BuildResult:
    """What one mix build produced: its folder, manifest path and data, and stage timings."""

    name: str
    root: Path
    manifest_path: Path
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)
    run: dict = field(default_factory=dict)  # the run record (OUT/mix_A_B/run.json): engine, workers, stage seconds


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
    import labeling_functions.appraisal  # noqa: F401  (registers the "appraisal" LF set)

    negation = config.negation == "on"
    emotion = registry.choose(registry.lf_sets, EMOTION_LF_SET, "LF set")
    appraisal = registry.choose(registry.lf_sets, APPRAISAL_LF_SET, "LF set")
    return make_annotator(pipeline or load_pipeline(config.spacy_model), lexicon or resolve_lexicon(config),
                          config.negation, config.negation_scope, emotion(negation=negation), appraisal(negation))


def prepare_source(location: SourceLocation, config: BuildConfig, annotator: Annotator, engine: Engine,
                   cache: AnnotatedCache, vad_conf_min: float, reporter: Reporter,
                   keep_annotated: bool = False) -> PreparedSource:
    """Read and annotate one source into Parquet parts on disk (or take them from the cache), then filter
    it on its narrow columns; `keep_annotated` also keeps the positions and text keys of its gold-tagged
    rows (the probe is also scored on every tagged turn). The client holds one partition's annotated rows at a time."""
    options = {"max_chars": config.max_chars,
               **{option: getattr(config, name) for option, name in READER_OPTIONS.get(location.name, {}).items()}}
    key = cache.key(location.name, location.fingerprint(), {"on_bad_row": config.on_bad_row, **options},
                    annotator.key())
    cached = cache.get(location.name, key) if location.kind != "hub" else None
    if cached is not None:
        parts, report = cached
        reporter.note(f"{location.name}: annotated cache hit ({len(parts):,} rows, {len(parts.paths)} parts)")
    else:
        parts, report = annotate_source(location, config, annotator, engine, cache, key, options, reporter)
    with reporter.stage(f"filter {location.name}"):
        positions, drops = filter_parquet(parts.paths, config.min_tokens, config.max_tokens, vad_conf_min,
                                          Path(config.out))
        kept = kept_rows(parts, positions, location.name)
    with reporter.stage(f"situation votes {location.name}"):
        votes = situation_votes(parts.distinct("situation"), annotator)
    require_rows_kept(location.name, len(parts), len(kept), drops)
    return PreparedSource(location.name, location, report, kept, drops, len(parts),
                          tagged_rows(parts) if keep_annotated else None, parts, votes)


def annotate_source(location: SourceLocation, config: BuildConfig, annotator: Annotator, engine: Engine,
                    cache: AnnotatedCache, key: str, options: dict, reporter: Reporter) -> tuple[AnnotatedParts, dict]:
    """Read one source a chunk at a time (`stream_source`) and annotate it part by part into the cache
    entry `key` (parts of `--part-rows` rows: the whole-source frame's rows, whatever the chunks); the
    client holds about one part and one reader chunk. Parts left by an interrupted build with the same
    key and part size are re-used (noted), not annotated again. Returns (parts, read report)."""
    stream = stream_source(location, on_bad_row=config.on_bad_row, **options)
    # Hub data is not content-hashed (never a cache hit), so its parts are not resumed either.
    writer = cache.writer(location.name, key, resume_rows=config.part_rows if location.kind != "hub" else None)
    try:
        with reporter.stage(f"annotate {location.name}") as advance:
            engine.annotate_to(record_parts(stream.chunks, config.part_rows), annotator, writer.put, advance,
                               config.part_rows, done=writer.done)
        if writer.resumed:
            reporter.note(f"{location.name}: resumed {len(writer.resumed)} annotated part(s) "
                          f"({sum(writer.parts[i]['rows'] for i in writer.resumed):,} rows) left by an "
                          f"interrupted build; annotated the other {len(writer.parts) - len(writer.resumed)}")
        return writer.commit(stream.report.to_dict()), stream.report.to_dict()
    except BaseException:
        writer.abort(keep=True)
        raise


def kept_rows(parts: AnnotatedParts, positions: np.ndarray, origin: str) -> pd.DataFrame:
    """The compact narrow rows (`KEPT_COLUMNS`, `_pos`, `_src`) of a source's rows at `positions` (those
    kept by the filters), read from its parts: about 30 bytes a row, held for the whole build."""
    table = parts.take_table(positions, KEPT_COLUMNS)
    n = len(positions)
    return pd.DataFrame({"source_split": table.column("source_split").to_pandas().astype("category"),
                         "text_key": key_bytes(table.column("text_key"), f"{origin}: annotated rows kept"),
                         POSITION: np.asarray(positions, np.int64),
                         ORIGIN: pd.Categorical.from_codes(np.zeros(n, np.int8), [origin])})


def tagged_rows(parts: AnnotatedParts) -> pd.DataFrame:
    """`_pos` and text_key of a source's gold-tagged rows (the probe is also scored on every one of them;
    their other columns are read when scored, `label_stage.label`)."""
    positions = parts.nonempty_positions("labels")
    keys = key_bytes(parts.take_table(positions, ["text_key"]).column("text_key"), "gold-tagged probe rows")
    return pd.DataFrame({"text_key": keys, POSITION: positions})


def encode_records(labeler, n_lfs: int, appraisal, min_tokens: int, max_tokens: int,
                   chunk: ShardChunk) -> EncodedShard | WrittenShard:
    """Map task of the write stage: weak labels + appraisal atoms for a chunk's rows, then its record
    table as Parquet + JSONL bytes (pure: the same chunk and models always give the same bytes),
    written by the task itself to `chunk.target` when the chunk names one."""
    frame = with_labels(labeler, n_lfs, appraisal, chunk.frame)
    table = to_record_table(frame, chunk.split, min_tokens, max_tokens)
    return encode_table(table) if chunk.target is None else write_table(table, chunk.target)


def build_mix(ctx: MixContext) -> BuildResult:
    """Mix, split, label, write, gate and publish one A:B build (its stages, in order); returns its result."""
    started = time.perf_counter()
    select(ctx)
    try:
        label(ctx)  # starts the end-model check on the other core
        appraise(ctx)
        flip_pairs(ctx)
        end_model_result(ctx)
    finally:
        cancel_background(ctx)  # a no-op once the result is in
    with staging(ctx):
        write(ctx, encode_records)
        describe(ctx)
        gate(ctx)
        manifest_path = freeze(ctx)
        publish(ctx)
    ctx.timings["mix_and_write"] = time.perf_counter() - started
    return BuildResult(ctx.name, ctx.final, manifest_path, ctx.manifest.to_dict(),
                       {"mix_and_write": ctx.timings["mix_and_write"], "qc_gate": ctx.timings["qc_gate"]}, ctx.run)


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
    if config.label_model not in registry.aggregators:
        raise EmodataError(f"--label-model must be one of {', '.join(registry.names(registry.aggregators))}, "
                           f"not {config.label_model!r}")
    if config.shard_rows < 1:
        raise EmodataError(f"--shard-rows must be at least 1, not {config.shard_rows}")
    if config.negation_scope not in ("window", "parse", "crf"):
        raise EmodataError(f"--negation-scope must be window, parse or crf, not {config.negation_scope!r}")
    out = Path(config.out)
    if config.fit_rows < 1:
        raise EmodataError(f"--fit-rows must be at least 1, not {config.fit_rows}")
    if config.min_train_rows < 1:
        raise EmodataError(f"--min-train-rows must be at least 1, not {config.min_train_rows}")
    with out_lock(out, reporter.note):  # one build at a time into one OUT (emodata.publish)
        return _build_locked(config, reporter, ratios, out)


def _locate_sources(config: BuildConfig, ratios: list[Ratio], roles: SourceRoles,
                    reporter: Reporter) -> dict[str, SourceLocation]:
    """Where each needed source is read from: the mix parts the ratios use (every missing one reported at
    once) and, unless `--no-probe`, the probe when it is found."""
    overrides = _overrides(config)
    needed = sorted({roles.a for r in ratios if r.a} | {roles.b for r in ratios if r.b})
    locations, missing = {}, []
    for name in needed:
        try:
            locations[name] = locate(name, config.data_dir, config.sample, overrides.get(name))
        except DataNotFoundError as exc:
            missing.append(str(exc))
    if missing:
        raise DataNotFoundError("\n".join(missing))
    if config.probe:
        try:
            locations[roles.probe] = locate(roles.probe, config.data_dir, config.sample, overrides.get(roles.probe))
        except DataNotFoundError as exc:
            reporter.note(f"no DailyDialog probe: {exc}")
    return locations


def _build_locked(config: BuildConfig, reporter: Reporter, ratios: list[Ratio], out: Path) -> list[BuildResult]:
    """The rest of `build`, run while holding OUT's lock: locate and prepare the sources once, then build
    each mix."""
    for ratio in ratios:
        if (out / ratio.name).exists() and not config.overwrite:
            raise EmodataError(f"{out / ratio.name} already exists; pass --overwrite to replace it")
    roles = SourceRoles.from_registry()
    locations = _locate_sources(config, ratios, roles, reporter)
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
    cache = AnnotatedCache(config.cache_dir, enabled=not config.no_cache, scratch_in=out)
    prepared, results = {}, []
    with open_engine(config) as engine, closing(cache):  # one engine for the whole build (a Dask cluster
        for name, location in locations.items():           # starts lazily); --no-cache parts removed at the end
            t0 = time.perf_counter()
            prepared[name] = prepare_source(location, config, annotator, engine, cache, vad_conf_min, reporter,
                                            keep_annotated=name == roles.probe)
            timings[f"prepare_{name}"] = time.perf_counter() - t0
        for number, ratio in enumerate(ratios, 1):
            result = build_mix(MixContext(ratio, prepared, config, annotator, vad_conf_min, reporter, engine, roles,
                                          last_mix=number == len(ratios)))
            result.timings = timings | result.timings
            results.append(result)
            reporter.summary(result)
    return results
