"""The `emodata` command line: build, verify, qc, report, query, export, and the trainer's train, eval,
screen and score."""
from __future__ import annotations

import argparse
import dataclasses
import csv
import json
import sys
from typing import Any, Callable, Sequence

from .config import (BuildConfig, ExportConfig, QcConfig, QueryConfig, ReportConfig, VerifyConfig, add_arguments,
                     from_namespace)
from .errors import EmodataError

COMMANDS = {
    "build": (BuildConfig, "read sources, annotate VAD, mix A:B, split and freeze Parquet shards + manifest"),
    "verify": (VerifyConfig, "re-hash and re-count a build; exits 1 naming every mismatch"),
    "qc": (QcConfig, "re-run the Great Expectations QC suites on a build; exits 1 on a critical failure"),
    "report": (ReportConfig, "render the HTML build report (figures embedded)"),
    "query": (QueryConfig, "run SQL over a build's shards with DuckDB"),
    "export": (ExportConfig, "export a build for external trainers (hf, jsonl, sft)"),
}


def _all_commands() -> dict[str, tuple[type, str, Callable[[Any], int]]]:
    """Our commands and the trainer's (trainer/cli.py; its configs import without torch)."""
    from trainer.cli import TRAINER_COMMANDS

    ours = {name: (cls, help_text, HANDLERS[name]) for name, (cls, help_text) in COMMANDS.items()}
    return ours | dict(TRAINER_COMMANDS)


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
        from trainer.config import load_yaml

        values = load_yaml(path)
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)} - {"config"})
        if unknown:
            raise EmodataError(f"{path}: unknown option(s) {', '.join(unknown)} for `emodata {args.command}`")
        top.get_default("_subparsers")[args.command].set_defaults(**values)
        args = top.parse_args(argv)
        args.config = None  # applied here; handlers must not apply it again
    return args.command, from_namespace(cls, args)


def _build(config: BuildConfig) -> int:
    from .build import build

    build(config)
    return 0


def _verify(config: VerifyConfig) -> int:
    from .verify import verify

    problems = verify(config.manifest)
    for problem in problems:
        print(f"MISMATCH {problem}", file=sys.stderr)
    print(f"{config.manifest}: {'OK' if not problems else f'{len(problems)} mismatch(es)'}")
    return 1 if problems else 0


def _qc(config: QcConfig) -> int:
    from expectations import render_docs, run_gate

    from .manifest import Manifest

    manifest = Manifest.load(config.manifest)
    result = run_gate(manifest.root, manifest.data)
    print(json.dumps(result.summary(), indent=1, sort_keys=True))
    if not result.success:
        print(result.failures_text(), file=sys.stderr)
    if config.docs:
        print(f"Data Docs: {render_docs(manifest.root, manifest.data, manifest.root / 'data_docs')}")
    return 0 if result.success else 1


def _report(config: ReportConfig) -> int:
    from pathlib import Path

    from .report import write_report

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
    from .query import run_query

    if not config.manifest:
        raise EmodataError("query needs --manifest PATH")
    columns, rows = run_query(config.sql, config.manifest)
    _print_rows(columns, rows, config.format, config.limit)
    return 0


def _export(config: ExportConfig) -> int:
    from .export import export

    path = export(config.manifest, config.format, config.out or None)
    print(path)
    return 0


HANDLERS = {"build": _build, "verify": _verify, "qc": _qc, "report": _report, "query": _query, "export": _export}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on a usage or data error, with a one-line message)."""
    command = "?"
    try:
        command, config = parse_config(argv)
        return _all_commands()[command][2](config)
    except (EmodataError, FileNotFoundError, ValueError) as exc:
        print(f"emodata {command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
