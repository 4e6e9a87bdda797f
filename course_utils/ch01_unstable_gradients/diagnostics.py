"""Diagnosing unstable gradients: per-layer activation and gradient statistics.

The helpers look inside a Keras model the way Glorot and Bengio (2010) did:
the mean, spread and saturation of each layer's activations, and the size of
each layer's weight gradient, on one batch or recorded during training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from course_utils.core.keras_probing import layer_probe, probe_batch

__all__ = [
    "LayerStats",
    "activation_stats",
    "gradient_norms",
    "LayerStatsRecorder",
    "plot_layer_stats",
    "plot_gradient_norms",
]

# An activation counts as saturated where its derivative is tiny: sigmoid
# outputs within 0.02 of 0 or 1 (derivative below 0.0196, under 8% of its
# maximum), tanh outputs within 0.04 of -1 or 1 (derivative below 0.079).
_SATURATION_BANDS = {
    "sigmoid": (0.02, 0.98),
    "tanh": (-0.96, 0.96),
}


@dataclasses.dataclass(frozen=True)
class LayerStats:
    """Statistics of one layer's outputs on a batch.

    Attributes:
        name: the layer's name.
        mean: mean of all outputs (over samples and units).
        std: standard deviation of all outputs.
        saturated: fraction of outputs in the activation's flat region, or
            NaN for activations without one (ReLU, linear, ...).
    """

    name: str
    mean: float
    std: float
    saturated: float


def _weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    layers = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    if not layers:
        raise ValueError(
            "Expected a model with at least one layer that has a kernel (Dense, "
            f"Conv...). Received a model with layers {[layer.name for layer in model.layers]}."
        )
    return layers


def _activation_name(layer: keras.layers.Layer) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") if activation is not None else ""


def activation_stats(
    model: keras.Model,
    X,
    *,
    saturation_bands: Mapping[str, tuple[float, float]] | None = None,
) -> list[LayerStats]:
    """Computes the mean, std and saturated fraction of each layer's outputs.

    Only layers with a kernel are reported (their output is the activation
    after the nonlinearity). The model runs in inference mode.

    Args:
        model: a built or buildable Keras model (Sequential or functional).
        X: a batch of inputs, shape ``(n, ...)``.
        saturation_bands: activation name -> ``(low, high)``; an output is
            saturated when it lies outside ``[low, high]``. Defaults to
            sigmoid ``(0.02, 0.98)`` and tanh ``(-0.96, 0.96)``.

    Returns:
        One :class:`LayerStats` per weighted layer, from input to output.

    Raises:
        ValueError: if the batch is empty or the model has no weighted layer.
    """
    X = probe_batch(X, model)
    bands = dict(_SATURATION_BANDS if saturation_bands is None else saturation_bands)
    layers = _weighted_layers(model)
    outputs = layer_probe(model, layers, which="output")(X)
    stats = []
    for layer, values in zip(layers, outputs):
        values = np.asarray(values, dtype=np.float64)
        band = bands.get(_activation_name(layer))
        saturated = (float(np.mean((values < band[0]) | (values > band[1])))
                     if band is not None else float("nan"))
        stats.append(LayerStats(layer.name, float(values.mean()), float(values.std()),
                                saturated))
    return stats


def gradient_norms(
    model: keras.Model,
    X,
    y,
    loss: Callable | str | None = None,
) -> dict[str, float]:
    """The L2 norm of the loss gradient with respect to each layer's kernel.

    Args:
        model: a Keras model.
        X: a batch of inputs.
        y: the batch's targets.
        loss: a Keras loss (object, function or name). Defaults to the
            model's compiled loss, or sparse categorical cross-entropy if it
            is not compiled.

    Returns:
        Layer name -> norm of dLoss/dKernel, from input to output. The loss
        is the batch mean, as in training.

    Raises:
        ValueError: if ``X`` and ``y`` have different numbers of samples.
    """
    X = probe_batch(X, model)
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(
            f"Expected as many targets as inputs. Received: {len(X)} inputs and "
            f"{len(y)} targets."
        )
    if loss is None:
        loss = getattr(model, "loss", None) or "sparse_categorical_crossentropy"
    loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    layers = _weighted_layers(model)
    kernels = [layer.kernel for layer in layers]
    with tf.GradientTape() as tape:
        predictions = model(X, training=True)
        value = tf.reduce_mean(loss_fn(y, predictions))
    grads = tape.gradient(value, kernels)
    # The norm is taken in float64: in float32 the squares of gradients below
    # about 1e-19 underflow, and a tiny gradient would read as exactly 0.
    return {layer.name: float(np.linalg.norm(np.asarray(g, dtype=np.float64)))
            if g is not None else 0.0
            for layer, g in zip(layers, grads)}


class LayerStatsRecorder(keras.callbacks.Callback):
    """Records activation statistics and gradient norms on a fixed probe batch.

    After ``fit(..., callbacks=[recorder])``, ``recorder.steps`` holds the
    training step of each record, ``recorder.activation_std`` and
    ``recorder.gradient_norm`` are arrays of shape ``(records, layers)``.

    Args:
        X: the probe batch of inputs (kept fixed, so records are comparable).
        y: its targets.
        every_n_batches: record every this many training steps; a record is
            also taken before the first step.
    """

    def __init__(self, X, y, every_n_batches: int = 50):
        super().__init__()
        if every_n_batches < 1:
            raise ValueError(
                f"`every_n_batches` must be at least 1. Received: {every_n_batches}"
            )
        self.X = np.asarray(X, dtype=np.float32)
        self.y = np.asarray(y)
        self.every_n_batches = int(every_n_batches)
        self.steps: list[int] = []
        self.layer_names: list[str] = []
        self._stds: list[list[float]] = []
        self._saturated: list[list[float]] = []
        self._norms: list[list[float]] = []
        self._step = 0

    def _record(self) -> None:
        stats = activation_stats(self.model, self.X)
        norms = gradient_norms(self.model, self.X, self.y, loss=self.model.loss)
        self.layer_names = [s.name for s in stats]
        self.steps.append(self._step)
        self._stds.append([s.std for s in stats])
        self._saturated.append([s.saturated for s in stats])
        self._norms.append(list(norms.values()))

    def on_train_begin(self, logs=None):
        if not self.steps:
            self._record()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every_n_batches == 0:
            self._record()

    @property
    def activation_std(self) -> np.ndarray:
        return np.array(self._stds)

    @property
    def saturated(self) -> np.ndarray:
        return np.array(self._saturated)

    @property
    def gradient_norm(self) -> np.ndarray:
        return np.array(self._norms)


def plot_layer_stats(runs: Mapping[str, Sequence[LayerStats]],
                     axes: Sequence[plt.Axes] | None = None) -> np.ndarray:
    """Plots mean, std and saturated fraction per layer, one line per run.

    Args:
        runs: run label -> the output of :func:`activation_stats`.
        axes: three axes to draw on; new ones by default.

    Returns:
        The three axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    axes = np.asarray(axes).ravel()
    for label, stats in runs.items():
        depth = np.arange(1, len(stats) + 1)
        axes[0].plot(depth, [s.mean for s in stats], marker=".", label=label)
        axes[1].plot(depth, [s.std for s in stats], marker=".", label=label)
        axes[2].plot(depth, [100 * s.saturated for s in stats], marker=".", label=label)
    for ax, title in zip(axes, ("mean activation", "std of activations",
                                "% saturated units")):
        ax.set_xlabel("layer")
        ax.set_title(title)
    axes[2].set_ylim(-2, 102)
    axes[0].legend(fontsize="small")
    return axes


def plot_gradient_norms(runs: Mapping[str, Mapping[str, float]],
                        ax: plt.Axes | None = None) -> plt.Axes:
    """Plots each layer's kernel-gradient norm on a log scale, one line per run.

    Args:
        runs: run label -> the output of :func:`gradient_norms`.
        ax: the axes to draw on; a new one by default.

    Returns:
        The axes.
    """
    if ax is None:
        _, ax = plt.subplots()
    for label, norms in runs.items():
        values = np.maximum(np.array(list(norms.values()), dtype=float), 1e-30)
        ax.semilogy(np.arange(1, len(values) + 1), values, marker=".", label=label)
    ax.set_xlabel("layer")
    ax.set_ylabel("‖∂L/∂W‖")
    ax.legend(fontsize="small")
    return ax
