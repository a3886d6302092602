"""Filtering, A:B mixture sizing and the seeded, dialogue-aware train/dev split (pure functions)."""
from __future__ import annotations

import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from emodata.core.errors import EmodataError
from emodata.core.hashing import sha1_text


@dataclass(frozen=True)
class Ratio:
    """An A:B mixture ratio such as 20:80."""

    a: int
    b: int

    @classmethod
    def parse(cls, text: str) -> "Ratio":
        """Parse "A:B" with non-negative integers, not both zero."""
        try:
            a, b = (int(x) for x in text.split(":"))
        except ValueError:
            raise ValueError(f"--mix must look like 20:80, not {text!r}") from None
        if a < 0 or b < 0 or a + b == 0:
            raise ValueError(f"--mix {text!r}: parts must be non-negative and not both zero")
        return cls(a, b)

    @property
    def name(self) -> str:
        """Folder/manifest name, e.g. mix_20_80."""
        return f"mix_{self.a}_{self.b}"

    @property
    def share_a(self) -> float:
        """A's share of the mixture."""
        return self.a / (self.a + self.b)


def filter_rows(frame: pd.DataFrame, min_tokens: int, max_tokens: int,
                vad_conf_min: float) -> tuple[pd.DataFrame, Counter]:
    """Drop rows by the first failing rule and count each reason.

    Order: no lexicon coverage, too short, too long, low vad_conf, duplicate sha1(text‖id),
    duplicate exact text (the first occurrence in reading order is kept).
    """
    drops: Counter = Counter()
    reasons = np.full(len(frame), "", dtype=object)
    n_cov = frame["n_covered"].to_numpy()
    n_tok = frame["n_tokens"].to_numpy()
    conf = frame["vad_conf"].to_numpy()
    reasons[(reasons == "") & (n_cov == 0)] = "no_lexicon_coverage"
    reasons[(reasons == "") & (n_tok < min_tokens)] = "too_short"
    reasons[(reasons == "") & (n_tok > max_tokens)] = "too_long"
    reasons[(reasons == "") & (conf < vad_conf_min)] = "low_vad_conf"
    alive = reasons == ""
    dup_key = frame["dedup_key"].duplicated(keep="first").to_numpy()
    reasons[alive & dup_key] = "duplicate_id_text"
    alive = reasons == ""
    dup_text = np.zeros(len(frame), dtype=bool)
    dup_text[alive] = frame.loc[alive, "text_key"].duplicated(keep="first").to_numpy()
    reasons[alive & dup_text] = "duplicate_text"
    drops.update(r for r in reasons if r)
    return frame[reasons == ""].reset_index(drop=True), drops


#: `filter_parquet`'s rule codes: 0 = kept, else the first rule a row fails (the order `filter_rows` applies).
FILTER_RULES = ("", "no_lexicon_coverage", "too_short", "too_long", "low_vad_conf", "duplicate_id_text",
                "duplicate_text")
#: `filter_rows` as one DuckDB query over the Parquet parts of an annotated source (positions in reading
#: order over the parts, in the order given): each row's position and rule code. Chosen by measurement
#: (benchmarks/bench_selection.py): the same rows as the pandas filter in about the same time, 40 % less
#: memory, and DuckDB spills to disk instead of holding every row's keys in Python objects.
FILTER_SQL = """
WITH rows AS (
  SELECT *, row_number() OVER (ORDER BY file_index, file_row_number) - 1 AS pos
  FROM (SELECT n_covered, n_tokens, vad_conf, dedup_key, text_key, file_row_number,
               list_position($paths, filename) AS file_index
        FROM read_parquet($paths, filename = true, file_row_number = true, union_by_name = true))),
ruled AS (
  SELECT pos, text_key,
         CASE WHEN n_covered = 0 THEN 1 WHEN n_tokens < $min_tokens THEN 2 WHEN n_tokens > $max_tokens THEN 3
              WHEN vad_conf < $vad_conf_min THEN 4
              WHEN row_number() OVER (PARTITION BY dedup_key ORDER BY pos) > 1 THEN 5 ELSE 0 END AS rule
  FROM rows)
SELECT pos, CASE WHEN rule = 0 AND row_number() OVER (PARTITION BY text_key, rule = 0 ORDER BY pos) > 1
                 THEN 6 ELSE rule END AS rule
FROM ruled ORDER BY pos
"""


#: The most memory DuckDB may use for the filter query; beyond it, it spills to `spill_dir` (results unchanged).
FILTER_MEMORY_LIMIT = "1GB"


def filter_parquet(paths: list[Path], min_tokens: int, max_tokens: int, vad_conf_min: float,
                   spill_dir: Path | None = None) -> tuple[np.ndarray, Counter]:
    """(positions of the rows kept, drops by reason) of `filter_rows` applied to the rows of the Parquet
    `paths` in order (an annotated source's parts), computed by DuckDB on the files: only the kept
    positions and the counts come back, never a frame of every row. DuckDB holds at most
    `FILTER_MEMORY_LIMIT` and spills the rest into a temporary folder in `spill_dir` (the build's OUT;
    the system temp folder without one), removed afterwards."""
    import duckdb

    if not paths:
        return np.empty(0, np.int64), Counter()
    if spill_dir is not None:
        Path(spill_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".emodata-filter.tmp-", dir=spill_dir) as spill:
        con = duckdb.connect(config={"memory_limit": FILTER_MEMORY_LIMIT, "temp_directory": spill})
        return _filter_query(con, paths, min_tokens, max_tokens, vad_conf_min)


def _filter_query(con, paths: list[Path], min_tokens: int, max_tokens: int,
                  vad_conf_min: float) -> tuple[np.ndarray, Counter]:
    """`filter_parquet`'s query on the DuckDB connection `con` (closed afterwards)."""
    try:
        params = {"paths": [str(p) for p in paths], "min_tokens": min_tokens, "max_tokens": max_tokens,
                  "vad_conf_min": vad_conf_min}
        table = con.sql(FILTER_SQL, params=params).to_arrow_table()
    finally:
        con.close()
    positions, rules = table.column("pos").to_numpy(), table.column("rule").to_numpy()
    if len(positions) and not np.array_equal(positions, np.arange(len(positions))):
        raise RuntimeError("filter_parquet: the parts' rows did not come back in reading order")
    counts = np.bincount(rules, minlength=len(FILTER_RULES))
    return positions[rules == 0].astype(np.int64), Counter({FILTER_RULES[i]: int(n) for i, n in enumerate(counts)
                                                           if i and n})


#: Value of each ASCII byte as a hex digit (lower or upper case); 255 where the byte is no hex digit.
_HEX = np.full(256, 255, np.uint8)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


def key_bytes(keys: pa.Array | pa.ChunkedArray, where: str) -> pd.Series:
    """Text keys (SHA-1 hex digests, `annotate.text_key`) as their 20 bytes, a compact Arrow-backed
    column (20 bytes a row instead of a 40-character string): equal keys stay equal, so `isin` and
    `duplicated` answer as on the strings. Decoded with numpy, no Python object per row. A key that is
    not 40 hex digits is refused, naming `where` and its row."""
    keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    keys = keys.cast(pa.large_string())
    n = len(keys)
    offsets = np.frombuffer(keys.buffers()[1], np.int64, n + 1, keys.offset * 8)
    digits = np.frombuffer(keys.buffers()[2], np.uint8, int(offsets[-1] - offsets[0]), int(offsets[0])) \
        if n else np.empty(0, np.uint8)
    values = _HEX[digits]
    bad = np.flatnonzero(np.diff(offsets) != 40) if n else []
    if keys.null_count or len(bad) or (values == 255).any():
        row = (int(pa.compute.index(pa.compute.is_null(keys), True).as_py()) if keys.null_count else
               int(bad[0]) if len(bad) else int(np.flatnonzero(values == 255)[0] // 40))
        raise ValueError(f"{where} row {row}: text_key {keys[row].as_py()!r} is not a SHA-1 hex digest "
                         "(40 hex digits)")
    pairs = values.reshape(n, 20, 2)
    raw = (pairs[:, :, 0] << 4 | pairs[:, :, 1]).astype(np.uint8)
    array = pa.FixedSizeBinaryArray.from_buffers(pa.binary(20), n, [None, pa.py_buffer(raw.tobytes())])
    return pd.Series(pd.arrays.ArrowExtensionArray(array), name="text_key")


#: The option that governs each filter, named in the error when a filter removes everything.
FILTER_OPTIONS = {"no_lexicon_coverage": "--lexicon", "too_short": "--min-tokens", "too_long": "--max-tokens",
                  "low_vad_conf": "--vad-conf-min"}


def _drop_list(drops: Counter) -> str:
    parts = [f"{reason} {n:,}" + (f" ({FILTER_OPTIONS[reason]})" if reason in FILTER_OPTIONS else "")
             for reason, n in sorted(drops.items(), key=lambda kv: (-kv[1], kv[0])) if n]
    return ", ".join(parts) or "nothing"


def require_rows_kept(source: str, rows_in: int, kept: int, drops: Counter) -> None:
    """Refuse a source whose every row the filters removed, naming each filter and its row count."""
    if kept == 0:
        raise EmodataError(f"every row of {source} was filtered out: {rows_in:,} rows annotated, dropped by "
                           f"filter: {_drop_list(drops)}")


def require_mix_satisfiable(ratio: Ratio, drawn: dict[str, int], pools: dict[str, int],
                            explained: dict[str, str]) -> None:
    """Refuse a mix that draws no row from a source it asks for, naming the source and its pool sizes.

    `drawn` and `pools` map each member source to rows drawn and rows available; `explained` says per
    source where its other rows went (filters, test split, cross-source duplicates).
    """
    empty = [name for name, n in drawn.items() if n == 0]
    if not empty:
        return
    sizes = ", ".join(f"{name} {n:,}" for name, n in pools.items())
    exhausted = [name for name in empty if pools[name] == 0]
    if exhausted:
        why = "; ".join(f"{name}: {explained[name]}" for name in exhausted if explained.get(name))
        raise EmodataError(f"mix {ratio.a}:{ratio.b} cannot be satisfied: {', '.join(exhausted)} has no "
                           f"train/validation rows left to draw (rows available: {sizes})"
                           + (f"; {why}" if why else ""))
    raise EmodataError(f"mix {ratio.a}:{ratio.b} cannot be satisfied: it would draw 0 rows of {', '.join(empty)} "
                       f"(rows available: {sizes}); the pools are too small for this ratio")


def mixture_sizes(n_a: int, n_b: int, ratio: Ratio) -> tuple[int, int]:
    """The largest (rows of A, rows of B) with the requested ratio, drawn without replacement."""
    if ratio.b == 0:
        return n_a, 0
    if ratio.a == 0:
        return 0, n_b
    total = min(n_a * (ratio.a + ratio.b) / ratio.a, n_b * (ratio.a + ratio.b) / ratio.b)
    return min(n_a, math.floor(total * ratio.share_a + 1e-9)), min(n_b, math.floor(total * (1 - ratio.share_a) + 1e-9))


def _rng(seed: int, source: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(sha1_text(source)[:8], 16)])


def select_and_split(pool: pd.DataFrame, n_use: int, dev_frac: float, seed: int, source: str) -> pd.DataFrame:
    """Draw `n_use` rows and split them train/dev, keeping dialogues whole where possible.

    Groups (a dialogue's `conv_id`, else the row id) are shuffled with a seed derived from `seed`
    and the source name; rows are taken group by group in turn order until `n_use` (the last group
    may be cut). Dev is the leading groups up to round(n_use·dev_frac) rows, extended to the end of
    the group it stops in, so no dialogue straddles train and dev. Returns the drawn rows in their
    frozen order with `split` and `perm_rank` columns.
    """
    if n_use == 0:
        return pool.iloc[0:0].assign(split=pd.Series(dtype=object), perm_rank=pd.Series(dtype="int64"))
    groups = pool["conv_id"].where(pool["conv_id"].notna(), pool["id"]).to_numpy()
    unique = pd.unique(groups)
    order = _rng(seed, source).permutation(len(unique))
    rank_of_group = pd.Series(np.empty(len(unique), dtype=np.int64), index=unique)
    rank_of_group.iloc[order] = np.arange(len(unique))
    turn = pool["turn"].fillna(0).astype("int64").to_numpy()
    frame = pool.assign(_group_rank=rank_of_group.loc[groups].to_numpy(), _turn=turn)
    frame = frame.sort_values(["_group_rank", "_turn"], kind="stable").head(n_use)
    n_dev_target = round(n_use * dev_frac)
    if n_dev_target == 0:
        is_dev = np.zeros(len(frame), dtype=bool)
    else:
        last_dev_group = frame["_group_rank"].iloc[n_dev_target - 1]
        is_dev = (frame["_group_rank"] <= last_dev_group).to_numpy()
    frame = frame.assign(split=np.where(is_dev, "dev", "train"), perm_rank=np.arange(len(frame)))
    return frame.drop(columns=["_group_rank", "_turn"]).reset_index(drop=True)
