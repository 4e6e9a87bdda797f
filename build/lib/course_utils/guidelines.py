"""Chapter 10: training within a fixed time budget.

The practical-guidelines exercise asks for the best model that trains within
a fixed number of seconds on a CPU. :class:`TimeBudget` stops ``fit`` when the
budget is spent, checking the clock after every batch (an epoch of a large
dataset can take longer than the whole budget), and records why and when it
stopped.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import keras

__all__ = ["TimeBudget"]


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``seconds`` of wall-clock time have passed.

    The clock starts when ``fit`` starts (``on_train_begin``), so building
    and compiling the model are not counted, and it is checked after every
    training batch: training stops at most one batch after the budget is
    spent. Validation at the end of an epoch still runs, so leave some margin
    for it when the budget is tight.

    Example:

    ```python
    budget = TimeBudget(30)
    model.fit(X, y, epochs=1000, callbacks=[budget], verbose=0)
    print(budget.elapsed, budget.stopped_early)
    ```

    Args:
        seconds: the budget, a positive finite number of seconds.
        clock: the clock to read (``time.perf_counter`` by default); a
            parameter so the callback can be tested with a simulated clock.

    Attributes:
        elapsed: seconds from the start of ``fit`` to its last batch.
        stopped_early: ``True`` if this callback stopped the training.
        batches: the number of training batches run.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"Expected `seconds` to be a number. "
                            f"Received: {type(seconds).__name__} {seconds!r}")
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"Expected a positive, finite number of seconds. "
                             f"Received: seconds={seconds}")
        self.seconds = float(seconds)
        self._clock = clock
        self._start: float | None = None
        self.elapsed = 0.0
        self.stopped_early = False
        self.batches = 0

    def on_train_begin(self, logs=None):
        self._start = self._clock()
        self.elapsed = 0.0
        self.stopped_early = False
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        self.elapsed = self._clock() - self._start
        if self.elapsed >= self.seconds:
            self.stopped_early = True
            self.model.stop_training = True

    def get_config(self) -> dict:
        return {"seconds": self.seconds}
