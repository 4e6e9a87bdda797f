"""Keeps the fast lane honest: a test not marked slow may not start a heavy process.

`make test-fast` runs ``pytest -m "not slow"``. A test that starts a Jupyter
kernel, runs `course grade` or nbgrader's autograde, builds a book or drives
a browser must carry one of the markers in :data:`LANE_MARKERS` (each implies
``slow``). While a test that is not slow sets up, runs and tears down,
``subprocess.Popen`` refuses such a launch, and the test fails even when the
code under test swallows the error. A kernel this process starts goes through
``Popen``; the commands that start kernels in child processes (`course grade`,
nbgrader autograde, the grading worker, the sandbox launcher) are refused by
name.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

# Marker -> what a test carrying it starts; every one of them implies `slow`.
LANE_MARKERS = {
    "kernel": "starts a Jupyter kernel (notebook execution, nbgrader autograde, sandboxed kernel)",
    "grade": "runs the `course grade` command, whose batches start kernels",
    "book": "builds a book with jupyter-book",
    "browser": "drives a headless browser",
}

# (pattern over the launched command line, what it is, the marker it needs)
_HEAVY = [
    (re.compile(r"ipykernel"), "a Jupyter kernel", "kernel"),
    (re.compile(r"course_utils\.instructor\.grading\.(nbgrader_driver|sandbox_launch)\b"),
     "an nbgrader grading worker or sandboxed kernel", "kernel"),
    (re.compile(r"(^|[\s/])nbgrader\s+autograde\b|-m nbgrader autograde\b"),
     "nbgrader autograde", "kernel"),
    (re.compile(r"(^|/)course(\s+--\S+(\s+[^-\s]\S*)?)*\s+grade\b"), "`course grade`", "grade"),
    (re.compile(r"(^|/)course(\s+--\S+(\s+[^-\s]\S*)?)*\s+book\b"), "`course book`", "book"),
    (re.compile(r"jupyter[- ]book\b"), "a jupyter-book build", "book"),
    (re.compile(r"(^|/)(chromedriver|chromium|chromium-browser|google-chrome|geckodriver|firefox)"
                r"(\s|$)"), "a browser", "browser"),
]

VIOLATIONS = pytest.StashKey[list]()


class FastLaneViolation(AssertionError):
    """A test outside the slow lane started a kernel, a grading run, a book build or a browser."""


def heavy_launch(args: str | bytes | os.PathLike | Sequence) -> tuple[str, str] | None:
    """What a command line would start that the fast lane forbids.

    Args:
        args: The ``args`` given to ``subprocess.Popen`` (a string or a sequence).

    Returns:
        ``(what, marker)`` for a kernel, grading run, book build or browser,
        else ``None``.
    """
    if isinstance(args, (str, bytes, os.PathLike)):
        text = os.fsdecode(args)
    else:
        text = shlex.join(os.fsdecode(arg) for arg in args)
    for pattern, what, marker in _HEAVY:
        if pattern.search(text):
            return what, marker
    return None


@contextmanager
def forbid_heavy_launches(item: pytest.Item) -> Iterator[None]:
    """Makes ``subprocess.Popen`` refuse heavy launches while ``item`` is in a phase."""
    original = subprocess.Popen.__init__
    violations = item.stash.setdefault(VIOLATIONS, [])

    def guarded_init(self, args, *rest, **kwargs):
        found = heavy_launch(args)
        if found is not None:
            what, marker = found
            message = (f"{item.nodeid} is in the fast lane (not marked slow) but started "
                       f"{what}: {args!r}. Mark it @pytest.mark.{marker} "
                       f"({LANE_MARKERS[marker]}).")
            violations.append(message)
            raise FastLaneViolation(message)
        original(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = guarded_init
    try:
        yield
    finally:
        subprocess.Popen.__init__ = original
        if violations:  # also when the code under test caught the error
            found, violations[:] = list(violations), []
            raise FastLaneViolation("\n".join(found))
