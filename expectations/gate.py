"""The QC gate: run the suites of `checks.py` with Great Expectations over a build's frames.

    result = run_gate(root, manifest)          # root: the build folder (or its temp folder)
    result.success                             # False when any critical expectation failed
    manifest["qc"] = result.summary()          # per suite: evaluated, failed_critical, failed_warning
    (root / "manifests" / "qc.json").write_text(json.dumps(result.to_json()))
    print(result.failures_text())
    render_docs(root, manifest, out_dir)       # offline Data Docs page; returns out_dir/index.html

Great Expectations is imported only inside the functions that run it (its import takes seconds).
One ephemeral GX context per run, with a pandas data source and one dataframe asset and batch per
frame. Each frame is validated once, all its checks in one unsaved ExpectationSuite (`Batch.validate`:
metrics shared by several checks are computed once; no suite, validation definition or result is
serialised into a store). The first pass asks only for counts and observed values (`BASIC`); the
checks that failed run again with `SUMMARY` and the frame's index columns to name offending rows.
The suites are read straight from the frames `frames.py` builds (no copy per suite).
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from expectations.checks import (CRITICAL, WARNING, Check, Skipped, distribution_checks, json_safe, mix_checks,
                                 pairs_checks, record_checks)

#: Rows of one GX batch of the streamed gate (whole shards are batched; the write stage's files hold
#: at most 50,000 rows, so a batch is one or a few files).
BATCH_ROWS = 50_000

SUITES = ("record", "mix", "distribution", "pairs")
#: How many offending rows each failing expectation reports.
EXAMPLES = 5
#: Columns that identify an offending row of each frame in the results.
INDEX_COLUMNS = {"records": ["id", "shard"], "columns": ["shard", "column"], "counts": ["item"],
                 "labels": ["group", "top_label"], "vad": ["source"], "pairs": ["pair"]}
_MAP_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count")


@dataclass
class ExpectationOutcome:
    """The result of one expectation."""

    suite: str
    expectation: str                 # GX expectation type, e.g. expect_column_values_to_be_between
    column: str | None
    success: bool
    severity: str                    # "critical" | "warning"
    observed: Any                    # observed_value, or unexpected counts for row-wise expectations
    unexpected_examples: list        # a few offending rows: index columns (ids where possible) + value
    check: str = ""                  # stable name of the check, e.g. record.vad_v_range
    description: str = ""
    expected: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The outcome as plain JSON values."""
        return json_safe(asdict(self))


@dataclass
class GateResult:
    """All outcomes of one gate run. `success` is False when any critical expectation failed."""

    success: bool
    outcomes: list[ExpectationOutcome]
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)
    rows: int = 0
    gx_version: str = ""

    def failed(self, severity: str | None = None) -> list[ExpectationOutcome]:
        """Failing outcomes, optionally of one severity."""
        return [o for o in self.outcomes if not o.success and (severity is None or o.severity == severity)]

    def summary(self) -> dict:
        """Per suite: evaluated, failed_critical, failed_warning (deterministic: no timings)."""
        suites = {}
        for suite in SUITES:
            mine = [o for o in self.outcomes if o.suite == suite]
            skipped = sorted(s.name for s in self.skipped if s.suite == suite)
            if not mine and not skipped:
                continue
            suites[suite] = {"evaluated": len(mine),
                             "failed_critical": sum(not o.success and o.severity == CRITICAL for o in mine),
                             "failed_warning": sum(not o.success and o.severity == WARNING for o in mine)}
            if skipped:
                suites[suite]["skipped"] = skipped
        return {"success": self.success, "great_expectations": self.gx_version, "rows": self.rows, "suites": suites}

    def to_json(self, timing: bool = False) -> dict:
        """Full results; deterministic unless `timing` adds the gate's seconds."""
        out = self.summary() | {
            "outcomes": [o.to_json() for o in self.outcomes],
            "skipped": [asdict(s) for s in self.skipped],
        }
        if timing:
            out["seconds"] = round(self.seconds, 3)
        return out

    def failures_text(self, examples: int = 3) -> str:
        """Each failing expectation (critical first) with a few offending rows."""
        failed = sorted(self.failed(), key=lambda o: (o.severity != CRITICAL, SUITES.index(o.suite), o.check))
        if not failed:
            return "QC gate: all expectations met."
        n_crit = sum(o.severity == CRITICAL for o in failed)
        lines = [f"QC gate: {n_crit} critical and {len(failed) - n_crit} warning expectation(s) failed."]
        for o in failed:
            column = f" on {o.column}" if o.column else ""
            lines.append(f"[{o.severity}] {o.check}: {o.expectation}{column} — {o.description}")
            lines.append(f"    {_observed(o)}")
            for example in o.unexpected_examples[:examples]:
                lines.append("    - " + ", ".join(f"{k}={_short(v)}" for k, v in example.items()))
            if len(o.unexpected_examples) > examples:
                lines.append(f"    - ... ({len(o.unexpected_examples) - examples} more shown in the JSON results)")
        return "\n".join(lines)


def _observed(o: ExpectationOutcome) -> str:
    expected = ", ".join(f"{k}={_short(v)}" for k, v in o.expected.items())
    observed = o.observed
    if isinstance(observed, dict) and "unexpected_count" in observed:
        text = (f"{observed['unexpected_count']:,} of {observed.get('element_count', 0):,} rows unexpected "
                f"({observed.get('unexpected_percent') or 0:.3g}%)")
    else:
        text = f"observed {_short(round(observed, 6) if isinstance(observed, float) else observed)}"
    return f"{text}; expected {expected}" if expected else text


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ---- Great Expectations plumbing ------------------------------------------------------------------

def _import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    return gx


def _context(gx):
    """One ephemeral, in-memory GX context (no stores on disk, no Data Docs site, no analytics)."""
    from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                            ProgressBarsConfig)
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               progress_bars=ProgressBarsConfig(globally=False), analytics_enabled=False)
    return gx.get_context(mode="ephemeral", project_config=config)


def _row_condition(where: dict):
    from great_expectations.expectations.row_conditions import Column
    condition = None
    for column, value in where.items():
        part = Column(column).is_in(list(value)) if isinstance(value, (list, tuple)) else Column(column) == value
        condition = part if condition is None else condition & part
    return condition


def _expectation(gx, check: Check):
    cls = getattr(gx.expectations, check.expectation)
    kwargs = {k: v for k, v in check.kwargs.items() if v is not None}
    if check.where:
        kwargs["row_condition"] = _row_condition(check.where)
    return cls(**kwargs, severity=check.severity, description=check.description, meta={"check": check.name})


def _outcome(check: Check, result) -> ExpectationOutcome:
    res = result.result or {}
    if "observed_value" in res:
        observed = res["observed_value"]
    elif result.exception_info and result.exception_info.get("raised_exception"):
        observed = {"exception": result.exception_info.get("exception_message")}
    else:
        observed = {k: res[k] for k in _MAP_KEYS if k in res}
    examples = []
    if not result.success:
        for row in (res.get("partial_unexpected_index_list") or [])[:EXAMPLES]:
            examples.append(dict(row) if isinstance(row, dict) else {"index": row})
        if not examples:
            examples = [{"value": v} for v in (res.get("partial_unexpected_list") or [])[:EXAMPLES]]
    expected = {k: v for k, v in check.kwargs.items() if k not in ("column", "column_A", "column_B")}
    if check.where:
        expected["where"] = check.where
    return ExpectationOutcome(
        suite=check.suite, expectation=result.expectation_config.type, column=check.column,
        success=bool(result.success), severity=check.severity, observed=json_safe(observed),
        unexpected_examples=json_safe(examples), check=check.name, description=check.description,
        expected=json_safe(expected))


def plan(root: Path, manifest: dict):
    """Read the whole build into frames and decide the checks: (frames, checks, skipped). No GX needed."""
    from expectations.frames import load_frames

    frames = load_frames(Path(root), manifest)
    checks = _record_checks(manifest, frames.optional_columns)
    mix, skipped = mix_checks(manifest, frames.mixed_rows, frames.largest_dev_group)
    checks += mix
    skipped += _small_frame_checks(checks, frames.labels, frames.vad, frames.pairs)
    return frames, checks, skipped


def _record_checks(manifest: dict, optional_columns: list[tuple[str, str]]) -> list[Check]:
    from catalog import load_catalog

    th = manifest.get("thresholds") or {}
    return record_checks(float(th.get("vad_conf_min", 0.0)), int(th.get("min_tokens", 0)),
                         int(th.get("max_tokens", 10 ** 9)), list(load_catalog().sources), optional_columns)


def _small_frame_checks(checks: list[Check], labels, vad, pairs) -> list[Skipped]:
    """Append the distribution and pairs checks to `checks`; returns what was skipped."""
    dist, skipped = distribution_checks(len(labels), len(vad))
    checks += dist
    if pairs is not None:
        checks += pairs_checks()
    else:
        skipped.append(Skipped("pairs", "pairs", "no pairs shard in the build"))
    return skipped


#: First pass: counts and observed values only (no offending rows); SUMMARY with index columns costs
#: about 1.5x as much per expectation and is only needed for what failed.
_FIRST_PASS = {"result_format": "BASIC", "partial_unexpected_count": 0}


def _run(gx, batch, checks: list[Check], result_format: dict) -> dict[str, Any]:
    """Validate `checks` on one batch as one suite (metrics shared by several checks are computed once);
    {check name: GX result}. The suite is not stored: nothing is kept between runs."""
    suite = gx.ExpectationSuite(name=f"emodata.{checks[0].frame}", expectations=[_expectation(gx, c) for c in checks])
    run = batch.validate(suite, result_format=result_format)
    return {r.expectation_config.meta["check"]: r for r in run.results}


def _check_frame(gx, source, name: str, frame, checks: list[Check], index: str | None = None) -> dict[str, Any]:
    """Validate `checks` on one whole frame: first pass, then the failed ones again naming offending rows."""
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name).get_batch(
        batch_parameters={"dataframe": frame})
    results = _run(gx, batch, checks, _FIRST_PASS)
    failed = [c for c in checks if not results[c.name].success]
    if failed:  # again, with a few offending rows named by the frame's index columns
        results |= _run(gx, batch, failed, _summary(index or name))
    return results


def _summary(frame_name: str) -> dict:
    return {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES,
            "unexpected_index_column_names": INDEX_COLUMNS[frame_name]}


def _result(gx, started: float, checks: list[Check], results: dict[str, Any], skipped: list[Skipped],
            rows: int) -> GateResult:
    outcomes = [_outcome(c, results[c.name]) for c in checks]
    success = not any(not o.success and o.severity == CRITICAL for o in outcomes)
    return GateResult(success=success, outcomes=outcomes, seconds=time.perf_counter() - started,
                      skipped=skipped, rows=rows, gx_version=gx.__version__)


def _validate(root: Path, manifest: dict) -> GateResult:
    """The whole-frame gate: every record of the build in one GX batch (the streamed gate's reference)."""
    started = time.perf_counter()
    gx = _import_gx()
    frames, checks, skipped = plan(root, manifest)
    source = _context(gx).data_sources.add_pandas("emodata")
    by_frame: dict[str, list[Check]] = {}
    for check in checks:
        by_frame.setdefault(check.frame, []).append(check)
    results: dict[str, Any] = {}
    for frame_name, group in by_frame.items():
        results |= _check_frame(gx, source, frame_name, frames.frame(frame_name), group)
    return _result(gx, started, checks, results, skipped, len(frames.records))


def run_gate(root: Path, manifest: dict, batch_rows: int | None = BATCH_ROWS) -> GateResult:
    """Validate the build under `root` (described by `manifest`) with the record, mix, distribution
    and pairs suites; critical failures make `success` False.

    The records are validated in GX batches of whole shards of at most `batch_rows` rows
    (`expectations.streamed`: memory bounded by a batch, results identical to one batch of every
    record); `batch_rows=None` validates the whole build as one frame (the reference)."""
    if batch_rows is None:
        return _validate(Path(root), manifest)
    from expectations.streamed import validate_streamed

    return validate_streamed(Path(root), manifest, int(batch_rows))


def render_docs(root: Path, manifest: dict, out_dir: Path) -> Path:
    """Run the suites and write offline Data Docs (one self-contained page of the GX results, no CDN:
    `expectations/docs.py`) into `out_dir`; returns its index.html."""
    from expectations.docs import render_docs_page

    result = run_gate(root, manifest)
    title = f"Data Docs: {manifest.get('name', Path(root).name)}"
    return render_docs_page(result.to_json(), Path(out_dir).resolve(), title)
