"""Activation functions in NumPy: references, derivatives and numerical tools.

Every function takes an array-like ``z`` of pre-activations and returns a new
float64 array; none modifies its input. The derivatives are the analytic
ones, so they can be checked against :func:`numerical_derivative` and against
Keras' own implementations (``keras.activations``). At a kink (``z = 0`` for
the rectifiers) the derivative returned is the left one, as TensorFlow does.

The numerical tools that check claims about these functions (minima,
monotonicity, smoothness, SELU's constants) are in
:mod:`course_utils.ch03_activations.activation_analysis`.

The Keras layers that Keras lacks (Mish, a learnable Swish, RReLU) and the
dead-unit counter are in :mod:`course_utils.ch03_activations.activation_layers`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_utils.core.numerics import SELU_ALPHA, SELU_SCALE
from course_utils.core.validation import as_float_array

__all__ = [
    "relu",
    "relu_derivative",
    "leaky_relu",
    "leaky_relu_derivative",
    "rrelu",
    "elu",
    "elu_derivative",
    "selu",
    "selu_derivative",
    "gelu",
    "gelu_derivative",
    "swish",
    "swish_derivative",
    "mish",
    "mish_derivative",
    "REFERENCE_ACTIVATIONS",
]

_GELU_APPROXIMATIONS = ("none", "tanh", "sigmoid")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_C = 0.044715
_GELU_SIGMOID_C = 1.702
_erf = np.frompyfunc(math.erf, 1, 1)


# --------------------------------------------------------------------------
# input checks and small building blocks


def _check_non_negative(name: str, value) -> np.ndarray:
    array = as_float_array(name, value)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"Expected `{name}` >= 0 and finite. Received: {name}={value!r}")
    return array


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # 0.5 (1 + tanh(z / 2)) equals 1 / (1 + exp(-z)) and never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.asarray(_erf(z / math.sqrt(2.0)), dtype=np.float64))


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------
# rectifiers


def relu(z) -> np.ndarray:
    """ReLU: ``max(0, z)``."""
    z = as_float_array("z", z)
    return np.maximum(z, 0.0)


def relu_derivative(z) -> np.ndarray:
    """ReLU's derivative: 1 for ``z > 0``, else 0."""
    z = as_float_array("z", z)
    return (z > 0).astype(np.float64)


def leaky_relu(z, alpha=0.01) -> np.ndarray:
    """Leaky ReLU: ``z`` for ``z > 0``, else ``alpha * z``.

    ``alpha`` may be an array that broadcasts against ``z`` (one slope per
    unit along the last axis): that is PReLU with its learned slopes.

    Raises:
        ValueError: if ``alpha`` is negative.
    """
    z, alpha = as_float_array("z", z), _check_non_negative("alpha", alpha)
    return np.where(z > 0, z, alpha * z)


def leaky_relu_derivative(z, alpha=0.01) -> np.ndarray:
    """Leaky ReLU's derivative: 1 for ``z > 0``, else ``alpha``."""
    z, alpha = as_float_array("z", z), _check_non_negative("alpha", alpha)
    return np.where(z > 0, 1.0, alpha * np.ones_like(z))


def rrelu(z, lower: float = 1 / 8, upper: float = 1 / 3, *, training: bool = False,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """Randomized leaky ReLU (Xu et al., 2015).

    In training every negative entry gets its own slope drawn uniformly from
    ``[lower, upper]``; at inference the slope is the mean, ``(lower + upper) / 2``.

    Args:
        z: pre-activations.
        lower, upper: the range of the random slopes, ``0 <= lower <= upper``.
        training: draw random slopes (True) or use the mean slope (False).
        rng: NumPy generator for the slopes; a fresh unseeded one by default.

    Raises:
        ValueError: if the slope range is invalid.
    """
    z = as_float_array("z", z)
    if not (0 <= lower <= upper < math.inf):
        raise ValueError(
            "Expected 0 <= lower <= upper for the RReLU slopes. "
            f"Received: lower={lower!r}, upper={upper!r}"
        )
    if training:
        rng = np.random.default_rng() if rng is None else rng
        slope = rng.uniform(lower, upper, size=z.shape)
    else:
        slope = 0.5 * (lower + upper)
    return np.where(z >= 0, z, slope * z)


# --------------------------------------------------------------------------
# exponential units


def elu(z, alpha: float = 1.0) -> np.ndarray:
    """ELU (Clevert et al., 2016): ``z`` for ``z > 0``, else ``alpha (e^z - 1)``."""
    z, alpha = as_float_array("z", z), _check_non_negative("alpha", alpha)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_derivative(z, alpha: float = 1.0) -> np.ndarray:
    """ELU's derivative: 1 for ``z > 0``, else ``alpha e^z``."""
    z, alpha = as_float_array("z", z), _check_non_negative("alpha", alpha)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def selu(z, alpha: float = SELU_ALPHA, scale: float = SELU_SCALE) -> np.ndarray:
    """SELU (Klambauer et al., 2017): ``scale * elu(z, alpha)``."""
    return _check_non_negative("scale", scale) * elu(z, alpha)


def selu_derivative(z, alpha: float = SELU_ALPHA, scale: float = SELU_SCALE) -> np.ndarray:
    """SELU's derivative: ``scale`` for ``z > 0``, else ``scale * alpha * e^z``."""
    return _check_non_negative("scale", scale) * elu_derivative(z, alpha)


# --------------------------------------------------------------------------
# smooth, non-monotonic units


def _check_approximation(approximation: str) -> None:
    if approximation not in _GELU_APPROXIMATIONS:
        raise ValueError(
            f"Expected `approximation` to be one of {_GELU_APPROXIMATIONS}. "
            f"Received: approximation={approximation!r}"
        )


def gelu(z, approximation: str = "none") -> np.ndarray:
    """GELU (Hendrycks and Gimpel, 2016): ``z * Phi(z)``.

    Args:
        z: pre-activations.
        approximation: ``"none"`` for the exact ``z * Phi(z)`` (Phi is the
            standard normal CDF), ``"tanh"`` for
            ``0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))`` (Keras'
            ``approximate=True``), ``"sigmoid"`` for ``z * sigmoid(1.702 z)``.

    Raises:
        ValueError: for an unknown approximation.
    """
    _check_approximation(approximation)
    z = as_float_array("z", z)
    if approximation == "none":
        return z * _normal_cdf(z)
    if approximation == "tanh":
        return 0.5 * z * (1.0 + np.tanh(_SQRT_2_OVER_PI * (z + _GELU_TANH_C * z**3)))
    return z * _sigmoid(_GELU_SIGMOID_C * z)


def gelu_derivative(z, approximation: str = "none") -> np.ndarray:
    """The derivative of :func:`gelu` with the same ``approximation``."""
    _check_approximation(approximation)
    z = as_float_array("z", z)
    if approximation == "none":
        return _normal_cdf(z) + z * _normal_pdf(z)
    if approximation == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (z + _GELU_TANH_C * z**3))
        dt = (1.0 - t**2) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_C * z**2)
        return 0.5 * (1.0 + t) + 0.5 * z * dt
    return swish_derivative(z, beta=_GELU_SIGMOID_C)


def swish(z, beta: float = 1.0) -> np.ndarray:
    """Swish (Ramachandran et al., 2017): ``z * sigmoid(beta z)``.

    ``beta = 1`` is the SiLU (Elfwing et al., 2018); ``beta = 1.702`` is the
    sigmoid approximation of GELU.
    """
    z, beta = as_float_array("z", z), as_float_array("beta", beta)
    return z * _sigmoid(beta * z)


def swish_derivative(z, beta: float = 1.0) -> np.ndarray:
    """Swish's derivative: ``s + beta z s (1 - s)`` with ``s = sigmoid(beta z)``."""
    z, beta = as_float_array("z", z), as_float_array("beta", beta)
    s = _sigmoid(beta * z)
    return s + beta * z * s * (1.0 - s)


def mish(z) -> np.ndarray:
    """Mish (Misra, 2020): ``z * tanh(softplus(z))``."""
    z = as_float_array("z", z)
    return z * np.tanh(_softplus(z))


def mish_derivative(z) -> np.ndarray:
    """Mish's derivative: ``t + z (1 - t^2) sigmoid(z)`` with ``t = tanh(softplus(z))``."""
    z = as_float_array("z", z)
    t = np.tanh(_softplus(z))
    return t + z * (1.0 - t**2) * _sigmoid(z)


def _named(f, **params):
    return lambda z: f(z, **params)


#: Name -> (function, derivative) with the usual default parameters.
REFERENCE_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "elu": (elu, elu_derivative),
    "selu": (selu, selu_derivative),
    "gelu": (gelu, gelu_derivative),
    "gelu_tanh": (_named(gelu, approximation="tanh"),
                  _named(gelu_derivative, approximation="tanh")),
    "gelu_sigmoid": (_named(gelu, approximation="sigmoid"),
                     _named(gelu_derivative, approximation="sigmoid")),
    "swish": (swish, swish_derivative),
    "mish": (mish, mish_derivative),
}
