"""A stand-in for undersigned.core.progress that remembers what a command reported."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import pytest


@dataclass
class Recorded:
    enabled: list[bool | None] = field(default_factory=list)  # as each command asked
    reports: list[tuple[str, int, int]] = field(default_factory=list)

    def stages(self) -> list[str]:
        return list(dict.fromkeys(stage for stage, _, _ in self.reports))

    def last(self, stage: str) -> tuple[int, int]:
        found = [(done, total) for s, done, total in self.reports if s == stage]
        assert found, f"nothing reported for {stage!r}; stages: {self.stages()}"
        return found[-1]


def record_progress(monkeypatch: pytest.MonkeyPatch, command_module: str) -> Recorded:
    """Replace `progress` in a command's module; the command then reports into the result."""
    recorded = Recorded()

    @contextmanager
    def progress(enabled: bool | None = None) -> Iterator[Any]:
        recorded.enabled.append(enabled)

        def report(stage: str, done: int, total: int) -> None:
            recorded.reports.append((stage, done, total))

        yield report

    monkeypatch.setattr(import_module(command_module), "progress", progress)
    return recorded
