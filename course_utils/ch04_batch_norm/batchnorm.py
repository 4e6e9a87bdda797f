"""Batch normalization from scratch: the forward pass, parameter counts, latency.

:func:`batch_norm_forward` follows the four steps of Ioffe and Szegedy (2015)
in NumPy, in training mode (batch statistics, moving averages updated) and in
inference mode (moving averages), with the same conventions as
``keras.layers.BatchNormalization``: biased batch variance, ``epsilon`` added
to the variance, ``moving = moving * momentum + batch * (1 - momentum)``.
Folding a trained BN layer into its neighbour lives in
:mod:`course_utils.ch04_batch_norm.bn_folding`.
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from course_utils.core.validation import check_vector

__all__ = [
    "BatchNormResult",
    "batch_norm_forward",
    "ParameterCount",
    "parameter_counts",
    "measure_inference_latency",
    "layer_norm_forward",
    "batches_containing",
    "batch_norm_per_batch",
]


@dataclasses.dataclass(frozen=True)
class BatchNormResult:
    """The output of :func:`batch_norm_forward`.

    Attributes:
        outputs: the normalized, scaled and shifted inputs (same shape).
        moving_mean: the moving mean after this call (updated in training
            mode, a copy of the given one in inference mode).
        moving_variance: the moving variance after this call.
        mean: the statistics used to normalize: the batch mean in training
            mode, the moving mean in inference mode.
        variance: the batch variance (biased) or the moving variance.
    """

    outputs: np.ndarray
    moving_mean: np.ndarray
    moving_variance: np.ndarray
    mean: np.ndarray
    variance: np.ndarray


def _feature_vector(name: str, value, n_features: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n_features, default, dtype=np.float64)
    return check_vector(name, value, n_features,  # a copy: never touch the caller's
                        note=", one value per feature on the normalized axis")


def _feature_batch(x, axis: int) -> np.ndarray:
    """``x`` as float64, checked to be a batch whose ``axis`` is a feature axis."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError("Expected a non-empty batch of rank >= 2, e.g. (batch, features). "
                         f"Received: shape={x.shape}")
    if not -x.ndim <= axis < x.ndim or axis % x.ndim == 0:
        raise ValueError(f"Expected `axis` to be a feature axis of an input of rank {x.ndim} "
                         f"(not the batch axis 0). Received: axis={axis}")
    return x


def batch_norm_forward(
    x,
    gamma=None,
    beta=None,
    moving_mean=None,
    moving_variance=None,
    *,
    training: bool,
    axis: int = -1,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
) -> BatchNormResult:
    """Batch normalization of ``x`` along ``axis``, in NumPy (float64).

    Training mode computes the mean and the biased variance of every feature
    over all other axes, normalizes with them, then scales by ``gamma`` and
    shifts by ``beta``; it also returns updated moving averages. Inference
    mode normalizes with the moving averages and leaves them unchanged.

    Args:
        x: inputs of any rank >= 2, e.g. ``(batch, features)``.
        gamma: scale per feature, shape ``(x.shape[axis],)``; ``None`` means 1.
        beta: shift per feature; ``None`` means 0.
        moving_mean: running mean per feature; ``None`` means 0 (Keras' start).
        moving_variance: running variance per feature; ``None`` means 1.
        training: ``True`` for batch statistics (and the moving-average
            update), ``False`` for the moving averages.
        axis: the feature axis (Keras' ``axis`` argument), default the last.
        momentum: weight of the old moving average in the update.
        epsilon: added to the variance before the square root.

    Returns:
        A :class:`BatchNormResult`. The arguments are never modified.

    Raises:
        ValueError: for a bad ``axis``, ``momentum``, ``epsilon``, a parameter
            of the wrong shape, or a batch of fewer than one sample.
    """
    x = _feature_batch(x, axis)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"Expected 0 <= momentum <= 1. Received: momentum={momentum}")
    if not epsilon > 0:
        raise ValueError(f"Expected epsilon > 0. Received: epsilon={epsilon}")
    axis = axis % x.ndim
    n_features = x.shape[axis]
    gamma = _feature_vector("gamma", gamma, n_features, 1.0)
    beta = _feature_vector("beta", beta, n_features, 0.0)
    moving_mean = _feature_vector("moving_mean", moving_mean, n_features, 0.0)
    moving_variance = _feature_vector("moving_variance", moving_variance, n_features, 1.0)

    shape = [1] * x.ndim
    shape[axis] = n_features
    reduce_axes = tuple(i for i in range(x.ndim) if i != axis)
    if training:
        mean = x.mean(axis=reduce_axes)                        # step 1
        variance = ((x - mean.reshape(shape)) ** 2).mean(axis=reduce_axes)  # step 2, biased
        moving_mean = moving_mean * momentum + mean * (1.0 - momentum)
        moving_variance = moving_variance * momentum + variance * (1.0 - momentum)
    else:
        mean, variance = moving_mean.copy(), moving_variance.copy()
    x_hat = (x - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + epsilon)  # step 3
    outputs = gamma.reshape(shape) * x_hat + beta.reshape(shape)                    # step 4
    return BatchNormResult(outputs, moving_mean, moving_variance, mean, variance)


@dataclasses.dataclass(frozen=True)
class ParameterCount:
    """The parameters of one layer, read from its variables.

    Attributes:
        layer: the layer's name.
        kind: the layer's class name (``"Dense"``, ``"BatchNormalization"``...).
        trainable: number of trainable parameters.
        non_trainable: number of non-trainable parameters.
        variables: variable name -> ``(size, trainable)``, e.g.
            ``{"gamma": (784, True), "moving_mean": (784, False), ...}``.
    """

    layer: str
    kind: str
    trainable: int
    non_trainable: int
    variables: dict

    @property
    def total(self) -> int:
        """Trainable plus non-trainable parameters."""
        return self.trainable + self.non_trainable


def _short_name(variable) -> str:
    return variable.path.rsplit("/", 1)[-1] if hasattr(variable, "path") else variable.name


def parameter_counts(model: keras.Model) -> list[ParameterCount]:
    """Counts the trainable and non-trainable parameters of every layer.

    The counts come from the model's own variables, so they follow the layer
    configuration (``scale=False``, ``center=False``) and freezing
    (``layer.trainable = False`` makes gamma and beta non-trainable).

    Args:
        model: a built Keras model.

    Returns:
        One :class:`ParameterCount` per layer, in order; their sums equal
        ``model.count_params()``.

    Raises:
        TypeError: if ``model`` is not a Keras model.
        ValueError: if the model is not built.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras.Model. Received: {type(model).__name__}")
    if not model.built:
        raise ValueError("Expected a built model (give it a keras.Input or call it once). "
                         f"Received: the unbuilt model {model.name!r}")
    counts = []
    for layer in model.layers:
        trainable_ids = {id(v) for v in layer.trainable_weights}
        variables = {_short_name(v): (int(np.prod(v.shape)), id(v) in trainable_ids)
                     for v in layer.weights}
        trainable = sum(size for size, is_trainable in variables.values() if is_trainable)
        non_trainable = sum(size for size, is_trainable in variables.values()
                            if not is_trainable)
        counts.append(ParameterCount(layer.name, type(layer).__name__, int(trainable),
                                     int(non_trainable), variables))
    return counts


def measure_inference_latency(
    model: keras.Model,
    x,
    *,
    repeats: int = 50,
    warmup: int = 3,
    method: str = "call",
) -> float:
    """The median wall-clock time of one inference call, in seconds.

    Args:
        model: a Keras model.
        x: one batch of inputs (a single sample is a batch of size 1).
        repeats: number of timed calls; the median is returned.
        warmup: untimed calls first (tracing, memory allocation).
        method: ``"call"`` times ``model(x, training=False)`` (eager, the
            per-layer Python overhead included); ``"predict_on_batch"``
            times ``model.predict_on_batch(x)`` (a compiled graph). Neither
            includes ``model.predict``'s large per-call set-up.

    Returns:
        The median time of one call, in seconds (a Python float).

    Raises:
        ValueError: for an unknown ``method`` or ``repeats < 1``.
    """
    if method not in ("call", "predict_on_batch"):
        raise ValueError('Expected method "call" or "predict_on_batch". '
                         f"Received: method={method!r}")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"Expected repeats >= 1 and warmup >= 0. Received: repeats={repeats}, "
                         f"warmup={warmup}")
    x = keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    if method == "call":
        def run():
            return keras.ops.convert_to_numpy(model(x, training=False))
    else:
        def run():
            return model.predict_on_batch(x)
    for _ in range(warmup):
        run()
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def layer_norm_forward(x, gamma=None, beta=None, *, axis: int = -1,
                       epsilon: float = 1e-3) -> np.ndarray:
    """Layer normalization of ``x`` over ``axis``, in NumPy (float64).

    Each sample is normalized with the mean and the (biased) variance of its
    own features, then scaled by ``gamma`` and shifted by ``beta`` (one value
    per feature), as ``keras.layers.LayerNormalization(axis=axis)`` does. No
    statistic is shared between samples, so there is no training mode and no
    moving average.

    Args:
        x: inputs of rank >= 2, e.g. ``(batch, features)``.
        gamma: scale per feature, shape ``(x.shape[axis],)``; ``None`` means 1.
        beta: shift per feature; ``None`` means 0.
        axis: the feature axis the statistics are taken over (not the batch
            axis 0).
        epsilon: added to the variance before the square root.

    Returns:
        A new float64 array of the shape of ``x``.

    Raises:
        ValueError: for a bad ``axis`` or ``epsilon``, or a parameter of the
            wrong shape.
    """
    x = _feature_batch(x, axis)
    if not epsilon > 0:
        raise ValueError(f"Expected epsilon > 0. Received: epsilon={epsilon}")
    axis = axis % x.ndim
    n_features = x.shape[axis]
    shape = [1] * x.ndim
    shape[axis] = n_features
    gamma = _feature_vector("gamma", gamma, n_features, 1.0).reshape(shape)
    beta = _feature_vector("beta", beta, n_features, 0.0).reshape(shape)
    mean = x.mean(axis=axis, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


def batches_containing(probe, pool, *, batch_size: int, n_batches: int,
                       seed: int) -> np.ndarray:
    """Random mini-batches that all contain ``probe``, as its first sample.

    The other ``batch_size - 1`` samples of each batch are drawn from
    ``pool`` without replacement (independently for every batch).

    Args:
        probe: one sample, shape ``(features,)``.
        pool: the samples to draw its batch mates from, ``(n, features)``.
        batch_size: samples per batch, the probe included (>= 1).
        n_batches: how many batches.
        seed: seed of the draws.

    Returns:
        A float64 array ``(n_batches, batch_size, features)``.

    Raises:
        ValueError: for shapes that do not match or sizes out of range.
    """
    probe = np.asarray(probe, dtype=np.float64)
    pool = np.asarray(pool, dtype=np.float64)
    if probe.ndim != 1 or pool.ndim != 2 or pool.shape[1] != probe.shape[0]:
        raise ValueError("Expected a probe of shape (features,) and a pool of shape "
                         f"(n, features). Received: probe {probe.shape}, pool {pool.shape}")
    if not 1 <= batch_size <= len(pool) + 1 or n_batches < 1:
        raise ValueError(f"Expected 1 <= batch_size <= {len(pool) + 1} (the pool plus the "
                         f"probe) and n_batches >= 1. Received: batch_size={batch_size}, "
                         f"n_batches={n_batches}")
    rng = np.random.default_rng(seed)
    batches = np.empty((n_batches, batch_size, probe.shape[0]))
    batches[:, 0] = probe
    for b in range(n_batches):
        batches[b, 1:] = pool[rng.choice(len(pool), size=batch_size - 1, replace=False)]
    return batches


def batch_norm_per_batch(batches, *, epsilon: float = 1e-3) -> np.ndarray:
    """Training-mode BN (``gamma = 1``, ``beta = 0``) of each batch on its own.

    Args:
        batches: ``(n_batches, batch_size, features)``, e.g. from
            :func:`batches_containing`.
        epsilon: added to each batch variance.

    Returns:
        The normalized batches, same shape: feature ``j`` of sample ``i`` in
        batch ``b`` is standardized with the mean and the biased variance of
        feature ``j`` over batch ``b``.

    Raises:
        ValueError: if ``batches`` is not 3D or ``epsilon`` is not positive.
    """
    batches = np.asarray(batches, dtype=np.float64)
    if batches.ndim != 3 or batches.shape[1] == 0:
        raise ValueError("Expected batches of shape (n_batches, batch_size, features). "
                         f"Received: shape={batches.shape}")
    if not epsilon > 0:
        raise ValueError(f"Expected epsilon > 0. Received: epsilon={epsilon}")
    mean = batches.mean(axis=1, keepdims=True)
    variance = ((batches - mean) ** 2).mean(axis=1, keepdims=True)
    return (batches - mean) / np.sqrt(variance + epsilon)
