"""Gradient clipping: the three rules in NumPy, and training that logs them.

Keras 3 optimizers take one of three clipping arguments:

* ``clipvalue=c`` clips every gradient *component* to ``[-c, c]``;
* ``clipnorm=c`` rescales every gradient *tensor* (one per variable) whose L2
  norm exceeds ``c`` down to norm ``c``;
* ``global_clipnorm=c`` rescales *all* gradient tensors together when their
  joint L2 norm exceeds ``c``.

Clipping by norm keeps the direction of the gradient; clipping by value does
not. :func:`fit_logging_gradients` trains a model with a plain loop that
records, at every step, the loss and the global gradient norm before and
after the optimizer's clipping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from course_utils.core.validation import as_float_array as _as_float_array
from course_utils.core.validation import check_positive as _check_threshold

__all__ = [
    "clip_by_value",
    "clip_by_norm",
    "clip_by_global_norm",
    "global_norm",
    "clip_like_optimizer",
    "GradientLog",
    "fit_logging_gradients",
    "plot_gradient_logs",
    "optimizer_updates",
]


def clip_by_value(gradient, clip_value: float) -> np.ndarray:
    """Clips every component to ``[-clip_value, clip_value]`` (``clipvalue``).

    Args:
        gradient: an array of any shape.
        clip_value: the positive bound.

    Returns:
        A new array of the same shape.
    """
    clip_value = _check_threshold("clip_value", clip_value)
    return np.clip(_as_float_array("gradient", gradient), -clip_value, clip_value)


def clip_by_norm(gradient, clip_norm: float) -> np.ndarray:
    """Rescales ``gradient`` to L2 norm ``clip_norm`` if it is longer (``clipnorm``).

    The result is ``g * clip_norm / max(||g||, clip_norm)``: the same direction,
    and unchanged when ``||g|| <= clip_norm``.

    Args:
        gradient: an array of any shape (its norm is over all components).
        clip_norm: the positive maximum norm.

    Returns:
        A new array of the same shape.
    """
    clip_norm = _check_threshold("clip_norm", clip_norm)
    g = _as_float_array("gradient", gradient)
    norm = np.sqrt(np.sum(g * g))
    return g * (clip_norm / max(norm, clip_norm))


def global_norm(gradients: Sequence) -> float:
    """The L2 norm of all gradient tensors taken together."""
    if isinstance(gradients, np.ndarray) or not isinstance(gradients, (list, tuple)):
        raise TypeError(
            "Expected a list or tuple of gradient arrays (one per variable). "
            f"Received: {type(gradients).__name__}"
        )
    return float(np.sqrt(sum(np.sum(_as_float_array("gradient", g) ** 2) for g in gradients)))


def clip_by_global_norm(gradients: Sequence, clip_norm: float) -> tuple[list[np.ndarray], float]:
    """Rescales all tensors together if their joint norm exceeds ``clip_norm``.

    This is ``global_clipnorm``: every tensor is multiplied by the same factor
    ``clip_norm / max(global_norm, clip_norm)``, so the update keeps the
    direction of the full gradient.

    Args:
        gradients: a list or tuple of arrays, one per variable.
        clip_norm: the positive maximum global norm.

    Returns:
        ``(clipped, norm)``: new arrays, and the global norm before clipping.
    """
    clip_norm = _check_threshold("clip_norm", clip_norm)
    norm = global_norm(gradients)
    scale = clip_norm / max(norm, clip_norm)
    return [_as_float_array("gradient", g) * scale for g in gradients], norm


def clip_like_optimizer(optimizer: keras.optimizers.Optimizer, gradients):
    """Applies the optimizer's own clipping setting to TensorFlow gradients.

    Args:
        optimizer: a Keras optimizer with at most one of ``clipvalue``,
            ``clipnorm`` and ``global_clipnorm`` set.
        gradients: a list of tensors.

    Returns:
        The list of clipped tensors (the gradients themselves if no
        clipping is set).
    """
    if optimizer.clipvalue is not None:
        return [tf.clip_by_value(g, -optimizer.clipvalue, optimizer.clipvalue)
                for g in gradients]
    if optimizer.clipnorm is not None:
        return [tf.clip_by_norm(g, optimizer.clipnorm) for g in gradients]
    if optimizer.global_clipnorm is not None:
        return tf.clip_by_global_norm(gradients, optimizer.global_clipnorm)[0]
    return list(gradients)


@dataclasses.dataclass(frozen=True)
class GradientLog:
    """Per-step record of a training run.

    Attributes:
        loss: training loss of each step's batch.
        norm_before: global gradient norm before clipping.
        norm_after: global gradient norm after the optimizer's clipping.
        learning_rate: the optimizer's learning rate.
    """

    loss: np.ndarray
    norm_before: np.ndarray
    norm_after: np.ndarray
    learning_rate: float

    @property
    def diverged(self) -> bool:
        """True if the loss became NaN or infinite."""
        return bool(np.any(~np.isfinite(self.loss)))


def fit_logging_gradients(
    model: keras.Model,
    X,
    y,
    optimizer: keras.optimizers.Optimizer,
    *,
    loss: str | keras.losses.Loss = "sparse_categorical_crossentropy",
    epochs: int = 1,
    batch_size: int = 32,
    seed: int = 0,
) -> GradientLog:
    """Trains ``model`` with mini-batch steps, logging gradient norms each step.

    Each step computes the gradients, their global norm, the same gradients
    clipped as ``optimizer`` will clip them (see :func:`clip_like_optimizer`)
    and their norm, then lets the optimizer apply them. Clipping is idempotent,
    so the update is exactly the one ``model.fit`` would make with this
    optimizer.

    Args:
        model: a Keras model (its weights are trained in place, as by ``fit``).
        X: inputs.
        y: integer labels (or targets for ``loss``).
        optimizer: a fresh Keras optimizer.
        loss: a Keras loss.
        epochs: passes over the data.
        batch_size: samples per step.
        seed: seed of the shuffling.

    Returns:
        A :class:`GradientLog`.

    Raises:
        ValueError: if ``X`` and ``y`` lengths differ or ``batch_size`` < 1.
    """
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"Expected as many targets as inputs. Received {len(X)} and {len(y)}.")
    if batch_size < 1 or epochs < 1:
        raise ValueError(
            f"Expected batch_size >= 1 and epochs >= 1. Received {batch_size} and {epochs}.")
    loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    if not model.built:
        model.build((None, *X.shape[1:]))
    variables = model.trainable_variables
    optimizer.build(variables)

    @tf.function
    def step(x_batch, y_batch):
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss_fn(y_batch, model(x_batch, training=True)))
        grads = tape.gradient(value, variables)
        clipped = clip_like_optimizer(optimizer, grads)
        optimizer.apply(grads, variables)
        return value, tf.linalg.global_norm(grads), tf.linalg.global_norm(clipped)

    rng = np.random.default_rng(seed)
    losses, before, after = [], [], []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            value, norm, clipped_norm = step(tf.constant(X[idx]), tf.constant(y[idx]))
            losses.append(float(value))
            before.append(float(norm))
            after.append(float(clipped_norm))
    return GradientLog(np.array(losses), np.array(before), np.array(after),
                       float(optimizer.learning_rate.numpy()))


def plot_gradient_logs(logs: Mapping[str, GradientLog], axes=None, smooth: int = 20):
    """Plots per-step loss and gradient norms (before/after clipping) per run.

    Args:
        logs: run label -> :class:`GradientLog`.
        axes: two axes; new ones by default.
        smooth: width of the moving average drawn over the loss.

    Returns:
        The two axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    for i, (label, log) in enumerate(logs.items()):
        color = f"C{i}"
        steps = np.arange(1, len(log.loss) + 1)
        loss = np.where(np.isfinite(log.loss), log.loss, np.nan)
        if smooth > 1 and len(loss) >= smooth:
            kernel = np.ones(smooth) / smooth
            loss = np.convolve(loss, kernel, mode="same")
        axes[0].plot(steps, loss, color=color, label=label)
        before = np.where(np.isfinite(log.norm_before), log.norm_before, np.nan)
        axes[1].semilogy(steps, before, color=color, alpha=0.35, linewidth=1)
        axes[1].semilogy(steps, log.norm_after, color=color, label=f"{label} (after clipping)")
    axes[0].set(xlabel="training step", ylabel="loss (moving average)",
                title="training loss")
    axes[1].set(xlabel="training step", ylabel="global gradient norm",
                title="gradient norm: before (faint) and after clipping")
    axes[0].legend(fontsize="small")
    return axes


def optimizer_updates(optimizer: keras.optimizers.Optimizer, gradients: Sequence,
                      initial=None) -> np.ndarray:
    """The updates ``optimizer`` makes to one variable, given its gradient at each step.

    Useful to see what clipping does to the *update*, not the gradient: the
    optimizer's own clipping (``clipnorm``, ``global_clipnorm``, ``clipvalue``)
    is applied as in ``fit``.

    Args:
        optimizer: a fresh Keras optimizer (it is built on a new variable).
        gradients: one array per step, all of the variable's shape.
        initial: the variable's starting value; zeros by default.

    Returns:
        A float64 array ``(steps, *shape)``: new value minus old value at each
        step.

    Raises:
        ValueError: if no gradient is given or their shapes differ.
    """
    grads = [_as_float_array("gradient", g) for g in gradients]
    if not grads or any(g.shape != grads[0].shape for g in grads):
        raise ValueError("Expected one or more gradients of the same shape. Received shapes: "
                         f"{[g.shape for g in grads]}")
    start = np.zeros(grads[0].shape) if initial is None \
        else _as_float_array("initial", initial)
    if start.shape != grads[0].shape:
        raise ValueError(f"Expected `initial` of shape {grads[0].shape}. "
                         f"Received: shape={start.shape}")
    variable = keras.Variable(start.astype("float32"))
    updates = []
    for g in grads:
        before = np.array(variable.numpy(), dtype=np.float64)
        optimizer.apply([tf.constant(g, dtype=tf.float32)], [variable])
        updates.append(np.array(variable.numpy(), dtype=np.float64) - before)
    return np.stack(updates)
