"""Keras-style progress output for fit, evaluate and predict.

verbose=1: a live bar per epoch, ``37/469 ━━━━──────────────── 18s 42ms/step - accuracy: 0.8132 -
loss: 0.5230`` (the time is the ETA while running and the elapsed time at the end);
verbose=2: one line per epoch; verbose=0: silent. tqdm draws the bar and limits redraws to
one per 0.1 s, so the per-batch cost is a counter update.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping

from tqdm import tqdm

__all__ = ["ProgressBar", "format_logs", "resolve_verbose"]

_BAR_FORMAT = "{n_fmt}/{total_fmt} {bar:20} {stats}"
_REDRAW_SECONDS = 0.1


def resolve_verbose(verbose: int | str) -> int:
    """ "auto" means 1, as in Keras; otherwise 0, 1 or 2."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def format_logs(logs: Mapping[str, float]) -> str:
    """ " - accuracy: 0.8123 - loss: 0.5234" (four decimals, as Keras prints)."""
    return "".join(f" - {key}: {value:.4f}" for key, value in logs.items())


def format_duration(seconds: float) -> str:
    """Keras's ETA/elapsed style: 18s, 2:05, 1:02:05."""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _step_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class _Bar(tqdm):
    """tqdm with a free-form `stats` field in its format (tqdm's postfix adds a comma)."""

    stats = ""

    @property
    def format_dict(self) -> dict:
        return {**super().format_dict, "stats": self.stats}


class ProgressBar:
    """One epoch's (or one evaluation's) progress over `steps` batches."""

    def __init__(self, steps: int, verbose: int) -> None:
        self.steps = steps
        self.verbose = verbose
        self._start = time.perf_counter()
        self._last_draw = self._start
        self._bar = None
        if verbose == 1:
            self._bar = _Bar(
                total=steps,
                file=sys.stdout,
                bar_format=_BAR_FORMAT,
                ascii="─━",
                leave=True,
                mininterval=_REDRAW_SECONDS,
            )

    def _stats(self, done: int, logs: Mapping[str, float], finished: bool) -> str:
        elapsed = time.perf_counter() - self._start
        per_step = elapsed / max(done, 1)
        shown = elapsed if finished else per_step * (self.steps - done)
        return f"{format_duration(shown)} {_step_time(per_step)}{format_logs(logs)}"

    def update(self, done: int, logs: Mapping[str, float]) -> None:
        """After batch `done` (1-based); redraws at most every 0.1 s."""
        if self._bar is None:
            return
        now = time.perf_counter()
        if now - self._last_draw >= _REDRAW_SECONDS:
            self._last_draw = now
            self._bar.n = done
            self._bar.stats = self._stats(done, logs, finished=False)
            self._bar.refresh()

    def close(self, done: int, logs: Mapping[str, float]) -> None:
        """Final line: elapsed time, time per step and the complete logs."""
        if self._bar is not None:
            self._bar.n = done
            self._bar.stats = self._stats(done, logs, finished=True)
            self._bar.close()
        elif self.verbose == 2:
            stats = self._stats(done, logs, finished=True).replace(" ", " - ", 1)
            print(f"{done}/{self.steps} - {stats}", file=sys.stdout, flush=True)
