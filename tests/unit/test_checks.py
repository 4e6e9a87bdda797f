"""The test-cell checks: they pass on right answers and explain wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_array, check_in_range, check_scalar, check_type


def test_check_array_passes_within_tolerance():
    check_array("x", [1.0, 2.0 + 1e-9], np.array([1.0, 2.0]), rtol=1e-6)
    check_array("x", np.array([[np.inf, 1.0]]), [[np.inf, 1.0]])


@pytest.mark.parametrize("value, expected, message", [
    (np.ones((300, 784)), np.ones((784, 300)), "expected shape (784, 300), received shape (300, 784)"),
    ([1.0, 2.5], [1.0, 2.0], "expected 2 at index (1,)"),
    ([1.0, np.nan], [1.0, 2.0], "at index (1,)"),
    ("abc", [1.0], "not numeric"),
    (None, [1.0], "not numeric"),
])
def test_check_array_explains_failures(value, expected, message):
    with pytest.raises(AssertionError) as info:
        check_array("x", value, expected, hint="look again")
    assert message in str(info.value) and "Hint: look again" in str(info.value)


def test_check_scalar():
    check_scalar("s", np.float32(0.25), 0.25)
    check_scalar("s", np.array(0.25), 0.25)
    with pytest.raises(AssertionError, match="expected 0.25 .* received 0.3"):
        check_scalar("s", 0.3, 0.25)
    with pytest.raises(AssertionError, match="expected a number, received a list"):
        check_scalar("s", [0.25], 0.25)
    with pytest.raises(AssertionError, match="expected a number"):
        check_scalar("s", True, 1.0)


def test_check_type_and_range():
    check_type("m", 3, int)
    with pytest.raises(AssertionError, match="expected a int or float, received a str"):
        check_type("m", "3", (int, float))
    check_in_range("r", 0.5, 0, 1)
    with pytest.raises(AssertionError, match="between 0 and 1, received 1.5"):
        check_in_range("r", 1.5, 0, 1)
