"""Chapter 10: training within a fixed time budget.

The practical-guidelines exercise asks for the best model that trains within
a fixed number of seconds on a CPU. :class:`TimeBudget` stops ``fit`` when the
budget is spent, checking the clock after every batch (an epoch of a large
dataset can take longer than the whole budget), and records why and when it
stopped. :func:`time_epochs` measures what a design choice (batch
normalization, say) costs per training epoch: the models are timed in turns,
several rounds, so that they share the machine's load.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping

import keras
import numpy as np

from course_utils.core.validation import check_integer, check_positive

__all__ = ["TimeBudget", "EpochTimings", "time_epochs"]


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
        self.seconds = check_positive("seconds", seconds)
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


@dataclasses.dataclass(frozen=True)
class EpochTimings:
    """Durations of single training epochs, model by model.

    Attributes:
        wall: model name -> wall-clock seconds of each timed epoch.
        cpu: model name -> CPU seconds of the process (all threads) for the
            same epochs.
    """

    wall: Mapping[str, np.ndarray]
    cpu: Mapping[str, np.ndarray]

    def ratios(self, a: str, b: str, kind: str = "wall") -> np.ndarray:
        """``a``'s time over ``b``'s, round by round (both timed in the same round)."""
        times = {"wall": self.wall, "cpu": self.cpu}.get(kind)
        if times is None:
            raise ValueError(f'Expected kind "wall" or "cpu". Received: kind={kind!r}')
        for name in (a, b):
            if name not in times:
                raise KeyError(f"Unknown model {name!r}. Known: {list(times)}")
        return np.asarray(times[a]) / np.asarray(times[b])


def time_epochs(models: Mapping[str, keras.Model], X, y, *, repeats: int = 5,
                warmup: int = 1, batch_size: int = 32,
                clock: Callable[[], float] = time.perf_counter,
                cpu_clock: Callable[[], float] = time.process_time) -> EpochTimings:
    """Times one training epoch of each model, interleaved over several rounds.

    The models are first trained for ``warmup`` untimed epochs each (tracing
    the training step, allocating memory). Then every round trains each
    model for one epoch, in alternating order (forward in even rounds,
    backward in odd ones), so that a change in the machine's load during the
    measurement affects all models alike; compare models round by round
    (:meth:`EpochTimings.ratios`).

    Args:
        models: name -> compiled Keras model.
        X: training inputs.
        y: training targets.
        repeats: the number of timed rounds.
        warmup: untimed epochs per model before the first round.
        batch_size: the batch size of ``fit``.
        clock: the wall clock (a parameter so tests can simulate it).
        cpu_clock: the CPU clock.

    Returns:
        An :class:`EpochTimings` with ``repeats`` durations per model.

    Raises:
        ValueError: for no models, an uncompiled model, ``repeats < 1`` or
            ``warmup < 0``.
    """
    if not models:
        raise ValueError("Expected at least one model to time. Received an empty mapping.")
    repeats = check_integer("repeats", repeats, 1)
    warmup = check_integer("warmup", warmup, 0)
    for name, model in models.items():
        if getattr(model, "optimizer", None) is None:
            raise ValueError(f"Expected compiled models. Received: {name!r} has no optimizer; "
                             "call model.compile(...) first.")
    names = list(models)
    for name in names:
        for _ in range(warmup):
            models[name].fit(X, y, epochs=1, batch_size=batch_size, verbose=0)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        for name in (names if round_index % 2 == 0 else names[::-1]):
            start, cpu_start = clock(), cpu_clock()
            models[name].fit(X, y, epochs=1, batch_size=batch_size, verbose=0)
            wall[name].append(clock() - start)
            cpu[name].append(cpu_clock() - cpu_start)
    return EpochTimings({name: np.array(v) for name, v in wall.items()},
                        {name: np.array(v) for name, v in cpu.items()})
