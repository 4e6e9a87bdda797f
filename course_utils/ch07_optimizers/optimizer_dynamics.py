"""How optimizers behave, measured on small problems (chapter 7, second half).

Four experiments that need no deep network, so that they are cheap enough to
repeat over seeds:

- **Mini-batch noise.** The spread of a mini-batch gradient around the
  full-batch gradient of softmax regression, against the batch size, with the
  exact prediction ``sqrt(sigma^2 / B * (N - B) / (N - 1))`` for batches drawn
  without replacement.
- **Momentum's stability region.** On a quadratic with curvature ``lam``,
  heavy-ball momentum converges if and only if ``0 < eta * lam < 2 (1 + beta)``:
  the spectral radius of its two-step recurrence, a NumPy simulation, and the
  same run with ``keras.optimizers.SGD(momentum=beta)``.
- **AdaGrad's niche.** A logistic regression whose signal sits in rare binary
  features, trained with the NumPy optimizers of :mod:`course_utils.ch07_optimizers.optimizers`.
- **Adam's non-convergence.** A one-dimensional online problem with rare, large
  gradients, run with Keras' ``Adam`` and ``Adam(amsgrad=True)``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence

import numpy as np

from course_utils.ch07_optimizers.optimizer_base import NumpyOptimizer

__all__ = [
    "softmax_regression_gradient",
    "per_example_gradient_variance",
    "minibatch_gradient_noise",
    "predicted_gradient_noise",
    "loglog_slope",
    "heavy_ball_spectral_radius",
    "heavy_ball_path",
    "keras_quadratic_path",
    "SparseProblem",
    "sparse_logistic_problem",
    "logistic_loss",
    "train_logistic",
    "rare_spike_gradients",
    "keras_online_path",
]


def _matrix(name: str, value, ndim: int) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"Expected `{name}` to be a {ndim}D array. "
                         f"Received: shape={array.shape}")
    return array


def _labels(X: np.ndarray, y, n_classes: int) -> np.ndarray:
    labels = np.asarray(y)
    if labels.shape != (X.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"Expected one integer label per row of X ({X.shape[0]}). "
                         f"Received: y with shape {labels.shape}, dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"Expected labels in [0, {n_classes}). "
                         f"Received: {labels.min()} to {labels.max()}")
    return labels


def _residuals(X: np.ndarray, y, W: np.ndarray) -> np.ndarray:
    """``softmax(X W) - onehot(y)``, one row per example."""
    if W.shape[0] != X.shape[1]:
        raise ValueError(f"Expected W with {X.shape[1]} rows (one per feature). "
                         f"Received: W.shape={W.shape}")
    labels = _labels(X, y, W.shape[1])
    logits = X @ W
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1.0
    return p


def _xt_r(X: np.ndarray, R: np.ndarray, chunk: int = 64) -> np.ndarray:
    """``X^T R``, summed over blocks of rows.

    Small products stay on one thread: a large one lets the BLAS library start
    threads, which spend more time waiting than working on a busy machine.
    """
    total = np.zeros((X.shape[1], R.shape[1]))
    for i in range(0, len(X), chunk):
        total += X[i:i + chunk].T @ R[i:i + chunk]
    return total


def softmax_regression_gradient(X, y, W) -> np.ndarray:
    """Gradient of the mean cross-entropy of softmax regression ``softmax(X W)``.

    Args:
        X: inputs, shape ``(n, d)``.
        y: integer labels, shape ``(n,)``.
        W: weights, shape ``(d, k)``.

    Returns:
        ``X^T (softmax(X W) - onehot(y)) / n``, shape ``(d, k)``.
    """
    X, W = _matrix("X", X, 2), _matrix("W", W, 2)
    return _xt_r(X, _residuals(X, y, W)) / len(X)


def per_example_gradient_variance(X, y, W) -> float:
    """``sigma^2 = mean_i ||g_i - g||^2``, the spread of one example's gradient.

    The per-example gradient of softmax regression is the outer product
    ``x_i r_i^T``, whose squared norm is ``||x_i||^2 ||r_i||^2``: no per-example
    gradient is ever stored.
    """
    X, W = _matrix("X", X, 2), _matrix("W", W, 2)
    R = _residuals(X, y, W)
    mean_square = float(np.mean(np.sum(X**2, axis=1) * np.sum(R**2, axis=1)))
    g = _xt_r(X, R) / len(X)
    return mean_square - float(np.sum(g**2))


def minibatch_gradient_noise(X, y, W, batch_sizes: Sequence[int], *, n_batches: int = 50,
                             seed: int = 0) -> np.ndarray:
    """Root-mean-square distance of mini-batch gradients from the full gradient.

    Each batch is drawn without replacement, as one batch of a shuffled epoch.

    Args:
        X, y, W: as in :func:`softmax_regression_gradient`.
        batch_sizes: the batch sizes ``B`` to measure, each in ``[1, n]``.
        n_batches: how many batches to draw for each size.
        seed: seeds the draws.

    Returns:
        ``sqrt(mean ||g_B - g||^2)`` for each batch size, a float64 array.
    """
    X, W = _matrix("X", X, 2), _matrix("W", W, 2)
    y = np.asarray(y)
    n = len(X)
    sizes = [int(b) for b in batch_sizes]
    if not sizes or min(sizes) < 1 or max(sizes) > n:
        raise ValueError(f"Expected batch sizes between 1 and {n}. Received: {batch_sizes!r}")
    if n_batches < 1:
        raise ValueError(f"Expected n_batches >= 1. Received: {n_batches!r}")
    rng = np.random.default_rng(seed)
    R = _residuals(X, y, W)  # the batch gradient is X_B^T R_B / B
    full = _xt_r(X, R) / n
    noise = []
    for b in sizes:
        squares = [np.sum((_xt_r(X[i], R[i]) / b - full) ** 2)
                   for i in (rng.choice(n, size=b, replace=False) for _ in range(n_batches))]
        noise.append(math.sqrt(float(np.mean(squares))))
    return np.array(noise)


def predicted_gradient_noise(variance: float, batch_sizes: Sequence[int], n: int) -> np.ndarray:
    """Exact RMS noise of a batch drawn without replacement from ``n`` examples.

    ``E ||g_B - g||^2 = sigma^2 / B * (n - B) / (n - 1)``: the ``1/B`` of
    independent draws, times the finite-population correction.
    """
    b = np.asarray(batch_sizes, dtype=np.float64)
    if np.any(b < 1) or np.any(b > n) or n < 2:
        raise ValueError(f"Expected batch sizes between 1 and n={n}. Received: {batch_sizes!r}")
    return np.sqrt(variance / b * (n - b) / (n - 1))


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (``y ~ x^slope``)."""
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    if lx.shape != ly.shape or lx.size < 2:
        raise ValueError(f"Expected two equally long sequences of at least 2 positive numbers. "
                         f"Received: lengths {lx.size} and {ly.size}")
    return float(np.polyfit(lx, ly, 1)[0])


def heavy_ball_spectral_radius(step_curvature, momentum):
    """Largest ``|z|`` among the roots of ``z^2 - (1 + beta - h) z + beta``.

    Heavy-ball momentum on ``lam * theta^2 / 2`` follows
    ``theta_{t+1} = (1 + beta - h) theta_t - beta theta_{t-1}`` with
    ``h = eta * lam``; it converges from every start iff this radius is < 1.

    Args:
        step_curvature: ``h = eta * lam`` (a number or an array).
        momentum: ``beta`` (broadcast against ``h``).

    Returns:
        The spectral radius, with the broadcast shape (a float for scalars).
    """
    h, beta = np.broadcast_arrays(np.asarray(step_curvature, dtype=float),
                                  np.asarray(momentum, dtype=float))
    b = 1.0 + beta - h
    root = np.sqrt((b * b - 4.0 * beta).astype(complex))
    radius = np.maximum(np.abs((b + root) / 2), np.abs((b - root) / 2))
    return float(radius) if radius.ndim == 0 else radius


def heavy_ball_path(learning_rate: float, curvature, momentum: float, n_steps: int,
                    start: float = 1.0) -> np.ndarray:
    """``m <- beta m - eta lam theta; theta <- theta + m`` on ``lam theta^2 / 2``.

    ``curvature`` may be an array: one independent run per entry.

    Returns:
        ``theta`` after every step, shape ``(n_steps,) + shape(curvature)``.
    """
    lam = np.asarray(curvature, dtype=float)
    theta, m = np.full(lam.shape, float(start)), np.zeros(lam.shape)
    path = np.empty((int(n_steps),) + lam.shape)
    for t in range(int(n_steps)):
        m = momentum * m - learning_rate * lam * theta
        theta = theta + m
        path[t] = theta
    return path


def _graph_path(optimizer, start: np.ndarray, n_steps: int, gradient, bounds) -> np.ndarray:
    """Runs a Keras optimizer in one compiled loop; ``gradient(x, t)`` gives the gradient."""
    import keras
    import tensorflow as tf

    x = keras.Variable(np.asarray(start, dtype="float32"))
    optimizer.build([x])

    @tf.function
    def loop():
        out = tf.TensorArray(tf.float32, size=n_steps)
        for t in tf.range(n_steps):
            optimizer.apply_gradients([(gradient(x.value, t), x)])
            if bounds is not None:
                x.assign(tf.clip_by_value(x.value, bounds[0], bounds[1]))
            out = out.write(t, x.value)
        return out.stack()

    # Every call traces a new loop on purpose (a new optimizer and variable):
    # silence TensorFlow's warning about repeated tracing while it runs.
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return loop().numpy().astype(np.float64)
    finally:
        logger.setLevel(level)


def keras_quadratic_path(optimizer, curvature, n_steps: int, start: float = 1.0) -> np.ndarray:
    """The same run as :func:`heavy_ball_path`, with a Keras optimizer.

    Args:
        optimizer: a fresh ``keras.optimizers`` instance (``SGD(momentum=...)``).
        curvature: ``lam``, a number or a 1D array (one run per entry).
        n_steps: the number of steps.
        start: the initial ``theta``.

    Returns:
        ``theta`` after every step (float32 values), shape ``(n_steps, len)``.
    """
    import tensorflow as tf

    lam = np.atleast_1d(np.asarray(curvature, dtype="float32"))
    lam_t = tf.constant(lam)
    return _graph_path(optimizer, np.full(lam.shape, start), int(n_steps),
                       lambda x, t: lam_t * x, None)


@dataclasses.dataclass(frozen=True)
class SparseProblem:
    """A logistic-regression data set with dense and rare binary features.

    Attributes:
        X_train, y_train, X_test, y_test: the data (labels 0 or 1).
        w_true: the weights that generated the labels.
        n_dense: the first ``n_dense`` columns are dense Gaussian features,
            the others rare binary ones.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    w_true: np.ndarray
    n_dense: int


def sparse_logistic_problem(seed: int, *, n_train: int = 4000, n_test: int = 2000,
                            n_dense: int = 10, n_rare: int = 90, rare_probability: float = 0.01,
                            dense_scale: float = 0.3, rare_weight: float = 3.0) -> SparseProblem:
    """Labels from ``sigmoid(x . w)``, with most of the signal on rare features.

    The dense features are standard normal with weights of scale
    ``dense_scale``; each rare feature is 1 with probability
    ``rare_probability`` (else 0) and carries a weight of ``+-rare_weight``.
    """
    if not 0 < rare_probability < 1:
        raise ValueError(f"Expected rare_probability in (0, 1). Received: {rare_probability!r}")
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    X = np.hstack([rng.normal(size=(n, n_dense)),
                   (rng.random((n, n_rare)) < rare_probability).astype(float)])
    w = np.concatenate([rng.normal(0.0, dense_scale, n_dense),
                        rng.choice([-rare_weight, rare_weight], n_rare)])
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w))).astype(float)
    return SparseProblem(X[:n_train], y[:n_train], X[n_train:], y[n_train:], w, n_dense)


def logistic_loss(X, y, w) -> float:
    """Mean cross-entropy of ``sigmoid(X w)`` against labels 0/1."""
    z = _matrix("X", X, 2) @ np.asarray(w, dtype=float)
    return float(np.mean(np.logaddexp(0.0, z) - np.asarray(y) * z))


def train_logistic(optimizer: NumpyOptimizer, X, y, *, batch_size: int = 10,
                   epochs: int = 1) -> np.ndarray:
    """Trains logistic regression from zero weights with a NumPy optimizer.

    The batches are taken in order (the data are already random).

    Returns:
        The final weights.
    """
    X = _matrix("X", X, 2)
    y = np.asarray(y, dtype=float)
    if batch_size < 1:
        raise ValueError(f"Expected batch_size >= 1. Received: {batch_size!r}")
    params = [np.zeros(X.shape[1])]
    for _ in range(epochs):
        for i in range(0, len(X), batch_size):
            xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            p = 1 / (1 + np.exp(-xb @ params[0]))
            params = optimizer.step(params, [xb.T @ (p - yb) / len(yb)])
    return params[0]


def rare_spike_gradients(n_blocks: int, block: int, spike: float, seed: int) -> np.ndarray:
    """Gradients of a linear online loss: ``-1`` except one spike per block.

    Each block of ``block`` steps has one step, at a random position, whose
    gradient is ``+spike``; every other step's gradient is ``-1``. The mean
    gradient is ``(spike - (block - 1)) / block``: when it is positive, the
    best point of an interval is its left end.

    Returns:
        The ``n_blocks * block`` gradients, float64.
    """
    if block < 2 or n_blocks < 1:
        raise ValueError(f"Expected block >= 2 and n_blocks >= 1. "
                         f"Received: block={block!r}, n_blocks={n_blocks!r}")
    rng = np.random.default_rng(seed)
    g = np.full(n_blocks * block, -1.0)
    g[rng.integers(0, block, n_blocks) + block * np.arange(n_blocks)] = float(spike)
    return g


def keras_online_path(optimizer, gradients: Sequence[float], *, start: float = 0.0,
                      bounds: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Projected online descent of ``f_t(x) = g_t x`` with a Keras optimizer.

    After each step ``x`` is clipped back into ``bounds``.

    Returns:
        ``x`` after every step, shape ``(len(gradients),)``.
    """
    import tensorflow as tf

    g = np.asarray(gradients, dtype="float32")
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"Expected a non-empty 1D sequence of gradients. Received: {g.shape}")
    if not bounds[0] <= start <= bounds[1]:
        raise ValueError(f"Expected start inside {bounds}. Received: start={start!r}")
    g_t = tf.constant(g)
    path = _graph_path(optimizer, np.array([start]), g.size,
                       lambda x, t: tf.reshape(g_t[t], (1,)), bounds)
    return path[:, 0]
