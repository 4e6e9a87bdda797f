"""Checks used by the exercises' test cells, with messages a student can act on.

Each check compares a student's value with a reference and, on failure,
raises ``AssertionError`` saying what was expected, what was received, how far
apart they are and which tolerance was used. Numbers are printed with as many
digits as it takes for the two to differ (``expected 0.6, received
0.6000001``), never rounded into looking equal.

Hints: the ``hint`` a test cell passes describes the *values* (or, for
:func:`check_type`, the type) and is shown only for that kind of failure. A
value that is not a number at all, or an array of the wrong shape, gets a hint
written for what was actually received instead (``shape_hint`` replaces it for
shapes). Test cells import this module themselves::

    from course_utils.checks import check_array, check_scalar, check_type
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["check_type", "check_array", "check_scalar", "check_in_range", "format_pair"]

_MAX_DIGITS = 17
"""Significant digits that always tell two different float64 values apart."""


def _fail(name: str, expected: str, received: str, hint: str | None,
          detail: str = "") -> None:
    message = f"`{name}`: expected {expected}, received {received}."
    if detail:
        message += f" {detail}"
    if hint:
        message += f" Hint: {hint}"
    raise AssertionError(message)


def _number(value: float, digits: int) -> str:
    if math.isnan(value) or math.isinf(value):
        return repr(float(value))
    if value == int(value) and abs(value) < 1e15:
        return str(int(value)) if value != 0 or math.copysign(1, value) > 0 else "-0"
    return f"{value:.{digits}g}"


def format_pair(expected: float, received: float, digits: int = 6) -> tuple[str, str]:
    """``expected`` and ``received`` as text, with enough digits to see that they differ.

    Starts at ``digits`` significant digits and adds more until the two texts
    differ (at most 17, which tells any two float64 values apart).

    Args:
        expected: The reference value.
        received: The student's value.
        digits: The fewest significant digits to show.

    Returns:
        ``(expected_text, received_text)``.
    """
    expected, received = float(expected), float(received)
    for count in range(digits, _MAX_DIGITS + 1):
        texts = _number(expected, count), _number(received, count)
        if texts[0] != texts[1] or expected == received:
            return texts
    return repr(expected), repr(received)


def _g(value: float) -> str:
    return f"{float(value):.3g}"


def _tolerance(rtol: float, atol: float) -> str:
    """The tolerance rule as words, with its parameters."""
    if atol == 0:
        return f"tolerance: |received - expected| <= rtol * |expected|, rtol={rtol:g}"
    if rtol == 0:
        return f"tolerance: |received - expected| <= atol, atol={atol:g}"
    return (f"tolerance: |received - expected| <= atol + rtol * |expected|, "
            f"rtol={rtol:g}, atol={atol:g}")


def _difference(error: float, reference: float) -> str:
    """The absolute and (when defined) relative difference, in words."""
    text = f"absolute difference {_g(error)}"
    if reference != 0:
        text += f", relative difference {_g(error / abs(reference))}"
    return text


def _not_a_number_hint(value: Any) -> str:
    """A hint that is right for a value that is not a number (or array of numbers)."""
    if value is None:
        return "the value is None: is a `return` statement missing?"
    if isinstance(value, (str, bytes)):
        return "a text was received: compute the number instead of formatting it"
    if isinstance(value, dict):
        return "a dict was received: return the numbers themselves"
    if callable(value):
        return "a function was received: call it and use its result"
    return f"convert the result to numbers (received a {type(value).__name__})"


def _article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _shape_hint(received: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """A hint that explains the most likely cause of a shape mismatch."""
    if len(received) == len(expected) >= 2 and tuple(reversed(received)) == expected:
        return "the axes are in the opposite order: is a transpose (.T) missing or extra?"
    if len(received) == len(expected) and sorted(received) == sorted(expected):
        return "the same axis lengths in another order: check the order of the axes"
    squeezed = tuple(n for n in received if n != 1)
    if squeezed == tuple(n for n in expected if n != 1) and squeezed != received:
        return ("the same values with extra axes of length 1: check keepdims= and "
                "reshape or squeeze")
    if squeezed == tuple(n for n in expected if n != 1):
        return "an axis of length 1 is missing: check keepdims= or reshape"
    if math.prod(received) == math.prod(expected):
        return "the same number of values in another shape: check the reshape"
    if len(received) < len(expected):
        return "fewer axes than expected: was the result summed or averaged over an axis?"
    if len(received) > len(expected):
        return "more axes than expected: is a reduction (sum, mean, ...) missing?"
    return "check which axis the computation runs over (the axis= argument)"


def check_type(name: str, value: Any, expected_type: type | tuple[type, ...],
               hint: str | None = None) -> None:
    """Checks ``isinstance(value, expected_type)``.

    Args:
        name: What the value is, as the student knows it (e.g. ``"fans(shape)"``).
        value: The student's value.
        expected_type: A type or a tuple of types.
        hint: Shown when the type is wrong; for ``None`` a missing ``return``
            is pointed out too.

    Raises:
        AssertionError: naming the expected and received types.
    """
    if not isinstance(value, expected_type):
        names = (expected_type.__name__ if isinstance(expected_type, type)
                 else " or ".join(t.__name__ for t in expected_type))
        if value is None:
            hint = "; ".join(filter(None, [_not_a_number_hint(None), hint]))
        _fail(name, _article(names), f"{_article(type(value).__name__)} ({value!r:.80})", hint)


def check_array(name: str, value: Any, expected: Any, *, rtol: float = 1e-6,
                atol: float = 0.0, hint: str | None = None,
                shape_hint: str | None = None) -> None:
    """Checks that ``value`` is an array-like of ``expected``'s shape and values.

    Tensors and lists are converted with ``np.asarray``; the shape must match
    exactly and the values to ``|value - expected| <= atol + rtol * |expected|``.
    Non-finite values (``inf``, ``-inf``, ``nan``) must match exactly.

    Args:
        name: What the value is, as the student knows it.
        value: The student's array.
        expected: The reference array.
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        hint: Shown when values differ.
        shape_hint: Shown when the shape differs (default: a hint derived from
            the two shapes).

    Raises:
        AssertionError: with the shapes, or the worst mismatch, its index, the
            largest absolute and relative differences and the tolerance.
    """
    expected = np.asarray(expected, dtype=float)
    if value is None or isinstance(value, (str, bytes, dict)) or callable(value):
        _fail(name, f"an array of shape {expected.shape}",
              f"{_article(type(value).__name__)} that is not numeric", _not_a_number_hint(value))
    try:
        received = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(name, f"an array of shape {expected.shape}",
              f"{_article(type(value).__name__)} that is not numeric", _not_a_number_hint(value))
    if received.shape != expected.shape:
        _fail(name, f"shape {expected.shape}", f"shape {received.shape}",
              shape_hint or _shape_hint(received.shape, expected.shape))
    finite = np.isfinite(expected) & np.isfinite(received)
    with np.errstate(invalid="ignore"):
        same_special = (received == expected) | (np.isnan(received) & np.isnan(expected))
    special_wrong = ~finite & ~same_special
    if np.any(special_wrong):
        bad = tuple(int(i) for i in np.argwhere(special_wrong)[0])
        _fail(name, f"{float(expected[bad])!r} at index {bad}",
              f"{float(received[bad])!r} ({int(special_wrong.sum())} of {expected.size} "
              f"values differ in being inf or nan)", hint)
    with np.errstate(invalid="ignore"):
        error = np.where(finite, np.abs(received - expected), 0.0)
    allowed = atol + rtol * np.abs(expected)
    too_far = finite & ~(error <= allowed)
    if np.any(too_far):
        worst = np.unravel_index(np.argmax(np.where(too_far, error - allowed, -np.inf)),
                                 expected.shape)
        index = tuple(int(i) for i in worst)
        expected_text, received_text = format_pair(expected[worst], received[worst])
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(too_far & (expected != 0), error / np.abs(expected), 0.0)
        detail = f"Largest absolute difference {_g(error[too_far].max())}"
        if np.any(relative > 0):
            detail += f", largest relative difference {_g(relative.max())}"
        detail += f"; {_tolerance(rtol, atol)}."
        _fail(name, f"{expected_text} at index {index}",
              f"{received_text} ({int(too_far.sum())} of {expected.size} values differ)",
              hint, detail)


def _is_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.number)):
        return True
    return isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf"


def _scalar_type_hint(value: Any) -> str:
    """A hint that is right for a value that is not a single real number."""
    if isinstance(value, (bool, np.bool_)):
        return "a True/False value was received: return the number itself"
    if isinstance(value, (list, tuple)) and len(value) == 1:
        kind = type(value).__name__
        return f"a one-element {kind} was received: return its element, not the {kind}"
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "numpy"):
        if tuple(shape) == ():
            return "a tensor was received: convert it with float(...)"
        return f"a tensor of shape {tuple(shape)} was received: one number is expected"
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return "a one-element array was received: convert it with float(x.item())"
        return f"an array of shape {value.shape} was received: one number is expected"
    return _not_a_number_hint(value)


def check_scalar(name: str, value: Any, expected: float, *, rtol: float = 1e-6,
                 atol: float = 0.0, hint: str | None = None) -> None:
    """Checks that ``value`` is a real number close to ``expected``.

    Args:
        name: What the value is, as the student knows it.
        value: The student's number (Python or NumPy, or a 0-d array).
        expected: The reference number.
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        hint: Shown when the number is wrong (not when it is not a number).

    Raises:
        AssertionError: with both numbers, their difference and the tolerance.
    """
    if not _is_number(value):
        _fail(name, "a number", f"{_article(type(value).__name__)} ({value!r:.80})",
              _scalar_type_hint(value))
    value, expected = float(value), float(expected)
    if math.isnan(value) or math.isnan(expected) or math.isinf(value) or math.isinf(expected):
        if value == expected or (math.isnan(value) and math.isnan(expected)):
            return
        _fail(name, repr(expected), repr(value), hint)
    if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        expected_text, received_text = format_pair(expected, value)
        detail = f"{_difference(abs(value - expected), expected).capitalize()}; " \
                 f"{_tolerance(rtol, atol)}."
        _fail(name, expected_text, received_text, hint, detail)


def check_in_range(name: str, value: Any, low: float, high: float,
                   hint: str | None = None) -> None:
    """Checks that ``value`` is a number with ``low <= value <= high``.

    Args:
        name: What the value is, as the student knows it.
        value: The student's number.
        low: The smallest value allowed.
        high: The largest value allowed.
        hint: Shown when the number is outside the range.

    Raises:
        AssertionError: with the range and the value.
    """
    if not _is_number(value):
        _fail(name, f"a number between {low:g} and {high:g}",
              f"{_article(type(value).__name__)} ({value!r:.80})", _scalar_type_hint(value))
    number = float(value)
    if not low <= number <= high:
        bound = low if not number >= low else high
        _, received_text = format_pair(bound, number, digits=6)
        _fail(name, f"a value between {low:g} and {high:g}", received_text, hint)
