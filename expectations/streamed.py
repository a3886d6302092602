"""The streamed QC gate: the same Great Expectations suites and results as the whole-frame gate
(`gate._validate`), with memory bounded by a batch of shards instead of the build.

    result = validate_streamed(root, manifest, batch_rows=50_000)   # what run_gate does by default

Pass 1 (`scan.scan_build`) keeps compact facts of every record: hashed ids and texts for the id and
leak checks (candidates confirmed exactly), the train/dev rows' role and source. Pass 2 validates the
record suite on one GX batch per group of whole shards (`scan.iter_batches`); `merge.CheckMerge` folds
the batches' results into one outcome per check. The mean checks (A share, dev fractions) are
validated on the `mix` frame of pass 1: the train/dev rows only, 4 one-byte/float columns, which are
every row their row conditions select, in the same order, so GX computes the same mean over the same
values (their rows grow with the requested mixture, not with the probe, which is most of a build). The
small frames (columns, counts, labels, vad, pairs) are validated whole as before.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expectations.checks import Check, mix_checks
from expectations.frames import optional_columns
from expectations.small_frames import count_frame, label_groups, vad_stats
from expectations.gate import (_FIRST_PASS, EXAMPLES, GateResult, _check_frame, _context, _import_gx,
                               _record_checks, _result, _run, _small_frame_checks, _summary)
from expectations.merge import CheckMerge
from expectations.scan import BuildScan, iter_batches, scan_build

_VAD = ["vad_v", "vad_a", "vad_d"]
_MEAN = "ExpectColumnMeanToBeBetween"


def _duplicates(scan: BuildScan) -> tuple[int, list[tuple[dict, str]]]:
    """The rows with a repeated id: how many, and the first EXAMPLES as GX names them ({id, shard}, id)."""
    out = []
    starts = np.array([s.start for s in scan.shards])
    for row, value in scan.duplicate_ids[:EXAMPLES]:
        shard = scan.shards[int(np.searchsorted(starts, row, side="right")) - 1]
        out.append(({"id": value, "shard": shard.name}, value))
    return len(scan.duplicate_ids), out


def _validate_batches(gx, source, root: Path, manifest: dict, scan: BuildScan, checks: list[Check],
                      batch_rows: int) -> tuple[dict[str, CheckMerge], list[tuple], VadValues]:
    """Pass 2: validate `checks` on every batch of records; (merges, label counts, vad values per source)."""
    merges = {c.name: CheckMerge(EXAMPLES) for c in checks}
    label_counts: list[tuple] = []
    vad = VadValues()
    definition = source.add_dataframe_asset("records").add_batch_definition_whole_dataframe("records")
    for frame, counts in iter_batches(root, manifest, scan, batch_rows):
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        results = _run(gx, batch, checks, _FIRST_PASS) if checks else {}
        for check in checks:
            merges[check.name].add(results[check.name])
        wanted = [c for c in checks if merges[c.name].wants_examples(results[c.name])]
        if wanted:
            for name, result in _run(gx, batch, wanted, _summary("records")).items():
                merges[name].add_examples(result)
        label_counts += counts
        vad.add(frame)
        del frame, batch, results
    return merges, label_counts, vad


@dataclass
class VadValues:
    """The VAD values of every record, per source in row order, and what decides how pandas sums them:
    the sequence of source runs (pandas' groupby means use `np.add.reduceat` when the group codes are
    sorted and a column has no NaN, else a compensated cython sum) and which columns hold a NaN."""

    values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    runs: list = field(default_factory=list)
    nan: set = field(default_factory=set)

    def add(self, frame: pd.DataFrame) -> None:
        """Fold in one batch of records (its `source` and vad columns)."""
        sources = frame["source"]
        for value in pd.unique(sources.dropna()):
            self.values.setdefault(value, []).append(frame.loc[(sources == value).to_numpy(), _VAD].to_numpy())
        keys = sources.astype(object).where(sources.notna(), None).to_numpy()
        if len(keys):
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            for key in keys[starts]:
                if not self.runs or self.runs[-1] != key:
                    self.runs.append(key)
        self.nan |= {c for c in _VAD if frame[c].isna().any()}

    def stats(self) -> pd.DataFrame:
        """`frames.vad_stats` of all records, one source at a time with the same summation as all at once:
        a one-row stand-in group (`""`, dropped) keeps or breaks the sorted order and adds a NaN where the
        whole build has one."""
        codes = {key: i for i, key in enumerate(sorted(self.values))}
        seq = [codes.get(key, -1) for key in self.runs]
        monotonic = all(a <= b for a, b in zip(seq, seq[1:]))
        stand_in = np.array([[np.nan if monotonic and c in self.nan else 0.0 for c in _VAD]])
        stats = []
        for value in sorted(self.values):
            rows = np.concatenate(self.values.pop(value))
            rows = np.concatenate([stand_in, rows] if monotonic else [rows, stand_in])
            keys = np.full(len(rows), value, dtype=object)
            keys[0 if monotonic else -1] = ""
            frame = pd.DataFrame({"source": keys} | {c: rows[:, i] for i, c in enumerate(_VAD)})
            stats.append(vad_stats(frame))
        if not stats:
            return vad_stats(pd.DataFrame({"source": pd.Series(dtype=object)} |
                                          {c: pd.Series(dtype="float64") for c in _VAD}))
        out = pd.concat(stats, ignore_index=True)
        return out[(out["source"] != "").to_numpy()].reset_index(drop=True)


def validate_streamed(root: Path, manifest: dict, batch_rows: int) -> GateResult:
    """Run the gate's suites over the build under `root`, records a batch of shards at a time."""
    started = time.perf_counter()
    gx = _import_gx()
    scan = scan_build(root, manifest)
    checks = _record_checks(manifest, optional_columns(scan.columns))
    mix, skipped = mix_checks(manifest, scan.mixed_rows, scan.largest_dev_group)
    checks += mix
    source = _context(gx).data_sources.add_pandas("emodata")
    on_records = [c for c in checks if c.frame == "records"]
    row_wise = [c for c in on_records if c.expectation != _MEAN]
    merges, label_counts, vad = _validate_batches(gx, source, root, manifest, scan, row_wise, batch_rows)
    duplicates = _duplicates(scan)
    results: dict[str, Any] = {name: m.merged(duplicates) for name, m in merges.items()}
    means = [c for c in on_records if c.expectation == _MEAN]
    if means:
        results |= _check_frame(gx, source, "mix", scan.mix, means, index="records")
    frames = {"columns": pd.DataFrame(scan.column_rows, columns=["shard", "column", "present", "type_ok", "type"]),
              "counts": count_frame(scan.count_rows), "labels": label_groups(label_counts), "vad": vad.stats(),
              "pairs": None}
    if scan.pairs_tables:
        from expectations.small_frames import pairs_frame

        frames["pairs"] = pairs_frame(scan.pairs_tables, scan.text_of, scan.v_of, scan.flip_ids_used)
    skipped += _small_frame_checks(checks, frames["labels"], frames["vad"], frames["pairs"])
    by_frame: dict[str, list[Check]] = {}
    for check in checks:
        if check.frame != "records":
            by_frame.setdefault(check.frame, []).append(check)
    for frame_name, group in by_frame.items():
        results |= _check_frame(gx, source, frame_name, frames[frame_name], group)
    return _result(gx, started, checks, results, skipped, scan.rows)
