"""Console output of long commands: a rich progress line per stage and a summary table."""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


class Reporter:
    """Progress and summaries on stderr; silent when `quiet`."""

    def __init__(self, quiet: bool = False, console: Console | None = None):
        self.quiet = quiet
        self.console = console or Console(stderr=True)

    def note(self, message: str) -> None:
        """One informational line."""
        if not self.quiet:
            self.console.print(f"[dim]•[/dim] {message}")

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """A progress display for one stage; yields `advance(n)`."""
        if self.quiet:
            yield lambda n: None
            return
        started = time.perf_counter()
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn()]
        with Progress(*columns, console=self.console, transient=True) as progress:
            task = progress.add_task(name, total=total)
            yield lambda n: progress.advance(task, n)
        self.console.print(f"[green]✓[/green] {name} [dim]({time.perf_counter() - started:.1f}s)[/dim]")

    def summary(self, result) -> None:
        """Rows in, dropped per reason and out, per source; then where the build is."""
        if self.quiet:
            return
        manifest = result.manifest
        table = Table(title=f"{result.name}: rows per source")
        for column in ("source", "read", "reader skipped", "dropped (reason: n)", "kept", "used"):
            table.add_column(column, justify="left" if column in ("source", "dropped (reason: n)") else "right")
        for name, info in manifest["sources"].items():
            skipped = sum(info["reader_skipped"].values())
            drops = ", ".join(f"{k}: {v:,}" for k, v in info["drops"].items() if v) or "-"
            used = ", ".join(f"{k} {v:,}" for k, v in info["rows_used"].items()) or "-"
            table.add_row(name, f"{info['rows_read']:,}", f"{skipped:,}", drops, f"{info['rows_kept']:,}", used)
        self.console.print(table)
        mix = manifest["mix"]
        share = f"{mix['share_a_actual']:.4f}" if mix["share_a_actual"] is not None else "-"
        self.console.print(f"mix {mix['a']}:{mix['b']} → {mix['rows']:,} rows (A share {share}); "
                           f"counts {manifest['counts']}")
        self.console.print(f"[bold]manifest[/bold]: {result.manifest_path}")
