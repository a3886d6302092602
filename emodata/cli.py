"""The `emodata` command line: build, verify, qc, report, query, export, and the trainer's train, eval,
screen and score."""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from emodata.core.config import (AppraisalConfig, BuildConfig, ExportConfig, NegationConfig, QcConfig, QueryConfig,
                                 ReportConfig, VerifyConfig, add_arguments, config_file_values, from_namespace)
from emodata.core.errors import EmodataError

COMMANDS = {
    "build": (BuildConfig, "read sources, annotate VAD, mix A:B, split and freeze Parquet shards + manifest"),
    "verify": (VerifyConfig, "re-hash and re-count a build; exits 1 naming every mismatch"),
    "qc": (QcConfig, "re-run the Great Expectations QC suites on a build; exits 1 on a critical failure"),
    "report": (ReportConfig, "render the HTML build report (figures embedded)"),
    "query": (QueryConfig, "run SQL over a build's shards with DuckDB"),
    "export": (ExportConfig, "export a build for external trainers (hf, jsonl, sft)"),
    "negation": (NegationConfig, "score negation cue/scope methods on CD-SCO files (eval) or rebuild the model (train)"),
    "appraisal": (AppraisalConfig, "rebuild the shipped appraisal classifier from enISEAR human ratings (train)"),
}


def _all_commands() -> dict[str, tuple[type, str, Callable[[Any], int]]]:
    """Our commands and the trainer's (trainer/cli.py; its configs import without torch), its screen
    command given the `tfidf-lr` floor (emodata/baseline.py: the trainer may not import the pipeline)."""
    from emodata.baseline import tfidf_lr_answers
    from trainer.cli import trainer_commands

    ours = {name: (cls, help_text, HANDLERS[name]) for name, (cls, help_text) in COMMANDS.items()}
    return ours | trainer_commands(baseline=tfidf_lr_answers)


def parser() -> argparse.ArgumentParser:
    """The argument parser, generated from the command config dataclasses."""
    top = argparse.ArgumentParser(prog="emodata", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    top.set_defaults(_subparsers={})
    for name, (cls, help_text, _) in _all_commands().items():
        command = sub.add_parser(name, help=help_text, description=cls.__doc__)
        add_arguments(command, cls)
        top.get_default("_subparsers")[name] = command
    return top


def parse_config(argv: Sequence[str] | None = None) -> tuple[str, Any]:
    """The command name and its config dataclass. Options in a `--config FILE.yaml` (commands that
    have one) become the parser's defaults, so an option typed on the command line always wins, even
    when typed with its default value."""
    top = parser()
    args = top.parse_args(argv)
    cls = _all_commands()[args.command][0]
    path = getattr(args, "config", None)
    if path:
        values = config_file_values(path, cls, f"`emodata {args.command}`")
        top.get_default("_subparsers")[args.command].set_defaults(**values)
        args = top.parse_args(argv)
        args.config = None  # applied here; handlers must not apply it again
    return args.command, from_namespace(cls, args)


def _build(config: BuildConfig) -> int:
    from emodata.build import build

    results = build(config)
    for result in results:  # the result on stdout (progress and summaries went to stderr)
        if config.json:
            print(json.dumps(build_summary(result), sort_keys=True))
        else:
            print(result.manifest_path)
    return 0


def build_summary(result) -> dict:
    """The machine-readable summary of one build (`emodata build --json`)."""
    manifest = result.manifest
    return {"name": result.name, "manifest": str(result.manifest_path), "root": str(result.root),
            "rows": manifest.get("counts", {}), "mix": manifest.get("mix", {}),
            "qc_success": (manifest.get("qc") or {}).get("success"), "run": getattr(result, "run", {}),
            "sources": {name: {k: info.get(k) for k in ("rows_read", "rows_kept", "rows_used")}
                        for name, info in manifest.get("sources", {}).items()}}


def _verify(config: VerifyConfig) -> int:
    from emodata.verify import verify

    problems = verify(config.manifest)
    if config.json:
        print(json.dumps({"manifest": config.manifest, "ok": not problems, "problems": list(problems)}))
        return 1 if problems else 0
    for problem in problems:
        print(f"MISMATCH {problem}", file=sys.stderr)
    print(f"{config.manifest}: {'OK' if not problems else f'{len(problems)} mismatch(es)'}")
    return 1 if problems else 0


def _qc(config: QcConfig) -> int:
    from expectations import render_docs, run_gate

    from emodata.core.manifest import Manifest

    from emodata.export import derived_root

    manifest = Manifest.load(config.manifest)
    result = run_gate(manifest.root, manifest.data)
    if config.json:
        print(json.dumps(result.summary(), indent=1, sort_keys=True))
    else:
        _print_rows(*qc_table(result.summary()), "table", 1000)
    if not result.success:
        print(result.failures_text(), file=sys.stderr)
    if config.docs:
        docs = Path(config.out) if config.out else derived_root(manifest) / "data_docs"
        print(f"Data Docs: {render_docs(manifest.root, manifest.data, docs)}", file=sys.stderr)
    return 0 if result.success else 1


def qc_table(summary: dict) -> tuple[list[str], list[tuple]]:
    """The QC summary as (columns, rows): one row per suite, then the verdict."""
    rows = [(suite, info["evaluated"], info["failed_critical"], info["failed_warning"],
             ", ".join(info.get("skipped", [])) or "-") for suite, info in summary["suites"].items()]
    rows.append(("overall", sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows),
                 "PASSED" if summary["success"] else "FAILED"))
    return ["suite", "evaluated", "failed critical", "failed warning", "skipped / verdict"], rows


def _report(config: ReportConfig) -> int:
    from emodata.report import write_report

    print(write_report(Path(config.manifest), Path(config.out) if config.out else None))
    return 0


def _print_rows(columns: list[str], rows: list[tuple], fmt: str, limit: int) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        print(json.dumps([dict(zip(columns, r)) for r in rows], ensure_ascii=False, default=str, indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for row in rows[:limit]:
            table.add_row(*(str(x) for x in row))
        Console().print(table)
        if len(rows) > limit:
            print(f"({len(rows)} rows, {limit} shown; use --limit or --format csv)")


def _query(config: QueryConfig) -> int:
    from emodata.query import run_query

    if not config.manifest:
        raise EmodataError("query needs --manifest PATH")
    columns, rows = run_query(config.sql, config.manifest, allow_external=config.allow_external)
    _print_rows(columns, rows, config.format, config.limit)
    return 0


def _export(config: ExportConfig) -> int:
    from emodata.export import export

    path = export(config.manifest, config.format, config.out or None, overwrite=config.overwrite)
    print(path)
    return 0


def _negation(config: NegationConfig) -> int:
    from emodata.text.negation_eval import run_negation_command

    return run_negation_command(config.action, config.files, config.method, config.out_dir)


def _appraisal(config: AppraisalConfig) -> int:
    from labeling_functions.appraisal.train import run_appraisal_command

    return run_appraisal_command(config.data, config.seed, config.out_dir)


HANDLERS = {"build": _build, "verify": _verify, "qc": _qc, "report": _report, "query": _query, "export": _export,
            "negation": _negation, "appraisal": _appraisal}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix (bad input, paths, SQL): one line, exit 2, no traceback."""
    errors: list[type[BaseException]] = [EmodataError, OSError, ValueError]
    if "duckdb" in sys.modules:
        errors.append(sys.modules["duckdb"].Error)
    return tuple(errors)


def _one_line(exc: BaseException) -> str:
    """An exception as one readable line (OSError with its path, DuckDB's first line)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[:3]) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status: 2 on a usage or data error (one line on stderr, never a
    traceback), 130 on Ctrl-C (builds are atomic: nothing was published)."""
    command = "?"
    try:
        command, config = parse_config(argv)
        return _all_commands()[command][2](config)
    except KeyboardInterrupt:
        print(f"emodata {command}: interrupted: nothing was published", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        print(f"emodata {command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
