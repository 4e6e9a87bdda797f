"""The test-cell checks: they pass on right answers and explain wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_array, check_in_range, check_scalar, check_type, format_pair


def _message(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_check_array_passes_within_tolerance():
    check_array("x", [1.0, 2.0 + 1e-9], np.array([1.0, 2.0]), rtol=1e-6)
    check_array("x", np.array([[np.inf, 1.0]]), [[np.inf, 1.0]])
    check_array("x", [np.nan, -np.inf], [np.nan, -np.inf])


@pytest.mark.parametrize("value, expected, message", [
    (np.ones((300, 784)), np.ones((784, 300)),
     "expected shape (784, 300), received shape (300, 784)"),
    ([1.0, 2.5], [1.0, 2.0], "expected 2 at index (1,)"),
    ([1.0, np.nan], [1.0, 2.0], "at index (1,)"),
    ([1.0, -np.inf], [1.0, np.inf], "expected inf at index (1,), received -inf"),
    ("abc", [1.0], "not numeric"),
    (None, [1.0], "not numeric"),
])
def test_check_array_explains_failures(value, expected, message):
    assert message in _message(check_array, "x", value, expected, hint="look again")


def test_numbers_differ_in_the_message_when_they_differ():
    # Printed to 6 significant digits, both would read 0.6.
    text = _message(check_scalar, "p", 0.6000001, 0.6, rtol=1e-9)
    assert "expected 0.6, received 0.6000001" in text, text
    text = _message(check_array, "a", [1.0, 0.6000001], [1.0, 0.6], rtol=1e-9)
    assert "expected 0.6 at index (1,), received 0.6000001" in text, text
    assert format_pair(0.1 + 0.2, 0.3) == ("0.30000000000000004", "0.29999999999999999")
    assert format_pair(2.0, 2.5) == ("2", "2.5")
    assert format_pair(1e-30, 1.0000001e-30) == ("1e-30", "1.0000001e-30")


@pytest.mark.parametrize("seed", range(5))
def test_format_pair_always_tells_different_values_apart(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        a = float(rng.normal() * 10.0 ** rng.integers(-20, 20))
        b = float(np.nextafter(a, np.inf)) if rng.random() < 0.5 else a * (1 + 1e-9)
        texts = format_pair(a, b)
        assert (texts[0] != texts[1]) == (a != b), (a, b, texts)
        assert float(texts[0]) == pytest.approx(a, rel=1e-5)


def test_message_states_the_differences_and_the_tolerance():
    text = _message(check_scalar, "s", 1.5, 1.0, rtol=1e-3, atol=1e-6)
    assert "Absolute difference 0.5, relative difference 0.5" in text, text
    assert "atol + rtol * |expected|, rtol=0.001, atol=1e-06" in text, text
    text = _message(check_array, "a", [1.0, 2.0, 4.0], [1.0, 2.2, 3.0], rtol=0, atol=0.01)
    assert "expected 3 at index (2,), received 4 (2 of 3 values differ)" in text, text
    assert "Largest absolute difference 1, largest relative difference 0.333" in text, text
    assert "|received - expected| <= atol, atol=0.01" in text, text
    text = _message(check_array, "a", [0.5], [0.0], rtol=1e-6)
    assert "relative" not in text.split("Largest")[1].split(";")[0], text


def test_the_callers_hint_is_shown_only_for_wrong_values():
    hint = "multiply by c / max(norm, c)"
    assert f"Hint: {hint}" in _message(check_array, "g", [2.0], [1.0], hint=hint)
    # A shape or type problem gets a hint written for it, not the values hint.
    text = _message(check_array, "g", np.ones((3, 2)), np.ones((2, 3)), hint=hint)
    assert hint not in text and "transpose" in text, text
    text = _message(check_array, "g", None, [1.0], hint=hint)
    assert hint not in text and "`return`" in text, text
    text = _message(check_array, "g", np.ones((3, 1)), np.ones(3), hint=hint,
                    shape_hint="keep the input's shape")
    assert "Hint: keep the input's shape" in text and hint not in text, text
    assert "Hint: x" in _message(check_scalar, "s", 2.0, 1.0, hint="x")
    text = _message(check_scalar, "s", np.array([0.25]), 0.25, hint="x")
    assert "Hint: x" not in text and "float(x.item())" in text, text
    assert "return its element" in _message(check_scalar, "s", [0.25], 0.25)
    assert "shape (2,)" in _message(check_scalar, "s", np.ones(2), 0.25)
    text = _message(check_in_range, "r", "0.5", 0, 1, hint="x")
    assert "Hint: x" not in text and "text" in text, text


@pytest.mark.parametrize("received, expected, words", [
    ((3, 1), (3,), "extra axes of length 1"),
    ((3,), (3, 1), "axis of length 1 is missing"),
    ((6,), (2, 3), "another shape"),
    ((2, 3, 4), (4, 2, 3), "another order"),
    ((3,), (3, 4), "fewer axes"),
    ((3, 4, 5), (3, 4), "more axes"),
    ((3, 5), (3, 4), "axis="),
])
def test_shape_hints_fit_the_shapes(received, expected, words):
    assert words in _message(check_array, "a", np.ones(received), np.ones(expected))


def test_check_scalar():
    check_scalar("s", np.float32(0.25), 0.25)
    check_scalar("s", np.array(0.25), 0.25)
    check_scalar("s", float("nan"), float("nan"))
    with pytest.raises(AssertionError,
                       match="expected 0.25, received 0.3. Absolute difference 0.05"):
        check_scalar("s", 0.3, 0.25)
    with pytest.raises(AssertionError, match="expected inf, received nan"):
        check_scalar("s", float("nan"), float("inf"))
    with pytest.raises(AssertionError, match="expected a number, received a list"):
        check_scalar("s", [0.25], 0.25)
    with pytest.raises(AssertionError, match="expected a number"):
        check_scalar("s", True, 1.0)
    with pytest.raises(AssertionError, match="None.*`return`"):
        check_scalar("s", None, 1.0)


def test_check_type_and_range():
    check_type("m", 3, int)
    with pytest.raises(AssertionError, match="expected an int or float, received a str"):
        check_type("m", "3", (int, float))
    with pytest.raises(AssertionError, match=r"received a NoneType .*`return`.*; t"):
        check_type("m", None, tuple, hint="t")
    check_in_range("r", 0.5, 0, 1)
    with pytest.raises(AssertionError, match="between 0 and 1, received 1.5"):
        check_in_range("r", 1.5, 0, 1)
    with pytest.raises(AssertionError, match="between 0 and 1, received 1.0000001"):
        check_in_range("r", 1.0000001, 0, 1)
