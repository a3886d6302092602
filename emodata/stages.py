"""The stages of one mix's build, in order, and the one context they pass along.

`emodata.build.build_mix` runs: `select` (draw and split the mix, keep each source's official test
split, drop texts that would sit in two places) → `label` (weak labels fit on the train rows, LF
analysis, end-model check) → `appraise` (appraisal atoms and the verifier) → `flip_pairs`
(Valence-Flip pairs from the train rows) → then emodata/freeze.py: `write` → `describe` → `gate` →
`freeze` → `publish`. Every stage reads what it needs from a `MixContext` and records its results on
it, so a stage's inputs are the fields named above it.

Which source is mix part A, part B or the probe comes from the source registry (emodata.sources) and
the catalog card of each registered source (`role: A | B | probe`): `SourceRoles.from_registry()`.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from catalog import Catalog, load_catalog
from catalog.flips import load_flips
from labeling_functions.weak_labels import WeakLabeler

from emodata.annotate import Annotator
from emodata.cache import AnnotatedParts
from emodata.core.config import BuildConfig
from emodata.core.errors import EmodataError
from emodata.core.manifest import Artifact, IndexFile, Manifest, Shard
from emodata.engines import Engine
from emodata.engines.core import cut_bounds
from emodata.flips.draw import DrawnParts, drawn_positions, pairs_part, pairs_table, part_args
from emodata.flips.pairs import flip_part
from emodata.minsize import require_min_train_rows
from emodata.mix import Ratio, mixture_sizes, require_mix_satisfiable, select_and_split
from emodata.progress import Reporter
from emodata.core import registry
from emodata.sources import SourceLocation
from emodata.weak import CONTEXT_COLUMN, MixAppraisal, fit_mix_appraisal, with_context_votes

if TYPE_CHECKING:
    from emodata.background import BackgroundJob

#: The labeling-function sets every build applies (names in the `lf_sets` registry).
EMOTION_LF_SET = "emotion"
APPRAISAL_LF_SET = "appraisal"


def chosen_by_name(config: BuildConfig, sources: list[str]) -> dict[str, list[dict[str, str]]]:
    """What the build chose by name from each registry, with versions, for the manifest. The engine is left
    out on purpose: outputs, manifest included, are identical on every engine."""
    import emodata.text.negation_api  # noqa: F401  (registers the scope methods)

    return {"sources": [registry.describe(registry.sources, name) for name in sources],
            "lf_sets": [registry.describe(registry.lf_sets, name) for name in (EMOTION_LF_SET, APPRAISAL_LF_SET)],
            "aggregators": [registry.describe(registry.aggregators, config.label_model)],
            "scope_methods": [registry.describe(registry.scope_methods, config.negation_scope)]}



@dataclass(frozen=True)
class SourceRoles:
    """The registered sources that are mix part A, mix part B and the cross-corpus probe."""

    a: str
    b: str
    probe: str

    @classmethod
    def from_registry(cls) -> "SourceRoles":
        """Read the roles off the catalog cards of the registered sources (exactly one source per role)."""
        cards = load_catalog().sources
        by_role: dict[str, list[str]] = {}
        for name in registry.names(registry.sources):
            if name in cards:
                by_role.setdefault(cards[name].role, []).append(name)
        chosen = {}
        for role in ("A", "B", "probe"):
            names = by_role.get(role, [])
            if len(names) != 1:
                raise EmodataError(f"the source registry needs exactly one source whose catalog card has role "
                                   f"{role!r}, found {names or 'none'}")
            chosen[role] = names[0]
        return cls(chosen["A"], chosen["B"], chosen["probe"])

    @property
    def probe_shard(self) -> str:
        """The probe's shard stem (its rows are written under the dev split)."""
        return f"dev_{self.probe}_weak"


#: The columns of every annotated row the client reads: the filters' (`filter_rows`) and the selection's
#: (`select`, `select_and_split`, the draw order). The other columns stay in the parts on disk.
NARROW_COLUMNS = ("id", "source", "source_split", "conv_id", "turn", "n_covered", "n_tokens", "vad_conf",
                  "dedup_key", "text_key")
#: The narrow columns held of every row that passes the filters, for the whole build (the filters' own
#: columns are read by DuckDB on the parts, `mix.filter_parquet`), compact: the split as a categorical, the
#: text key as its 20 bytes (`mix.key_bytes`), beside `_pos` (int64) and `_src` (categorical).
KEPT_COLUMNS = ("source_split", "text_key")
#: The columns the draw reads of a member's pool rows (`select_and_split`), only while it draws; of them the
#: drawn rows keep `DRAWN_COLUMNS` (the draw order's index file and the flip draw read `id` and `source`).
DRAW_COLUMNS = ("id", "source", "conv_id", "turn")
#: A narrow row's position in its source's annotated parts, and the prepared source it is a row of.
POSITION, ORIGIN = "_pos", "_src"
DRAWN_COLUMNS = (POSITION, ORIGIN, "id", "source", "split", "perm_rank")
#: Columns the appraisal fit reads (`fit_parts`) and the flip stage reads of the train rows (`flip_rows`).
APPRAISAL_COLUMNS = ("id", "text", "lower", "neg", "labels", "appraisal_votes")
FLIP_COLUMNS = ("id", "text", "labels", "vad_v", "vad_a", "vad_d", "tokens", "lower")
#: Columns the appraisal summary reads of the held-out shards, and how many rows of one it scores at a time.
HELD_COLUMNS = ("text", "labels")
APPRAISAL_BATCH_ROWS = 20_000
#: The flip stage's spaCy batch, and the most drawn rows one of its partitions reads (a multiple of it).
FLIP_BATCH = 512
FLIP_PART_ROWS = 40 * FLIP_BATCH


@dataclass
class PreparedSource:
    """One source after reading, annotation (its Parquet parts on disk) and filtering (`kept`: the narrow
    columns of the rows kept, with their `_pos`ition in the parts). The last mix of a build releases
    `kept` after its draw and `tagged` after its label stage (`release_kept`, `release_tagged`): they
    grow with the corpus and nothing later reads them."""

    name: str
    location: SourceLocation
    report: dict
    kept: pd.DataFrame | None
    drops: Counter
    rows_annotated: int
    tagged: pd.DataFrame | None = None  # the probe's gold-tagged rows: `_pos` and text_key (scored on every one)
    parts: AnnotatedParts | None = None
    situation_votes: dict = field(default_factory=dict)  # situation text -> its emotion LF votes
    rows_kept: int = -1  # len(kept), also once it is released

    def __post_init__(self) -> None:
        if self.rows_kept < 0:
            self.rows_kept = 0 if self.kept is None else len(self.kept)

    def release_kept(self) -> None:
        """Drop the kept rows' frame (its length stays in `rows_kept`); no later mix may draw from it."""
        self.kept = None

    def release_tagged(self) -> None:
        """Drop the gold-tagged rows' frame (the probe's; read only by the label stage)."""
        self.tagged = None


#: read(source, its narrow rows, stored columns) -> those rows' stored columns, in order (`materialise`).
RowReader = Callable[[PreparedSource, pd.DataFrame, list], pd.DataFrame]


def take_rows(prep: PreparedSource, rows: pd.DataFrame, columns: list) -> pd.DataFrame:
    """The default `RowReader`: the rows at `rows._pos` of the source's parts."""
    return prep.parts.take(rows[POSITION].to_numpy(), columns)


def materialise(prepared: dict[str, PreparedSource], narrow: pd.DataFrame, columns: Sequence[str],
                read: RowReader = take_rows) -> pd.DataFrame:
    """The annotated rows of `narrow` (rows of prepared sources, by `_src` and `_pos`), in its order, with
    `columns`: read from the sources' parts by `read` (`situation_votes` from each source's situation
    votes), or taken from `narrow` itself (e.g. `split`, `perm_rank`). Reads only the parts holding these rows."""
    narrow = narrow.reset_index(drop=True)
    origins = pd.unique(narrow[ORIGIN]) if len(narrow) else [next(iter(prepared))]
    pieces = []
    for origin in origins:
        rows = narrow[narrow[ORIGIN] == origin] if len(origins) > 1 else narrow
        parts = prepared[origin].parts
        stored = [c for c in columns if c in parts.columns]
        if CONTEXT_COLUMN in columns and "situation" not in stored:
            stored.append("situation")
        frame = read(prepared[origin], rows, stored)
        if CONTEXT_COLUMN in columns:
            frame = with_context_votes(frame, prepared[origin].situation_votes)
        pieces.append(frame.set_axis(rows.index) if len(origins) > 1 else frame)
    frame = pd.concat(pieces).loc[narrow.index].reset_index(drop=True) if len(origins) > 1 else pieces[0]
    own = {c: narrow[c].to_numpy() for c in columns if c not in frame.columns and c in narrow.columns}
    frame = frame.assign(**own)
    return frame[[c for c in columns if c in frame.columns]]


@dataclass(frozen=True)
class RecordShard:
    """One record split of a mix to write: its source, shard stem, role, split and rows."""

    source: str
    stem: str
    role: str
    split: str
    frame: pd.DataFrame


@dataclass
class MixContext:
    """One mix's build: the inputs every stage reads, then what each stage adds (in stage order)."""

    ratio: Ratio
    prepared: dict[str, PreparedSource]
    config: BuildConfig
    annotator: Annotator
    vad_conf_min: float
    reporter: Reporter
    engine: Engine
    roles: SourceRoles
    catalog: Catalog = field(default_factory=load_catalog)
    last_mix: bool = False                                            # the build's last: releases what grows
    # select
    drawn: dict[str, pd.DataFrame] = field(default_factory=dict)      # train + dev rows per mix member
    tests: dict[str, pd.DataFrame] = field(default_factory=dict)      # official test rows per mix member
    extra_drops: dict[str, Counter] = field(default_factory=dict)     # drops made by the mix, per source
    n_a: int = 0
    n_b: int = 0
    probe: pd.DataFrame | None = None
    mixed: pd.Series | set = field(default_factory=set)               # text keys of every split of the mix
    records: list[RecordShard] = field(default_factory=list)          # every record shard, in manifest order
    # label
    train_rows: pd.DataFrame | None = None                            # narrow columns (`materialise` reads more)
    fit_positions: np.ndarray | None = None                           # the fit sample: positions in train_rows
    fit_sample: dict = field(default_factory=dict)                    # ... and its record (manifest)
    labeler: WeakLabeler | None = None
    lf_summary: dict = field(default_factory=dict)
    lf_full: dict = field(default_factory=dict)
    end_model: dict | None = None
    end_model_job: "BackgroundJob | None" = None                        # the check, running beside the next stages
    # appraise
    appraisal: MixAppraisal | None = None
    # flip_pairs
    pairs: pa.Table | None = None                                     # the pairs shard (PAIRS_SCHEMA)
    pair_tally: Counter | None = None
    # write (emodata/freeze.py)
    tmp: Path | None = None
    shards: list[Shard] = field(default_factory=list)
    index: IndexFile | None = None
    artifacts: list[Artifact] = field(default_factory=list)
    # describe, gate
    manifest: Manifest | None = None
    timings: dict[str, float] = field(default_factory=dict)
    run: dict = field(default_factory=dict)                           # the run record (run.json), by freeze

    @property
    def name(self) -> str:
        """The mix's name, e.g. mix_20_80."""
        return self.ratio.name

    @property
    def final(self) -> Path:
        """Where the finished build is published."""
        return Path(self.config.out) / self.ratio.name


def select(ctx: MixContext) -> None:
    """Draw each member's train/dev rows from its non-test pool (seeded; dialogues stay whole), keep its
    official test split, drop texts of part B that part A has, and texts of the probe that the mix has.
    The pools' draw columns are read only while drawing; what the mix keeps of its rows is compact
    (`DRAWN_COLUMNS` of the drawn rows, `_pos` and `_src` of the test and probe rows)."""
    roles, prepared, config = ctx.roles, ctx.prepared, ctx.config
    members = [s for s, share in ((roles.a, ctx.ratio.a), (roles.b, ctx.ratio.b)) if share > 0]
    ctx.extra_drops = {name: Counter() for name in prepared}
    pools = {}
    for name in members:
        kept = prepared[name].kept
        pools[name] = kept[kept["source_split"] != "test"]
        ctx.tests[name] = kept[kept["source_split"] == "test"]
    if len(members) == 2:  # an exact text may not sit in both sources of one mix
        seen = prepared[roles.a].kept["text_key"]
        for frames in (pools, ctx.tests):
            dup = frames[roles.b]["text_key"].isin(seen)
            ctx.extra_drops[roles.b]["duplicate_text_across_sources"] += int(dup.sum())
            frames[roles.b] = frames[roles.b][~dup]
    ctx.n_a, ctx.n_b = mixture_sizes(len(pools.get(roles.a, ())), len(pools.get(roles.b, ())), ctx.ratio)
    sizes = {roles.a: ctx.n_a, roles.b: ctx.n_b}
    require_mix_satisfiable(ctx.ratio, {n: sizes[n] for n in members}, {n: len(pools[n]) for n in members},
                            {n: f"{prepared[n].rows_kept:,} rows kept after filtering, {len(ctx.tests[n]):,} of "
                                f"them in its test split, {ctx.extra_drops[n]['duplicate_text_across_sources']:,} "
                                "repeat a text of the other source" for n in members})
    ctx.drawn = {name: _draw(prepared[name], pools.pop(name), sizes[name], config) for name in members}
    require_min_train_rows(ctx.name, ctx.drawn, config.min_train_rows,
                           {n: (p.rows_annotated, p.rows_kept, p.drops + ctx.extra_drops[n])
                            for n, p in prepared.items()})
    if roles.probe in prepared:
        # The probe shares no exact text with any split of the mix, test included.
        in_mix = [f["text_key"] for f in [*ctx.drawn.values(), *ctx.tests.values()]]
        ctx.mixed = pd.concat(in_mix, ignore_index=True) if in_mix else set()
        probe = prepared[roles.probe].kept
        leak = probe["text_key"].isin(ctx.mixed)
        ctx.extra_drops[roles.probe]["text_in_mix"] += int(leak.sum())
        ctx.probe = probe.loc[~leak, [POSITION, ORIGIN]]
    ctx.drawn = {name: frame[list(DRAWN_COLUMNS)] for name, frame in ctx.drawn.items()}
    ctx.tests = {name: frame[[POSITION, ORIGIN]] for name, frame in ctx.tests.items()}
    ctx.records = _record_shards(ctx)
    if ctx.last_mix:  # no other mix draws from the kept rows (~30 bytes a row: ~1 GB at 100x)
        for prep in prepared.values():
            prep.release_kept()


def _draw(prep: PreparedSource, pool: pd.DataFrame, n_use: int, config: BuildConfig) -> pd.DataFrame:
    """`select_and_split` of a member's pool (its compact kept rows), with the draw's `DRAW_COLUMNS` read
    from the source's parts for these rows only."""
    pool = pool.reset_index(drop=True)
    extra = prep.parts.take(pool[POSITION].to_numpy(), DRAW_COLUMNS)
    return select_and_split(pd.concat([extra, pool], axis=1), n_use, config.dev_frac, config.seed, prep.name)


def _record_shards(ctx: MixContext) -> list[RecordShard]:
    """Every record shard of the mix, in manifest order: per member train, dev (and test), then the probe."""
    records = []
    for name, frame in ctx.drawn.items():
        for split in ("train", "dev"):
            records.append(RecordShard(name, split, split, split, frame[frame["split"] == split]))
        if len(ctx.tests[name]):
            records.append(RecordShard(name, "test", "test", "test", ctx.tests[name]))
    if ctx.probe is not None:
        records.append(RecordShard(ctx.roles.probe, ctx.roles.probe_shard, "probe", "dev", ctx.probe))
    return records


def fit_parts(ctx: MixContext, columns: Sequence[str] = APPRAISAL_COLUMNS
              ) -> tuple[pd.DataFrame, Iterator[tuple[str, pd.DataFrame]]]:
    """The appraisal stage's rows, read from disk: the train shards' rows in the fit sample
    (`ctx.fit_positions`, over the train shards in order; bounded by `--fit-rows`) with `columns`, as one
    frame; and, read lazily, every other record shard's rows as (role, rows with `HELD_COLUMNS`), at
    most `APPRAISAL_BATCH_ROWS` at a time, in record order."""
    train, offset = [], 0
    for record in ctx.records:
        if record.role == "train":
            frame = record.frame
            mine = ctx.fit_positions[(ctx.fit_positions >= offset) & (ctx.fit_positions < offset + len(frame))]
            train.append(materialise(ctx.prepared, frame if len(mine) == len(frame) else frame.iloc[mine - offset],
                                     columns))
            offset += len(frame)

    def held() -> Iterator[tuple[str, pd.DataFrame]]:
        for record in ctx.records:
            for start in range(0, len(record.frame) if record.role != "train" else 0, APPRAISAL_BATCH_ROWS):
                rows = record.frame.iloc[start:start + APPRAISAL_BATCH_ROWS]
                yield record.role, materialise(ctx.prepared, rows, HELD_COLUMNS)

    return pd.concat(train, ignore_index=True), held()


def flip_rows(ctx: MixContext, drawn: pd.DataFrame, columns: Sequence[str] = FLIP_COLUMNS) -> DrawnParts:
    """The drawn train rows (narrow, in draw order) as the flip stage's partitions, each read from disk with
    `columns` only when the engine takes it: the engine's partitions (cut at multiples of FLIP_BATCH, so
    spaCy sees the batches of one whole run), none longer than FLIP_PART_ROWS."""
    bounds = cut_bounds(ctx.engine.partitions(len(drawn), align=FLIP_BATCH), FLIP_PART_ROWS)
    return DrawnParts(bounds, lambda start, stop: materialise(ctx.prepared, drawn.iloc[start:stop], columns))


def appraise(ctx: MixContext) -> None:
    """Fit the appraisal atoms' label models and the verifier (train rows only) and summarise the scores
    of every record shard (the held-out shards batch by batch)."""
    with ctx.reporter.stage(f"appraisal {ctx.name}"):
        train, held = fit_parts(ctx)  # train shards cut to the fit sample (`--fit-rows`)
        ctx.appraisal = fit_mix_appraisal(train, held, ctx.config.seed, ctx.config.negation == "on",
                                          ctx.annotator.scoper.method)


def flip_pairs(ctx: MixContext) -> None:
    """Generate the Valence-Flip pairs from the train rows (unless `--flip-frac 0`): drawn on the narrow
    train rows, each partition of the drawn rows read from disk when the engine takes it."""
    if ctx.config.flip_frac <= 0:
        return
    with ctx.reporter.stage(f"valence-flip pairs {ctx.name}"):
        # x' is re-scored by the annotate stage; its LF votes are not needed.
        scorer = dataclasses.replace(ctx.annotator, lfs=(), appraisal_lfs=())
        drawn = ctx.train_rows.iloc[drawn_positions(ctx.train_rows["id"], ctx.config.flip_frac, ctx.config.seed)]
        results = ctx.engine.map(flip_part, flip_rows(ctx, drawn),
                                 part_args(scorer, None, load_flips(), FLIP_BATCH), consume=pairs_part)
        ctx.pairs, ctx.pair_tally = pairs_table(results, len(drawn))
