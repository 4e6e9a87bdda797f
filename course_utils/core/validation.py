"""Input checks every helper uses, with one wording for their errors.

A helper that receives bad input says what it expected and what it
received, Keras style::

    Expected `learning_rate` to be a positive number. Received: learning_rate=-1.0 of type float

The checks return a clean value (a Python ``float`` or ``int``, or a float64
copy of an array), so a caller can never modify its argument by accident.

A value of the wrong *type* raises :class:`ArgumentTypeError`, which is both a
``TypeError`` and a ``ValueError``: some helpers have always documented one,
some the other, and callers catching either keep working. A number of the
right type but out of range raises a plain ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "ArgumentTypeError",
    "as_float_array",
    "check_number",
    "check_positive",
    "check_integer",
    "check_vector",
    "check_batch",
]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string where a number belongs, say)."""


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r:.80} of type {type(value).__name__}"


def as_float_array(name: str, value: Any) -> np.ndarray:
    """A float64 copy of a number or an array of numbers.

    Args:
        name: the argument's name, for the error message.
        value: what the caller passed.

    Returns:
        A new float64 array (never a view of ``value``).

    Raises:
        ArgumentTypeError: for ``None``, strings, bytes and anything NumPy
            cannot convert to floats.
    """
    message = f"Expected `{name}` to be a number or an array of numbers. "
    if value is None or isinstance(value, (str, bytes)):
        raise ArgumentTypeError(message + _received(name, value))
    try:
        return np.array(value, dtype=np.float64)  # always a copy
    except (TypeError, ValueError):
        raise ArgumentTypeError(message + _received(name, value)) from None


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _describe_interval(low: float, high: float, low_inclusive: bool,
                       high_inclusive: bool) -> str:
    if low == 0 and high == math.inf:
        return "a non-negative number" if low_inclusive else "a positive number"
    if low == -math.inf and high == math.inf:
        return "a finite number"
    if high == math.inf:
        return f"a number {'>=' if low_inclusive else '>'} {low:g}"
    return ("a number in " + ("[" if low_inclusive else "(") + f"{low:g}, {high:g}"
            + ("]" if high_inclusive else ")"))


def check_number(name: str, value: Any, low: float = -math.inf, high: float = math.inf, *,
                 low_inclusive: bool = True, high_inclusive: bool = False) -> float:
    """Checks a real, finite number in an interval and returns it as a float.

    Args:
        name: the argument's name, for the error message.
        value: what the caller passed (``bool`` is not a number here).
        low: the interval's lower end (none by default).
        high: the interval's upper end (none by default).
        low_inclusive: whether ``low`` itself is allowed.
        high_inclusive: whether ``high`` itself is allowed.

    Returns:
        ``value`` as a Python float.

    Raises:
        ArgumentTypeError: if ``value`` is not a real number.
        ValueError: if it is NaN, infinite or outside the interval.
    """
    kind = _describe_interval(low, high, low_inclusive, high_inclusive)
    if not _is_real(value):
        raise ArgumentTypeError(f"Expected `{name}` to be {kind}. {_received(name, value)}")
    number = float(value)
    above = number >= low if low_inclusive else number > low
    below = number <= high if high_inclusive else number < high
    if not (math.isfinite(number) and above and below):
        raise ValueError(f"Expected `{name}` to be {kind}. {_received(name, value)}")
    return number


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A finite number ``> 0`` (``>= 0`` with ``allow_zero``), as a float.

    Raises:
        ArgumentTypeError: if ``value`` is not a real number.
        ValueError: if it is not finite or not positive.
    """
    return check_number(name, value, 0.0, low_inclusive=allow_zero)


def check_integer(name: str, value: Any, low: int | None = None,
                  high: int | None = None) -> int:
    """Checks a whole number in ``[low, high]`` and returns it as an ``int``.

    Args:
        name: the argument's name, for the error message.
        value: what the caller passed: a Python or NumPy integer (``bool``
            and floats such as ``2.0`` are not whole numbers here).
        low: the smallest value allowed (none by default).
        high: the largest value allowed (none by default).

    Returns:
        ``value`` as a Python int.

    Raises:
        ArgumentTypeError: if ``value`` is not an integer.
        ValueError: if it lies outside ``[low, high]``.
    """
    if low is not None and high is not None:
        kind = f"a whole number between {low:,} and {high:,}"
    elif low is not None:
        kind = f"a whole number >= {low:,}"
    elif high is not None:
        kind = f"a whole number <= {high:,}"
    else:
        kind = "a whole number"
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"Expected `{name}` to be {kind}. {_received(name, value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"Expected `{name}` to be {kind}. {_received(name, value)}")
    return int(value)


def check_vector(name: str, value: Any, size: int | None = None, *, note: str = "") -> np.ndarray:
    """A float64 copy of a 1D array, of length ``size`` when given.

    Args:
        name: the argument's name, for the error message.
        value: what the caller passed.
        size: the required length (any length by default).
        note: appended to the expected shape in the error message, for
            example ``", one value per feature"``.

    Raises:
        ArgumentTypeError: if ``value`` is not numeric.
        ValueError: if it is not 1D or has the wrong length.
    """
    array = as_float_array(name, value)
    if array.ndim != 1 or (size is not None and array.shape[0] != size):
        expected = f"({size},)" if size is not None else "(n,)"
        raise ValueError(
            f"Expected `{name}` of shape {expected}{note}. Received: shape={array.shape}")
    return array


def check_batch(X: Any, dtype: Any = np.float32) -> np.ndarray:
    """A non-empty batch of inputs with a leading sample axis, as ``dtype``.

    Raises:
        ArgumentTypeError: if ``X`` is not numeric.
        ValueError: if it has fewer than 2 axes or no sample.
    """
    try:
        batch = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError):
        raise ArgumentTypeError("Expected a batch of numeric inputs. "
                                + _received("X", X)) from None
    if batch.ndim < 2 or batch.shape[0] == 0:
        raise ValueError("Expected a non-empty batch with a leading sample axis. "
                         f"Received: shape={batch.shape}")
    return batch
