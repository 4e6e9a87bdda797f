"""Numerical tools that check what is claimed about activation functions.

They answer the questions chapter 3 asks: where a function has its minimum
(:func:`minimize_scalar`), whether it is monotonic (:func:`is_monotonic`),
whether its derivative jumps at a point (:func:`derivative_jump`), the
expectation of a function of a Gaussian variable (:func:`gaussian_expectation`),
and which SELU constants make mean 0 and variance 1 a fixed point
(:func:`solve_selu_parameters`). Only NumPy is used (SciPy is not a
dependency of the course): golden-section search, Gauss-Legendre quadrature
and Newton's method, each a few lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_utils.ch03_activations.activations import elu, selu
from course_utils.core.numerics import SELU_ALPHA, SELU_SCALE
from course_utils.core.validation import as_float_array

__all__ = [
    "numerical_derivative",
    "derivative_jump",
    "is_monotonic",
    "minimize_scalar",
    "gaussian_expectation",
    "selu_moments",
    "solve_selu_parameters",
]


def numerical_derivative(f: Callable, z, h: float = 1e-5) -> np.ndarray:
    """Central finite difference ``(f(z + h) - f(z - h)) / (2 h)``.

    Its error is of order ``h**2`` where ``f`` is smooth; at a kink it
    returns the average of the two one-sided slopes.
    """
    if not h > 0:
        raise ValueError(f"Expected a step `h` > 0. Received: h={h!r}")
    z = as_float_array("z", z)
    return (np.asarray(f(z + h), dtype=np.float64)
            - np.asarray(f(z - h), dtype=np.float64)) / (2.0 * h)


def derivative_jump(f: Callable, z0: float = 0.0, order: int = 1, h: float | None = None
                    ) -> float:
    """How much the ``order``-th derivative of ``f`` jumps at ``z0``.

    Compares one-sided finite differences from the right and from the left
    (second-order accurate), so the result is about 0 where the derivative is
    continuous and the size of the jump where it is not.

    Args:
        f: a function of a NumPy array.
        z0: the point to test.
        order: 1 (slope) or 2 (curvature).
        h: step; 1e-5 for order 1 and 1e-3 for order 2 by default.

    Returns:
        ``right - left``, the jump of the derivative.
    """
    if order not in (1, 2):
        raise ValueError(f"Expected `order` to be 1 or 2. Received: order={order!r}")
    h = (1e-5 if order == 1 else 1e-3) if h is None else h
    if not h > 0:
        raise ValueError(f"Expected a step `h` > 0. Received: h={h!r}")

    def one_sided(sign):
        values = np.asarray(f(z0 + sign * h * np.arange(4.0)), dtype=np.float64)
        f0, f1, f2, f3 = values
        if order == 1:
            return sign * (-3 * f0 + 4 * f1 - f2) / (2 * h)
        return (2 * f0 - 5 * f1 + 4 * f2 - f3) / h**2

    return float(one_sided(+1) - one_sided(-1))


def is_monotonic(f: Callable, low: float = -10.0, high: float = 10.0, n: int = 200_001,
                 tol: float = 1e-12) -> bool:
    """Whether ``f`` never decreases on a grid of ``n`` points in ``[low, high]``."""
    if not (low < high and n >= 2):
        raise ValueError(
            f"Expected low < high and n >= 2. Received: low={low}, high={high}, n={n}"
        )
    values = np.asarray(f(np.linspace(low, high, n)), dtype=np.float64)
    return bool(np.all(np.diff(values) >= -tol))


def minimize_scalar(f: Callable, low: float, high: float, tol: float = 1e-10,
                    max_iter: int = 500) -> tuple[float, float]:
    """Golden-section search for the minimum of a unimodal ``f`` on ``[low, high]``.

    Returns:
        ``(z_min, f(z_min))``.

    Raises:
        ValueError: if the interval is empty.
    """
    if not low < high:
        raise ValueError(f"Expected low < high. Received: low={low}, high={high}")
    ratio = (math.sqrt(5.0) - 1.0) / 2.0

    def g(z):
        return float(np.asarray(f(np.array(z, dtype=np.float64))))

    a, b = float(low), float(high)
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = g(c), g(d)
    for _ in range(max_iter):
        if b - a <= tol:
            break
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = g(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = g(d)
    z_min = 0.5 * (a + b)
    return z_min, g(z_min)


def gaussian_expectation(f: Callable, mean: float = 0.0, std: float = 1.0,
                         n_points: int = 200, limit: float = 12.0) -> float:
    """``E[f(Z)]`` for ``Z ~ N(mean, std**2)``, by Gauss-Legendre quadrature.

    The integral is split at ``z = 0``, where the rectifiers have their kink,
    so that each piece is smooth and the quadrature converges to machine
    precision; the tails beyond ``limit`` standard deviations are dropped.
    """
    if not std > 0:
        raise ValueError(f"Expected `std` > 0. Received: std={std!r}")
    nodes, weights = np.polynomial.legendre.leggauss(n_points)
    low, high = mean - limit * std, mean + limit * std
    pieces = [(low, 0.0), (0.0, high)] if low < 0.0 < high else [(low, high)]
    total = 0.0
    for a, b in pieces:
        z = 0.5 * (b - a) * nodes + 0.5 * (a + b)
        density = np.exp(-0.5 * ((z - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
        total += 0.5 * (b - a) * float(np.sum(weights * np.asarray(f(z)) * density))
    return total


def selu_moments(alpha: float = SELU_ALPHA, scale: float = SELU_SCALE,
                 mean: float = 0.0, std: float = 1.0) -> tuple[float, float]:
    """Mean and variance of ``selu(Z, alpha, scale)`` for ``Z ~ N(mean, std**2)``."""
    m1 = gaussian_expectation(lambda z: selu(z, alpha, scale), mean, std)
    m2 = gaussian_expectation(lambda z: selu(z, alpha, scale) ** 2, mean, std)
    return m1, m2 - m1**2


def solve_selu_parameters(tol: float = 1e-14, max_iter: int = 50) -> tuple[float, float]:
    """Solves SELU's fixed-point conditions for ``alpha`` and ``scale``.

    For a standard normal input ``Z`` the output of ``scale * elu(Z, alpha)``
    must have mean 0 and second moment 1 (so variance 1). Newton's method
    solves these two equations, with a Jacobian computed by quadrature.

    Returns:
        ``(alpha, scale)``, about ``(1.6733, 1.0507)``.

    Raises:
        RuntimeError: if Newton's method does not converge.
    """
    E = gaussian_expectation
    x = np.array([1.0, 1.0])  # (alpha, scale)
    neg = lambda z: np.where(z > 0, 0.0, np.expm1(np.minimum(z, 0.0)))  # noqa: E731
    for _ in range(max_iter):
        alpha, scale = x
        e1 = E(lambda z, alpha=alpha: elu(z, alpha))
        e2 = E(lambda z, alpha=alpha: elu(z, alpha) ** 2)
        residual = np.array([scale * e1, scale**2 * e2 - 1.0])
        jacobian = np.array([
            [scale * E(neg), e1],
            [2 * scale**2 * E(lambda z, alpha=alpha: elu(z, alpha) * neg(z)), 2 * scale * e2],
        ])
        step = np.linalg.solve(jacobian, residual)
        x = x - step
        if np.max(np.abs(step)) < tol:
            return float(x[0]), float(x[1])
    raise RuntimeError(f"Newton's method did not converge in {max_iter} steps: x={x}")
