"""The signal-propagation experiment of the initialization chapter.

A deep stack of random fully connected layers, in NumPy: standardized inputs
go through ``depth`` layers ``a = f(W a)`` whose weights are drawn with the
variance of an initialization scheme (or a fixed standard deviation), and the
standard deviation of every layer's activations is recorded. The backward
pass (:func:`propagate_signal`) sends a random gradient back through the same
layers and records the standard deviation of the gradient that reaches each
layer's pre-activations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np

from course_utils.ch02_initialization.initializers import scheme_variance
from course_utils.core.numerics import SELU_ALPHA, SELU_SCALE
from course_utils.core.validation import check_integer

__all__ = ["PROPAGATION_ACTIVATIONS", "PROPAGATION_DERIVATIVES", "Propagation",
           "propagate_std", "propagate_signal", "plot_propagation"]


def _elu(z: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


#: Activation name -> NumPy function, for :func:`propagate_std`.
PROPAGATION_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(z / 2.0)),
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "elu": _elu,
    "selu": lambda z: SELU_SCALE * _elu(z, SELU_ALPHA),
}

#: Activation name -> its derivative, for the backward pass of :func:`propagate_signal`.
PROPAGATION_DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": np.ones_like,
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "sigmoid": lambda z: 0.25 * (1.0 - np.tanh(z / 2.0) ** 2),
    "relu": lambda z: (z > 0).astype(float),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.2),
    "elu": lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA
                                             * np.exp(np.minimum(z, 0.0))),
}


@dataclasses.dataclass(frozen=True)
class Propagation:
    """Forward and backward standard deviations, layer by layer.

    Attributes:
        forward: std of the activations of layers 1, ..., depth.
        backward: std of the gradient with respect to the pre-activations
            of layers 1, ..., depth (the gradient enters at the top layer).
    """

    forward: np.ndarray
    backward: np.ndarray


def propagate_std(
    activation: str,
    init: str | float,
    *,
    depth: int = 50,
    width: int = 300,
    n_samples: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Standard deviation of each layer's activations in a random deep net.

    The inputs are ``n_samples`` standard normal vectors of size ``width``;
    every layer is ``a <- f(a @ W)`` with a ``(width, width)`` kernel ``W`` of
    independent normal weights and no bias.

    Args:
        activation: a key of :data:`PROPAGATION_ACTIVATIONS`.
        init: ``"glorot"``, ``"he"`` or ``"lecun"`` (weights with that scheme's
            variance), or a positive number: the weights' standard deviation
            (``1.0`` for N(0, 1)).
        depth: number of layers.
        width: units per layer (and input size).
        n_samples: number of input vectors.
        seed: seed of the NumPy generator (inputs and weights).

    Returns:
        A float64 array of shape ``(depth,)``: the std of all activations of
        layer 1, ..., ``depth`` (``inf`` once a layer overflows).

    Raises:
        ValueError: for an unknown activation or scheme, a non-positive
            standard deviation, or a size smaller than 1.
    """
    return _propagate(activation, init, depth, width, n_samples, seed, backward=False).forward


def propagate_signal(
    activation: str,
    init: str | float,
    *,
    depth: int = 50,
    width: int = 300,
    n_samples: int = 1000,
    seed: int = 0,
) -> Propagation:
    """Forward and backward standard deviations per layer in a random deep net.

    The forward pass is exactly that of :func:`propagate_std` (same seed, same
    inputs and weights, same ``forward`` array). Then a gradient of
    independent standard normal entries, drawn from the same generator, is
    taken as the gradient of the loss with respect to the last layer's
    activations and sent back: ``delta_l = g_l * f'(z_l)`` and
    ``g_{l-1} = delta_l @ W_l.T``, where ``z_l = a_{l-1} @ W_l``. The std of
    ``delta_l``, the gradient that reaches layer ``l``'s pre-activations, is
    recorded for every layer.

    Args:
        activation, init, depth, width, n_samples, seed: as for
            :func:`propagate_std`.

    Returns:
        A :class:`Propagation` of two float64 arrays of shape ``(depth,)``
        (``inf`` where a pass overflows).

    Raises:
        ValueError: as for :func:`propagate_std`.
    """
    return _propagate(activation, init, depth, width, n_samples, seed, backward=True)


def _propagate(activation, init, depth, width, n_samples, seed, *, backward: bool) -> Propagation:
    if activation not in PROPAGATION_ACTIVATIONS:
        raise ValueError(f"Expected an activation, one of {sorted(PROPAGATION_ACTIVATIONS)}. "
                         f"Received: activation={activation!r}")
    depth, width, n_samples = (check_integer(name, value, 1) for name, value in
                               (("depth", depth), ("width", width), ("n_samples", n_samples)))
    if isinstance(init, str):
        std = math.sqrt(scheme_variance(init, (width, width)))
    elif isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        std = float(init)
    else:
        raise ValueError("Expected init to be 'glorot', 'he', 'lecun' or a positive weight "
                         f"standard deviation. Received: init={init!r}")
    f = PROPAGATION_ACTIVATIONS[activation]
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n_samples, width))
    stds = np.empty(depth)
    kernels, pre_activations = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(depth):
            W = rng.normal(0.0, std, size=(width, width))
            z = a @ W
            a = f(z)
            stds[layer] = a.std() if np.all(np.isfinite(a)) else np.inf
            if backward:
                kernels.append(W)
                pre_activations.append(z)
        grad_stds = np.full(depth, np.nan)
        if backward:
            derivative = PROPAGATION_DERIVATIVES[activation]
            g = rng.standard_normal((n_samples, width))
            for layer in reversed(range(depth)):
                delta = g * derivative(pre_activations[layer])
                grad_stds[layer] = delta.std() if np.all(np.isfinite(delta)) else np.inf
                g = delta @ kernels[layer].T
    return Propagation(stds, grad_stds)


def plot_propagation(
    stds: Mapping[str, np.ndarray],
    ax: plt.Axes | None = None,
    title: str | None = None,
    ylabel: str = "std of activations",
) -> plt.Axes:
    """Plots a std per layer (log scale), one line per entry.

    Args:
        stds: label -> array from :func:`propagate_std` (or either array of
            a :class:`Propagation`).
        ax: axes to draw on; a new figure if ``None``.
        title: optional title.
        ylabel: the y-axis label.

    Returns:
        The axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.4))
    for label, values in stds.items():
        values = np.asarray(values, dtype=float)
        ax.semilogy(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
