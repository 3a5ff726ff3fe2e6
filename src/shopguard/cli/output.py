"""Printing a stored run: to the terminal, to stdout, or to a file."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shopguard.checks import ProgressFn
from shopguard.cli.common import ExitCode, err_console, fail
from shopguard.db.repository import StoredRun
from shopguard.findings import Severity
from shopguard.reports import FORMATS, ReportFormat, render
from shopguard.reports.table import report_renderables

FAIL_ON_CHOICES = (*[s.value for s in Severity], "never")


def check_format(fmt: str) -> ReportFormat:
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return ReportFormat(fmt)


def check_fail_on(value: str) -> Severity | None:
    if value == "never":
        return None
    try:
        return Severity.parse(value)
    except ValueError:
        fail(f"--fail-on {value!r}: expected one of {', '.join(FAIL_ON_CHOICES)}")


class ProgressReporter(AbstractContextManager["ProgressReporter"]):
    """A Rich progress bar on a terminal; plain lines on stderr otherwise."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._progress: Progress | None = None
        self._task: Any = None
        self._last_line = -1

    def __enter__(self) -> ProgressReporter:
        if self.tty and not self.quiet:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self.label, total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    @property
    def callback(self) -> ProgressFn:
        def update(done: int, total: int | None) -> None:
            if self.quiet:
                return
            if self._progress is not None:
                self._progress.update(self._task, completed=done, total=total)
            elif total and (done == total or done * 10 // total != self._last_line):
                self._last_line = done * 10 // total
                print(f"{self.label}: {done}/{total} checks done", file=sys.stderr, flush=True)

        return update


def emit(run: StoredRun, fmt: ReportFormat, output: Path | None) -> None:
    if output is not None:
        text = render(run, fmt)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"--output {output}: cannot write: {exc.strerror}", ExitCode.RUN_FAILED)
        err_console.print(f"Report written to {output.resolve()}", highlight=False, markup=False)
        if fmt is ReportFormat.TABLE or fmt is ReportFormat.HTML:
            return
        return
    if fmt is ReportFormat.TABLE:
        console = Console(highlight=False)
        for part in report_renderables(run):
            console.print(part)
        return
    sys.stdout.write(render(run, fmt))


def exit_code_for(run: StoredRun, fail_on: Severity | None) -> ExitCode:
    if fail_on is None:
        return ExitCode.OK
    for sf in run.findings:
        if sf.counts_as_open and sf.finding.severity >= fail_on:
            return ExitCode.FINDINGS
    return ExitCode.OK


def progress_context(label: str, enabled: bool) -> AbstractContextManager[Any]:
    return ProgressReporter(label) if enabled else nullcontext()
