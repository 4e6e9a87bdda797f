"""The speed-ups the chapters claim, each measured against the naive version
in the same run, on the same inputs, with the same statistics checked."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

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


def bn_folding(repeat: int) -> dict:
    """Chapter 4: inference with batch normalization folded into the Dense layers."""
    import keras

    from course_utils import fold_batch_norm, measure_inference_latency

    keras.utils.set_random_seed(0)
    layers = [keras.Input(shape=(784,))]
    for units in (300, 100):
        layers += [keras.layers.Dense(units, use_bias=False), keras.layers.BatchNormalization(),
                   keras.layers.Activation("relu")]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    rng = np.random.default_rng(0)
    # Non-trivial moving statistics, so that the check below means something.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2.0, n), rng.normal(0, 0.5, n),
                               rng.normal(0, 1.0, n), rng.uniform(0.2, 3.0, n)])
    folded = fold_batch_norm(model)
    X = rng.random((256, 784), dtype=np.float32)
    np.testing.assert_allclose(folded(X, training=False), model(X, training=False),
                               rtol=1e-4, atol=1e-5)
    naive = statistics.median(measure_inference_latency(model, X, repeats=50)
                              for _ in range(repeat))
    fast = statistics.median(measure_inference_latency(folded, X, repeats=50)
                             for _ in range(repeat))
    return {"what": "BN folded into Dense, one call on 256 images (ch04)",
            "naive_seconds": naive, "fast_seconds": fast, "speedup": naive / fast}


SPEEDUPS = {"mc_dropout": mc_dropout, "bn_folding": bn_folding}
