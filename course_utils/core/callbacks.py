"""Keras callbacks more than one chapter uses."""

from __future__ import annotations

import time

import keras
import numpy as np

__all__ = ["EpochTimer"]


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock duration of every training epoch, in seconds.

    After ``fit(..., callbacks=[timer])``, ``timer.seconds`` has one entry
    per epoch. The first epoch includes tracing the training step, so
    :attr:`steady_seconds` (the median of the other epochs) is the fairer
    measure of the cost of an epoch. Chapter 3 times activation functions
    with it, chapter 7 optimizers.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    @property
    def steady_seconds(self) -> float:
        """Median epoch time without the first epoch (all epochs if only one)."""
        if not self.seconds:
            raise ValueError("No epoch has been timed yet: call fit() with this callback.")
        values = self.seconds[1:] or self.seconds
        return float(np.median(values))
