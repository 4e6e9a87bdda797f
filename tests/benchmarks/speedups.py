"""The speed-ups the chapters claim, each measured against the naive version
in the same run, on the same inputs, with the same statistics checked."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np


def _median_time(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mc_dropout(repeat: int) -> dict:
    """Chapter 9: batched MC dropout vs one model call per sample."""
    import keras

    from course_utils import mc_dropout_predict, mc_dropout_predict_loop

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(300, activation="relu"), keras.layers.Dropout(0.3),
        keras.layers.Dense(100, activation="relu"), keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    X = np.random.default_rng(0).random((1000, 784), dtype=np.float32)
    batched = mc_dropout_predict(model, X, n_samples=100, seed=1)
    looped = mc_dropout_predict_loop(model, X, n_samples=100, seed=1)
    # Same statistics: the two means differ by no more than Monte Carlo noise
    # (a z-score of the difference, with both runs' standard deviations).
    noise = np.sqrt((batched.std ** 2 + looped.std ** 2) / 100) + 1e-7
    z = np.abs(batched.mean - looped.mean) / noise
    assert np.mean(z) < 1.5 and np.max(z) < 8, (np.mean(z), np.max(z))
    naive = _median_time(lambda: mc_dropout_predict_loop(model, X, n_samples=100), repeat)
    fast = _median_time(lambda: mc_dropout_predict(model, X, n_samples=100), repeat)
    return {"what": "MC dropout, 100 samples of 1,000 images (ch09)",
            "naive_seconds": naive, "fast_seconds": fast, "speedup": naive / fast}


SPEEDUPS = {"mc_dropout": mc_dropout}
