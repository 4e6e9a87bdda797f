"""Checks used by the exercises' test cells, with messages a student can act on.

Each check compares a student's value with a reference and, on failure,
raises ``AssertionError`` saying what was expected, what was received and,
where given, a hint. Test cells import this module themselves::

    from course_utils.checks import check_array, check_scalar, check_type
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["check_type", "check_array", "check_scalar", "check_in_range"]


def _fail(name: str, expected: str, received: str, hint: str | None) -> None:
    message = f"`{name}`: expected {expected}, received {received}."
    if hint:
        message += f" Hint: {hint}"
    raise AssertionError(message)


def check_type(name: str, value: Any, expected_type: type | tuple[type, ...],
               hint: str | None = None) -> None:
    """Checks ``isinstance(value, expected_type)``.

    Raises:
        AssertionError: naming the expected and received types.
    """
    if not isinstance(value, expected_type):
        names = (expected_type.__name__ if isinstance(expected_type, type)
                 else " or ".join(t.__name__ for t in expected_type))
        _fail(name, f"a {names}", f"a {type(value).__name__} ({value!r:.80})", hint)


def check_array(name: str, value: Any, expected: Any, *, rtol: float = 1e-6,
                atol: float = 0.0, hint: str | None = None) -> None:
    """Checks that ``value`` is an array-like of ``expected``'s shape and values.

    Tensors and lists are converted with ``np.asarray``; the shape must match
    exactly and the values to ``|value - expected| <= atol + rtol * |expected|``.

    Raises:
        AssertionError: with the shapes, or the worst mismatch and its index.
    """
    expected = np.asarray(expected, dtype=float)
    if value is None or isinstance(value, (str, bytes, dict)):
        _fail(name, f"an array of shape {expected.shape}",
              f"a {type(value).__name__} that is not numeric", hint)
    try:
        received = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(name, f"an array of shape {expected.shape}",
              f"a {type(value).__name__} that is not numeric", hint)
    if received.shape != expected.shape:
        _fail(name, f"shape {expected.shape}", f"shape {received.shape}", hint)
    if not np.all(np.isfinite(received) == np.isfinite(expected)):
        bad = np.argwhere(np.isfinite(received) != np.isfinite(expected))[0]
        _fail(name, f"{expected[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}",
              f"{received[tuple(bad)]!r}", hint)
    finite = np.isfinite(expected)
    with np.errstate(invalid="ignore"):
        error = np.abs(received - expected)
    allowed = atol + rtol * np.abs(expected)
    too_far = finite & ~(error <= allowed)
    if np.any(too_far):
        worst = np.unravel_index(np.argmax(np.where(too_far, error - allowed, -np.inf)),
                                 expected.shape)
        index = tuple(int(i) for i in worst)
        _fail(name,
              f"{expected[worst]:.6g} at index {index} (within rtol={rtol:g}, atol={atol:g})",
              f"{received[worst]:.6g} ({int(too_far.sum())} of {expected.size} values differ)",
              hint)


def check_scalar(name: str, value: Any, expected: float, *, rtol: float = 1e-6,
                 atol: float = 0.0, hint: str | None = None) -> None:
    """Checks that ``value`` is a real number close to ``expected``.

    Raises:
        AssertionError: with both numbers and the tolerance.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) and not (
            isinstance(value, np.ndarray) and value.shape == ()):
        _fail(name, "a number", f"a {type(value).__name__} ({value!r:.80})", hint)
    value = float(value)
    if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        _fail(name, f"{expected:.6g} (within rtol={rtol:g}, atol={atol:g})",
              f"{value:.6g}", hint)


def check_in_range(name: str, value: Any, low: float, high: float,
                   hint: str | None = None) -> None:
    """Checks that ``value`` is a number with ``low <= value <= high``.

    Raises:
        AssertionError: with the range and the value.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        _fail(name, f"a number between {low:g} and {high:g}",
              f"a {type(value).__name__} ({value!r:.80})", hint)
    if not low <= float(value) <= high:
        _fail(name, f"a value between {low:g} and {high:g}", f"{float(value):.6g}", hint)
