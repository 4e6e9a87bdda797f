"""`course grade`'s limit options: a value given is used or rejected, never replaced."""

from __future__ import annotations

import argparse

import pytest

from course_utils.instructor.grading.grade_options import add_arguments, limits_from_args
from course_utils.instructor.grading.sandbox import Limits


def _parse(*options: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="course grade")
    add_arguments(parser)
    return parser.parse_args(["ch01_unstable_gradients", "submissions", *options])


def test_no_option_keeps_every_default():
    assert limits_from_args(_parse()) == Limits()


def test_given_values_are_used():
    limits = limits_from_args(_parse("--memory-mb", "64", "--max-processes", "8",
                                     "--file-size-mb", "1", "--wall-seconds", "1"))
    assert limits == Limits(memory_mb=64, processes=8, file_size_mb=1, wall_seconds=1)
    assert limits != Limits()


@pytest.mark.parametrize("option, value, expected", [
    ("--memory-mb", "0", "expected a whole number of MiB of at least 64, received '0'"),
    ("--memory-mb", "63", "expected a whole number of MiB of at least 64, received '63'"),
    ("--memory-mb", "1.5", "expected a whole number of MiB of at least 64, received '1.5'"),
    ("--max-processes", "0", "expected a whole number of at least 8, received '0'"),
    ("--file-size-mb", "-3", "expected a whole number of MiB of at least 1, received '-3'"),
    ("--wall-seconds", "0", "expected a whole number of seconds of at least 1, received '0'"),
    ("--timeout", "none", "expected a whole number of seconds of at least 1, received 'none'"),
])
def test_too_small_or_malformed_values_are_rejected(option, value, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parse(option, value)
    assert exit_info.value.code == 2
    assert f"argument {option}: {expected}" in capsys.readouterr().err


def test_an_explicit_zero_from_code_is_rejected_not_defaulted():
    args = _parse()
    args.memory_mb = 0
    with pytest.raises(ValueError, match=r"Limits.memory_mb: expected an integer >= 64, "
                                         r"received 0"):
        limits_from_args(args)
