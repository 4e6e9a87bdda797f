"""course_utils.core.validation: the one set of input checks every helper uses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils.core.validation import (
    ArgumentTypeError,
    as_float_array,
    check_batch,
    check_integer,
    check_number,
    check_positive,
    check_vector,
)


def test_as_float_array_copies_and_converts():
    original = np.array([1, 2, 3], dtype=np.float64)
    copy = as_float_array("x", original)
    copy[0] = 99.0
    assert original[0] == 1.0 and copy.dtype == np.float64
    assert as_float_array("x", 2).shape == ()


@pytest.mark.parametrize("bad", [None, "1.0", b"1", [1, "a"], {"a": 1}])
def test_as_float_array_rejects_non_numbers(bad):
    with pytest.raises(ArgumentTypeError, match=r"Expected `x` to be a number or an array "
                                                r"of numbers\. Received: x="):
        as_float_array("x", bad)


def test_a_wrong_type_is_both_a_type_error_and_a_value_error():
    for error in (TypeError, ValueError):
        with pytest.raises(error):
            check_number("rate", "0.1")


@pytest.mark.parametrize("value, low, high, kwargs, expected", [
    (0.5, 0.0, 1.0, {}, 0.5),
    (0, 0.0, 1.0, {}, 0.0),
    (np.float32(2.5), -math.inf, math.inf, {}, 2.5),
    (1.0, 0.0, 1.0, {"high_inclusive": True}, 1.0),
])
def test_check_number_accepts_values_in_the_interval(value, low, high, kwargs, expected):
    result = check_number("x", value, low, high, **kwargs)
    assert result == expected and type(result) is float


@pytest.mark.parametrize("value, low, high, kwargs, text", [
    (1.0, 0.0, 1.0, {}, r"a number in \[0, 1\)"),
    (0.0, 0.0, 1.0, {"low_inclusive": False}, r"a number in \(0, 1\)"),
    (float("nan"), -math.inf, math.inf, {}, "a finite number"),
    (float("inf"), 0.0, math.inf, {}, "a non-negative number"),
    (0.5, 1.0, math.inf, {}, "a number >= 1"),
])
def test_check_number_rejects_values_outside(value, low, high, kwargs, text):
    with pytest.raises(ValueError, match=rf"Expected `x` to be {text}\. Received: x="):
        check_number("x", value, low, high, **kwargs)


@pytest.mark.parametrize("bad", [True, None, "1", [1.0]])
def test_check_number_rejects_non_numbers(bad):
    with pytest.raises(ArgumentTypeError, match=r"of type "):
        check_number("x", bad)


def test_check_positive():
    assert check_positive("lr", 3) == 3.0
    assert check_positive("lr", 0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"Expected `lr` to be a positive number\. "
                                         r"Received: lr=0 of type int"):
        check_positive("lr", 0)


def test_check_integer():
    assert check_integer("n", np.int64(3), 1) == 3 and type(check_integer("n", 3)) is int
    with pytest.raises(ValueError, match=r"Expected `n` to be a whole number between 1 and "
                                         r"1,000\. Received: n=1001"):
        check_integer("n", 1001, 1, 1000)
    for bad in (2.0, True, "3", None):
        with pytest.raises(ArgumentTypeError, match="whole number"):
            check_integer("n", bad, 1)
    with pytest.raises(ValueError, match="a whole number >= 0"):
        check_integer("n", -1, 0)


def test_check_vector():
    np.testing.assert_array_equal(check_vector("g", [1, 2], 2), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"Expected `g` of shape \(3,\), one per unit\. "
                                         r"Received: shape=\(2,\)"):
        check_vector("g", [1, 2], 3, note=", one per unit")
    with pytest.raises(ValueError, match=r"shape \(n,\)\. Received: shape=\(2, 1\)"):
        check_vector("g", [[1], [2]])


def test_check_batch():
    batch = check_batch([[1, 2]])
    assert batch.dtype == np.float32 and batch.shape == (1, 2)
    for bad in ([1.0, 2.0], np.zeros((0, 3))):
        with pytest.raises(ValueError, match="non-empty batch with a leading sample axis"):
            check_batch(bad)
    with pytest.raises(ArgumentTypeError, match="numeric inputs"):
        check_batch([["a"]])
