"""The QC gate: run the suites of `checks.py` with Great Expectations over a build's frames.

    result = run_gate(root, manifest)          # root: the build folder (or its temp folder)
    result.success                             # False when any critical expectation failed
    manifest["qc"] = result.summary()          # per suite: evaluated, failed_critical, failed_warning
    (root / "manifests" / "qc.json").write_text(json.dumps(result.to_json()))
    print(result.failures_text())
    render_docs(root, manifest, out_dir)       # offline Data Docs page; returns out_dir/index.html

Great Expectations is imported only inside the functions that run it (its import takes seconds).
One ephemeral GX context per run: a pandas data source with one dataframe asset per frame, a
whole-dataframe batch definition each, one ExpectationSuite per (suite, frame) and a
ValidationDefinition per suite; `render_docs` runs the same definitions through one Checkpoint each
and builds a filesystem Data Docs site once at the end (an UpdateDataDocsAction per Checkpoint would
rebuild the whole site after every suite).
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from expectations.checks import (CRITICAL, WARNING, Check, Skipped, distribution_checks, json_safe, mix_checks, pairs_checks,
                     record_checks)

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
    docs_index: Path | None = None

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


def _context(gx, docs_dir: Path | None):
    from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                            ProgressBarsConfig)
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               progress_bars=ProgressBarsConfig(globally=False), analytics_enabled=False)
    if docs_dir is not None:
        config.data_docs_sites = {"emodata": {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}}}
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
    """Read the build and decide the checks: (frames, checks, skipped). No GX needed."""
    from catalog import load_catalog

    from expectations.frames import load_frames

    frames = load_frames(Path(root), manifest)
    th = manifest.get("thresholds") or {}
    checks = record_checks(float(th.get("vad_conf_min", 0.0)), int(th.get("min_tokens", 0)),
                           int(th.get("max_tokens", 10 ** 9)), list(load_catalog().sources),
                           frames.optional_columns)
    mix, skipped = mix_checks(manifest, frames.mixed_rows, frames.largest_dev_group)
    dist, skipped_dist = distribution_checks(len(frames.labels), len(frames.vad))
    checks += mix + dist
    skipped += skipped_dist
    if frames.pairs is not None:
        checks += pairs_checks()
    else:
        skipped.append(Skipped("pairs", "pairs", "no pairs shard in the build"))
    return frames, checks, skipped


def _validate(root: Path, manifest: dict, docs_dir: Path | None = None) -> GateResult:
    started = time.perf_counter()
    gx = _import_gx()
    frames, checks, skipped = plan(root, manifest)
    context = _context(gx, docs_dir)
    source = context.data_sources.add_pandas("emodata")
    groups: dict[tuple[str, str], list[Check]] = {}
    for check in checks:
        groups.setdefault((check.suite, check.frame), []).append(check)
    batch_definitions = {}
    outcomes: list[ExpectationOutcome] = []
    for (suite_name, frame_name), group in groups.items():
        frame = frames.frame(frame_name)
        if frame_name not in batch_definitions:
            asset = source.add_dataframe_asset(frame_name)
            batch_definitions[frame_name] = asset.add_batch_definition_whole_dataframe(frame_name)
        gx_name = suite_name if frame_name == "records" or suite_name == frame_name else f"{suite_name}.{frame_name}"
        suite = context.suites.add(gx.ExpectationSuite(name=gx_name, expectations=[_expectation(gx, c) for c in group]))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=gx_name, data=batch_definitions[frame_name], suite=suite))
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES,
                         "unexpected_index_column_names": INDEX_COLUMNS[frame_name]}
        if docs_dir is None:
            run = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
        else:
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=gx_name, validation_definitions=[definition], result_format=result_format, actions=[]))
            run = next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.values()))
        by_name = {c.name: c for c in group}
        outcomes += [_outcome(by_name[r.expectation_config.meta["check"]], r) for r in run.results]
    order = {c.name: i for i, c in enumerate(checks)}
    outcomes.sort(key=lambda o: order[o.check])
    success = not any(not o.success and o.severity == CRITICAL for o in outcomes)
    docs_index = None
    if docs_dir is not None:
        context.build_data_docs()
        docs_index = docs_dir / "index.html"
        if not docs_index.is_file():
            raise RuntimeError(f"Great Expectations wrote no Data Docs index into {docs_dir}")
    return GateResult(success=success, outcomes=outcomes, seconds=time.perf_counter() - started,
                      skipped=skipped, rows=len(frames.records), gx_version=gx.__version__, docs_index=docs_index)


def run_gate(root: Path, manifest: dict, docs_dir: Path | None = None) -> GateResult:
    """Validate the build under `root` (described by `manifest`) with the record, mix, distribution
    and pairs suites; critical failures make `success` False. With `docs_dir`, the same run also
    writes GX Data Docs there (through Checkpoints; slower) and sets `docs_index`."""
    if docs_dir is not None:
        docs_dir = Path(docs_dir).resolve()
        docs_dir.mkdir(parents=True, exist_ok=True)
    return _validate(Path(root), manifest, docs_dir)


def render_docs(root: Path, manifest: dict, out_dir: Path) -> Path:
    """Run the suites and write offline Data Docs (one self-contained page of the GX results, no CDN:
    `expectations/docs.py`) into `out_dir`; returns its index.html. `run_gate(docs_dir=...)` still
    builds GX's own site, which needs network for its styles and scripts."""
    from expectations.docs import render_docs_page

    result = run_gate(root, manifest)
    title = f"Data Docs: {manifest.get('name', Path(root).name)}"
    return render_docs_page(result.to_json(), Path(out_dir).resolve(), title)
