"""Weight initialization: fans, the variance rules of the named schemes, symmetry.

Glorot and Bengio (2010), He et al. (2015) and LeCun et al. (1998) all pick
the variance of a layer's weights from the layer's *fans*: ``scale / fan``
with ``fan`` one of fan-in, fan-out or their average. In Keras every such rule
is a ``keras.initializers.VarianceScaling(scale, mode, distribution)``; the
helpers here compute the same numbers with plain Python so that a page or a
test can compare them with what Keras samples.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = [
    "Fans",
    "kernel_fans",
    "INIT_SCHEMES",
    "ACTIVATION_SCHEMES",
    "TRUNCATED_NORMAL_STD",
    "scheme_variance",
    "scheme_std",
    "uniform_limit",
    "truncated_normal_stddev",
    "scheme_for_activation",
    "variance_scaling",
    "distinct_units",
]

#: Scheme name -> ``(scale, mode)`` of the equivalent ``VarianceScaling``.
INIT_SCHEMES: dict[str, tuple[float, str]] = {
    "glorot": (1.0, "fan_avg"),
    "he": (2.0, "fan_in"),
    "lecun": (1.0, "fan_in"),
}

#: Scheme name -> the activations it is derived for (names as Keras spells them;
#: ``"linear"`` stands for no activation).
ACTIVATION_SCHEMES: dict[str, tuple[str, ...]] = {
    "glorot": ("linear", "tanh", "sigmoid", "softmax"),
    "he": ("relu", "leaky_relu", "relu6", "prelu", "rrelu", "elu", "gelu", "swish",
           "silu", "mish"),
    "lecun": ("selu",),
}


def _truncated_standard_normal_std(bound: float = 2.0) -> float:
    """Std of N(0, 1) restricted to ``[-bound, bound]`` (closed form)."""
    density = math.exp(-bound * bound / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(bound / math.sqrt(2))  # P(|Z| <= bound)
    return math.sqrt(1.0 - 2.0 * bound * density / mass)


#: Standard deviation of a standard normal truncated at two standard deviations,
#: 0.8796... Keras' truncated-normal initializers divide their ``stddev`` by it
#: so that the values they return have the variance the rule asks for.
TRUNCATED_NORMAL_STD: float = _truncated_standard_normal_std(2.0)

_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class Fans(NamedTuple):
    """The fans of a kernel.

    Attributes:
        fan_in: number of inputs each output unit sums (receptive field times
            input channels for a convolution).
        fan_out: number of outputs each input feeds (receptive field times
            filters for a convolution).
        receptive_field: product of the spatial kernel dimensions (1 for Dense).
    """

    fan_in: int
    fan_out: int
    receptive_field: int

    @property
    def fan_avg(self) -> float:
        """The average ``(fan_in + fan_out) / 2`` used by Glorot's rule."""
        return (self.fan_in + self.fan_out) / 2


def kernel_fans(shape: Sequence[int]) -> Fans:
    """Computes the fans of a Dense or convolution kernel shape.

    A Dense kernel has shape ``(n_inputs, units)``; a convolution kernel
    ``(*kernel_size, in_channels, filters)``. With ``r`` the product of the
    spatial sizes, ``fan_in = r * in_channels`` and ``fan_out = r * filters``,
    as in ``keras.initializers.VarianceScaling``.

    Args:
        shape: a sequence of at least two positive integers.

    Returns:
        A :class:`Fans` tuple ``(fan_in, fan_out, receptive_field)``.

    Raises:
        ValueError: if ``shape`` is not a sequence of at least two positive
            integers.
    """
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(
            "Expected a kernel shape: a sequence of at least 2 positive integers, e.g. "
            f"(784, 300) or (3, 3, 64, 128). Received: shape={shape!r}") from None
    if len(dims) < 2 or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                                and d > 0 for d in dims):
        raise ValueError(
            "Expected a kernel shape: a sequence of at least 2 positive integers, e.g. "
            f"(784, 300) or (3, 3, 64, 128). Received: shape={shape!r}")
    receptive_field = math.prod(int(d) for d in dims[:-2])
    return Fans(int(dims[-2]) * receptive_field, int(dims[-1]) * receptive_field,
                receptive_field)


def _scheme_name(scheme: str) -> str:
    """Maps ``"he"``, ``"he_normal"``, ``"HeUniform"``... to ``"he"``."""
    if isinstance(scheme, str):
        key = scheme.lower().replace("_", "")
        for name in INIT_SCHEMES:
            if key in (name, name + "normal", name + "uniform"):
                return name
    raise ValueError(
        f"Expected an initialization scheme, one of {sorted(INIT_SCHEMES)} (or a Keras "
        f"name such as 'he_normal' or 'glorot_uniform'). Received: scheme={scheme!r}")


def scheme_variance(scheme: str, shape: Sequence[int]) -> float:
    """The weight variance a scheme prescribes for a kernel shape.

    Glorot: ``1 / fan_avg``; He: ``2 / fan_in``; LeCun: ``1 / fan_in``. The
    same for the normal and the uniform variants (``"he_normal"`` and
    ``"he_uniform"`` give the same variance).

    Args:
        scheme: ``"glorot"``, ``"he"`` or ``"lecun"``, or a Keras initializer
            name such as ``"glorot_uniform"``.
        shape: the kernel shape (see :func:`kernel_fans`).

    Returns:
        The variance, a Python float.

    Raises:
        ValueError: for an unknown scheme or a bad shape.
    """
    scale, mode = INIT_SCHEMES[_scheme_name(scheme)]
    fans = kernel_fans(shape)
    fan = {"fan_in": fans.fan_in, "fan_out": fans.fan_out, "fan_avg": fans.fan_avg}[mode]
    return float(scale / max(1.0, fan))


def scheme_std(scheme: str, shape: Sequence[int]) -> float:
    """Standard deviation of the weights, ``sqrt(scheme_variance(scheme, shape))``."""
    return math.sqrt(scheme_variance(scheme, shape))


def uniform_limit(scheme: str, shape: Sequence[int]) -> float:
    """Limit ``r`` of the uniform variant: ``U(-r, r)`` has variance ``r**2 / 3``.

    So ``r = sqrt(3 * variance)``, e.g. ``sqrt(6 / (fan_in + fan_out))`` for
    Glorot.
    """
    return math.sqrt(3.0 * scheme_variance(scheme, shape))


def truncated_normal_stddev(scheme: str, shape: Sequence[int]) -> float:
    """The ``stddev`` Keras passes to its truncated normal for a scheme.

    Keras draws from a normal with this ``stddev``, redrawing values beyond
    two ``stddev``; the result has standard deviation ``scheme_std``. So this
    is ``scheme_std(scheme, shape) / TRUNCATED_NORMAL_STD``.
    """
    return scheme_std(scheme, shape) / TRUNCATED_NORMAL_STD


def scheme_for_activation(activation: str | None) -> str:
    """The initialization scheme derived for an activation function.

    Args:
        activation: a Keras activation name (``"relu"``, ``"selu"``, ...), or
            ``None`` / ``"linear"`` for no activation.

    Returns:
        ``"glorot"``, ``"he"`` or ``"lecun"``.

    Raises:
        ValueError: for an activation not in :data:`ACTIVATION_SCHEMES`.
    """
    name = "linear" if activation is None else activation
    if isinstance(name, str):
        for scheme, activations in ACTIVATION_SCHEMES.items():
            if name.lower() in activations:
                return scheme
    known = sorted(a for acts in ACTIVATION_SCHEMES.values() for a in acts)
    raise ValueError(f"Expected an activation name, one of {known} or None. "
                     f"Received: activation={activation!r}")


def variance_scaling(scheme: str, distribution: str = "truncated_normal",
                     seed: int | None = None):
    """The ``keras.initializers.VarianceScaling`` equivalent to a scheme.

    Args:
        scheme: ``"glorot"``, ``"he"`` or ``"lecun"`` (or a Keras name).
        distribution: ``"truncated_normal"`` (what ``"he_normal"`` & co. use),
            ``"untruncated_normal"`` or ``"uniform"``.
        seed: optional seed, passed to Keras.

    Returns:
        A new ``VarianceScaling`` initializer.

    Raises:
        ValueError: for an unknown scheme or distribution.
    """
    import keras

    name = _scheme_name(scheme)
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"Expected a distribution, one of {list(_DISTRIBUTIONS)}. "
                         f"Received: distribution={distribution!r}")
    scale, mode = INIT_SCHEMES[name]
    return keras.initializers.VarianceScaling(scale=scale, mode=mode,
                                              distribution=distribution, seed=seed)


def distinct_units(kernel, atol: float = 1e-6) -> int:
    """Counts the distinct units (columns) of a Dense kernel.

    Two units are the same when their incoming weights differ by at most
    ``atol`` everywhere. A layer initialized with a constant starts with one
    distinct unit, and gradient descent cannot separate them.

    Args:
        kernel: a 2D array ``(n_inputs, units)`` (NumPy, tensor or variable).
        atol: tolerance for calling two columns equal.

    Returns:
        The number of distinct columns, a Python int.

    Raises:
        ValueError: if ``kernel`` is not 2D or ``atol`` is negative.
    """
    columns = np.array(np.asarray(kernel), dtype=np.float64).T  # a copy, one row per unit
    if columns.ndim != 2 or 0 in columns.shape:
        raise ValueError("Expected a non-empty 2D Dense kernel (n_inputs, units). "
                         f"Received: shape={np.shape(kernel)}")
    if not atol >= 0:
        raise ValueError(f"Expected atol >= 0. Received: atol={atol!r}")
    representatives: list[np.ndarray] = []
    for column in columns:
        if not any(np.max(np.abs(column - r)) <= atol for r in representatives):
            representatives.append(column)
    return len(representatives)
