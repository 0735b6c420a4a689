"""Progress and ETA for long commands on a terminal; silence when piped or asked for JSON."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# (stage description, done, total): how long work tells whoever watches how far it got.
Report = Callable[[str, int, int], None]


def silent(stage: str, done: int, total: int) -> None:
    """The Report of work nobody watches (the default of every service taking one)."""
    return None


@contextmanager
def progress(enabled: bool | None = None) -> Iterator[Report]:
    """Yield a report function; it draws a bar with an ETA only on an interactive stderr."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield silent
        return
    # Only commands on a terminal draw bars: the services importing Report and
    # silent (loaded by every web process) need not load rich.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield report
