"""A wall-clock budget for one validation, checked between steps (GEOS calls cannot be interrupted)."""
from __future__ import annotations

import time


class BudgetExceeded(Exception):
    """Validation ran past its wall-clock budget; ``stage`` says where it stopped."""

    def __init__(self, stage: str, seconds: float):
        super().__init__(f"validation stopped after {seconds:g} s, its time budget, while {stage}")
        self.stage = stage
        self.seconds = seconds


class TooComplex(Exception):
    """The plan would need unbounded work (e.g. lots drawn on top of each other by the thousand)."""


class Budget:
    """Raise ``BudgetExceeded`` from ``check`` once ``seconds`` have passed (``None``: no limit)."""

    def __init__(self, seconds: float | None = None):
        self.seconds = seconds
        self._deadline = None if seconds is None else time.monotonic() + seconds

    def check(self, stage: str) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise BudgetExceeded(stage, self.seconds or 0.0)


UNLIMITED = Budget(None)
