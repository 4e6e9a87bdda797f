"""Chapter 9: Monte Carlo dropout, and how to judge its uncertainty.

Monte Carlo (MC) dropout keeps dropout active at inference and averages many
stochastic forward passes. :func:`mc_dropout_predict` computes all the passes
in a few large batched calls: it stacks ``k`` copies of the inputs into one
batch, so one call of the model yields ``k`` samples, with at most
``max_batch_size`` rows a call to bound the memory.
:func:`mc_dropout_predict_loop` is the plain one-call-a-sample reference.

:func:`predictive_entropy` and :func:`expected_calibration_error` measure
the uncertainty of the averaged prediction. What L1, L2 and max-norm
regularization do to the weights is measured in
:mod:`course_utils.ch09_regularization.weights`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import keras
import numpy as np

from course_utils.core.validation import check_integer

__all__ = [
    "MCDropout",
    "MCAlphaDropout",
    "MCPrediction",
    "mc_dropout_predict",
    "mc_dropout_predict_loop",
    "predictive_entropy",
    "expected_calibration_error",
]


@keras.saving.register_keras_serializable(package="course_utils")
class MCDropout(keras.layers.Dropout):
    """Dropout that stays active at inference, for Monte Carlo dropout.

    It takes the arguments of ``keras.layers.Dropout`` (``rate``,
    ``noise_shape``, ``seed``) and ignores the ``training`` flag: kept units
    are always scaled by ``1 / (1 - rate)``, the others set to zero.
    """

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


@keras.saving.register_keras_serializable(package="course_utils")
class MCAlphaDropout(keras.layers.AlphaDropout):
    """Alpha dropout (for SELU networks) that stays active at inference."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


@dataclasses.dataclass(frozen=True)
class MCPrediction:
    """The stochastic forward passes of MC dropout and their statistics.

    Attributes:
        samples: the model outputs, shape ``(n_samples, n, ...)``.
        mean: the mean over the samples, shape ``(n, ...)``.
        std: the standard deviation over the samples, shape ``(n, ...)``.
    """

    samples: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> MCPrediction:
        samples = np.asarray(samples)
        # Statistics in float64: identical samples then have a std of exactly 0.
        return cls(samples=samples, mean=samples.mean(axis=0, dtype=np.float64),
                   std=samples.std(axis=0, dtype=np.float64))

    @property
    def entropy(self) -> np.ndarray:
        """Predictive entropy (nats) of the mean class probabilities, shape ``(n,)``."""
        return predictive_entropy(self.mean)

    @property
    def mutual_information(self) -> np.ndarray:
        """Entropy of the mean minus the mean entropy of the samples, shape ``(n,)``.

        The part of the uncertainty due to the sampled weights (the samples
        disagree); zero when every sample gives the same probabilities.
        """
        expected = predictive_entropy(self.samples).mean(axis=0)
        return np.maximum(self.entropy - expected, 0.0)


def _check_model(model) -> None:
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"Expected a Keras model or layer. Received: {type(model).__name__}"
        )


def _walk(layer) -> Iterator[keras.layers.Layer]:
    yield layer
    for sublayer in getattr(layer, "layers", ()):
        yield from _walk(sublayer)


def _check_mc_arguments(model, X, n_samples: int, training: bool) -> np.ndarray:
    _check_model(model)
    check_integer("n_samples", n_samples, 1)
    if not isinstance(training, bool):
        raise TypeError(f"Expected training to be True or False. Received: {training!r}")
    X = np.asarray(X)
    if X.ndim < 1 or len(X) == 0:
        raise ValueError(f"Expected a non-empty batch of inputs. Received: shape={X.shape}")
    if training:
        batch_norms = [layer.name for layer in _walk(model)
                       if isinstance(layer, keras.layers.BatchNormalization)]
        if batch_norms:
            raise ValueError(
                "training=True would also switch the BatchNormalization layers "
                f"{batch_norms} to batch statistics (and update their moving "
                "averages). Use MCDropout layers in place of Dropout and pass "
                "training=False."
            )
    return X


def _seed_states(model) -> list:
    """The state variables of every random seed generator in ``model``."""
    weight_ids = {id(w) for w in model.weights}
    return [v for v in model.variables
            if id(v) not in weight_ids and "seed_generator_state" in v.name]


@contextlib.contextmanager
def _seeded(model, seed: int | None) -> Iterator[None]:
    """Sets the model's seed generators from ``seed``; restores them on exit."""
    if seed is None:
        yield
        return
    states = _seed_states(model)
    saved = [state.numpy().copy() for state in states]
    for i, state in enumerate(states):
        start = np.random.default_rng([seed, i]).integers(0, 2**31 - 1)
        state.assign(np.asarray([start, 0], dtype=state.dtype))
    try:
        yield
    finally:
        for state, value in zip(states, saved):
            state.assign(value)


def _forward(model, x: np.ndarray, training: bool) -> np.ndarray:
    outputs = model(x, training=training)
    if isinstance(outputs, (list, tuple, dict)):
        raise TypeError("Expected a model with a single output. Received: "
                        f"{type(outputs).__name__} of outputs")
    return keras.ops.convert_to_numpy(outputs)


def mc_dropout_predict(
    model: keras.Model,
    X: np.ndarray,
    n_samples: int = 100,
    *,
    max_batch_size: int = 8192,
    seed: int | None = None,
    training: bool = True,
) -> MCPrediction:
    """Monte Carlo dropout with batched forward passes.

    The inputs are stacked ``k`` times into one batch (all of ``X``, then all
    of ``X`` again, ...), so one call ``model(batch, training=training)``
    gives ``k`` independent samples. A call has at most ``max_batch_size``
    rows (at least one copy of a block of ``X``), which bounds the memory.

    Args:
        model: a single-output Keras model with dropout layers.
        X: inputs, shape ``(n, ...)``; not modified.
        n_samples: number of stochastic forward passes.
        max_batch_size: most rows in one call of the model.
        seed: if given, the dropout masks are reproducible: the model's seed
            generators start from ``seed`` and are restored afterwards.
        training: passed to the model. ``True`` switches on every dropout
            layer (refused for models with BatchNormalization); use ``False``
            with :class:`MCDropout` layers, which are always on.

    Returns:
        An :class:`MCPrediction` with samples of shape ``(n_samples, n, ...)``.

    Raises:
        TypeError: if ``model`` is not a Keras model or has several outputs.
        ValueError: for a non-positive ``n_samples`` or ``max_batch_size``,
            empty inputs, or ``training=True`` with BatchNormalization.
    """
    X = _check_mc_arguments(model, X, n_samples, training)
    max_batch_size = check_integer("max_batch_size", max_batch_size, 1)
    n = len(X)
    block = min(n, max_batch_size)
    samples = None
    with _seeded(model, seed):
        for start in range(0, n, block):
            x_block = X[start:start + block]
            copies_per_call = max(1, max_batch_size // len(x_block))
            done = 0
            while done < n_samples:
                k = min(copies_per_call, n_samples - done)
                stacked = x_block if k == 1 else np.concatenate([x_block] * k, axis=0)
                out = _forward(model, stacked, training)
                out = out.reshape((k, len(x_block)) + out.shape[1:])
                if samples is None:
                    samples = np.empty((n_samples, n) + out.shape[2:], dtype=out.dtype)
                samples[done:done + k, start:start + len(x_block)] = out
                done += k
    return MCPrediction.from_samples(samples)


def mc_dropout_predict_loop(
    model: keras.Model,
    X: np.ndarray,
    n_samples: int = 100,
    *,
    seed: int | None = None,
    training: bool = True,
) -> MCPrediction:
    """Monte Carlo dropout the plain way: one call of the model per sample.

    The reference for :func:`mc_dropout_predict` (same arguments and result,
    one Python-level call ``model(X, training=training)`` per sample).
    """
    X = _check_mc_arguments(model, X, n_samples, training)
    with _seeded(model, seed):
        samples = np.stack([_forward(model, X, training) for _ in range(n_samples)])
    return MCPrediction.from_samples(samples)


def _check_probabilities(probs, name: str = "probs") -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim < 1 or probs.shape[-1] < 2:
        raise ValueError(
            f"Expected {name} with classes on the last axis (at least 2). "
            f"Received: shape={probs.shape}"
        )
    if np.any(probs < -1e-6) or not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-3):
        raise ValueError(
            f"Expected {name} to be probabilities (non-negative, summing to 1 on "
            f"the last axis). Received sums between {probs.sum(axis=-1).min():.4g} "
            f"and {probs.sum(axis=-1).max():.4g}, minimum {probs.min():.4g}"
        )
    return np.clip(probs, 0.0, 1.0)


def predictive_entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy ``-sum_k p_k log p_k`` (nats) over the last axis, with 0 log 0 = 0.

    Args:
        probs: class probabilities, shape ``(..., n_classes)``.

    Returns:
        The entropies, shape ``probs.shape[:-1]``; from 0 (certain) to
        ``log(n_classes)`` (uniform).

    Raises:
        ValueError: if ``probs`` are not probabilities over the last axis.
    """
    probs = _check_probabilities(probs)
    logs = np.log(np.where(probs > 0, probs, 1.0))
    return -(probs * logs).sum(axis=-1)


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray,
                               n_bins: int = 15) -> float:
    """Expected calibration error with equal-width confidence bins.

    The confidence of a prediction is its largest class probability. The
    predictions are grouped into ``n_bins`` bins of confidence on (0, 1];
    the error is the average over bins of ``|accuracy - mean confidence|``,
    weighted by the fraction of predictions in the bin.

    Args:
        probs: class probabilities, shape ``(n, n_classes)``.
        y_true: integer labels, shape ``(n,)``.
        n_bins: number of bins.

    Returns:
        The error, between 0 (calibrated) and 1.

    Raises:
        ValueError: for mismatched shapes, labels out of range or bad probabilities.
    """
    probs = _check_probabilities(probs)
    y_true = np.asarray(y_true)
    if probs.ndim != 2 or y_true.shape != probs.shape[:1]:
        raise ValueError(
            "Expected probs of shape (n, n_classes) and labels of shape (n,). "
            f"Received: probs.shape={probs.shape}, y_true.shape={y_true.shape}"
        )
    if len(y_true) and (y_true.min() < 0 or y_true.max() >= probs.shape[1]):
        raise ValueError(f"Expected labels in [0, {probs.shape[1]}). Received: "
                         f"{y_true.min()} to {y_true.max()}")
    n_bins = check_integer("n_bins", n_bins, 1)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)
