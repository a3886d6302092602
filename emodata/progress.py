"""Console output of long commands: a rich progress line per stage and a summary table."""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text


#: Seconds between the plain progress lines printed when stderr is not a terminal.
PLAIN_EVERY = 10.0


class PlainProgress:
    """Progress of one stage as periodic plain lines (count, rate, ETA) for logs and CI."""

    def __init__(self, console: Console, name: str, total: int | None):
        self.console, self.name, self.total = console, name, total
        self.done, self.started = 0, time.perf_counter()
        self.last = self.started

    def advance(self, n: int) -> None:
        """Count `n` more items; print a line when PLAIN_EVERY seconds passed since the last one."""
        self.done += n
        now = time.perf_counter()
        if now - self.last < PLAIN_EVERY:
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            eta = (self.total - self.done) / rate if rate else float("inf")
            self.console.print(f"{self.name}: {self.done:,}/{self.total:,} ({rate:,.0f}/s, ETA {eta:,.0f}s)",
                               highlight=False)
        else:
            self.console.print(f"{self.name}: {self.done:,} ({rate:,.0f}/s)", highlight=False)


class CountColumn(ProgressColumn):
    """Items done (of the total, when known) and the rate: `1,234/5,000 · 812/s`, `1,234 · 812/s`;
    empty while nothing was counted (a stage without a total that never counts shows only its time)."""

    def render(self, task: Task) -> Text:
        """The column's text for `task`."""
        if task.total is None and not task.completed:
            return Text("")
        done = f"{int(task.completed):,}" + (f"/{int(task.total):,}" if task.total is not None else "")
        rate = f" · {task.speed:,.0f}/s" if task.speed else ""
        return Text(done + rate, style="progress.download")


def stage_columns(total: int | None) -> list[ProgressColumn]:
    """The terminal progress columns of a stage: a bar and ETA only when the total is known."""
    if total is None:
        return [SpinnerColumn(), TextColumn("{task.description}"), CountColumn(), TimeElapsedColumn()]
    return [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), CountColumn(), TimeElapsedColumn(),
            TimeRemainingColumn()]


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, MiB (Linux `ru_maxrss`; its children not counted)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Reporter:
    """Progress and summaries on stderr; silent when `quiet`."""

    def __init__(self, quiet: bool = False, console: Console | None = None):
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.timings: dict[str, float] = {}  # stage name -> seconds, recorded even when quiet
        self.peaks: dict[str, float] = {}  # stage name -> this process's peak RSS (MiB) when it ended
        self.elsewhere: dict[str, dict] = {}  # work in child processes -> its seconds and peak RSS

    def note(self, message: str) -> None:
        """One informational line."""
        if not self.quiet:
            self.console.print(f"[dim]•[/dim] {message}")

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """A progress display for one stage (timed into `timings`); yields `advance(n)`."""
        started = time.perf_counter()
        if self.quiet:
            yield lambda n: None
        elif not self.console.is_terminal:  # piped or CI: a plain line at most every PLAIN_EVERY seconds
            yield PlainProgress(self.console, name, total).advance
        else:
            with Progress(*stage_columns(total), console=self.console, transient=True) as progress:
                task = progress.add_task(name, total=total)
                yield lambda n: progress.advance(task, n)
        self.timings[name] = time.perf_counter() - started
        self.peaks[name] = peak_rss_mib()
        if not self.quiet:
            self.console.print(f"[green]✓[/green] {name} [dim]({self.timings[name]:.1f}s)[/dim]")

    def record(self, name: str, seconds: float, peak_mib: float) -> None:
        """Time work that ran in a child process (`peak_mib`: that process's peak), apart from the stages."""
        self.elsewhere[name] = {"seconds": round(seconds, 3), "peak_rss_mib": round(peak_mib, 1)}

    def run_summary(self, run: dict, path) -> None:
        """The engine, its workers and every stage's seconds (the run record, written to `path`)."""
        if self.quiet or not run:
            return
        engine = run.get("engine", {})
        table = Table(title=f"{run.get('name', '')}: engine {engine.get('engine')}, "
                            f"{engine.get('workers')} worker(s); stage times")
        table.add_column("stage", justify="left", overflow="fold")
        table.add_column("seconds", justify="right")
        for stage, seconds in run.get("stage_seconds", {}).items():
            table.add_row(stage, f"{seconds:,.1f}")
        self.console.print(table)
        self.console.print(f"[bold]run record[/bold]: {path} (not hashed: varies between runs)")

    def summary(self, result) -> None:
        """Rows read, dropped (per reason) and used per source; then where the build is."""
        if self.quiet:
            return
        manifest = result.manifest
        roles = ("train", "dev", "test", "probe")
        table = Table(title=f"{result.name}: rows per source")
        for column in ("source", "read", "skipped", "dropped", "kept") + roles:
            table.add_column(column, justify="left" if column == "source" else "right", overflow="fold")
        reasons = Table(title=f"{result.name}: rows dropped per reason")
        for column in ("source", "reason", "rows"):
            reasons.add_column(column, justify="right" if column == "rows" else "left", overflow="fold")
        for name, info in manifest["sources"].items():
            dropped = {**{f"reader: {k}": v for k, v in info["reader_skipped"].items()}, **info["drops"]}
            for reason, n in dropped.items():
                reasons.add_row(name, reason, f"{n:,}")
            table.add_row(name, f"{info['rows_read']:,}", f"{sum(info['reader_skipped'].values()):,}",
                          f"{sum(info['drops'].values()):,}", f"{info['rows_kept']:,}",
                          *(f"{info['rows_used'].get(r, 0):,}" for r in roles))
        self.console.print(table)
        self.console.print(reasons)
        mix = manifest["mix"]
        share = f"{mix['share_a_actual']:.4f}" if mix["share_a_actual"] is not None else "-"
        self.console.print(f"mix {mix['a']}:{mix['b']}: {mix['rows']:,} rows, A share {share} "
                           f"(requested {mix['share_a_requested']:.4f})")
        qc = manifest.get("qc", {})
        self.console.print(f"QC gate: {'passed' if qc.get('success') else 'not run'}; "
                           f"details in {result.manifest_path.parent / 'qc.json'}")
        self.run_summary(result.run, result.root / "run.json")
        self.console.print(f"[bold]manifest[/bold]: {result.manifest_path}")
        self.console.print(f"[bold]dataset card[/bold]: {result.root / 'README.md'}")
        derived = result.root.parent / f"{result.root.name}-derived"
        self.console.print(f"[bold]report[/bold]: emodata report {result.manifest_path}  "
                           f"(writes {derived / 'report' / 'report.html'}, beside the frozen build)")
