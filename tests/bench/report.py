"""Printing benchmark figures beside their same-run baselines."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def figure(
        self,
        label: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        target: str = "",
        higher_is_better: bool = True,
    ) -> None:
        """Print one figure, its ratio to the baseline and the target it meets."""
        text = f"  {label:<58} {value:>12,.1f} {unit}"
        if baseline:
            ratio = value / baseline if higher_is_better else baseline / value
            text += f"   x{ratio:,.2f} vs baseline"
        if target:
            text += f"   [{target}]"
        print(text, flush=True)
        self.lines.append(text)

    def note(self, text: str) -> None:
        print(f"  {text}", flush=True)
        self.lines.append(f"  {text}")

    def summary(self) -> None:
        print("\n== summary ==")
        for line in self.lines:
            print(line)


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Return the median seconds one call of fn takes."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
