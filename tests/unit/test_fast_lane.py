"""The fast-lane guard: it recognises heavy launches and refuses them outside the slow lane."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fast_lane import VIOLATIONS, FastLaneViolation, heavy_launch


@pytest.mark.parametrize("args, marker", [
    ([sys.executable, "-m", "ipykernel_launcher", "-f", "/tmp/kernel-1.json"], "kernel"),
    (["/venv/bin/python", "-m", "course_utils.instructor.grading.nbgrader_driver", "--serve"],
     "kernel"),
    (["/venv/bin/python", "-m", "course_utils.instructor.grading.sandbox_launch", "k.json"],
     "kernel"),
    (["nbgrader", "autograde", "small", "--force"], "kernel"),
    ([sys.executable, "-m", "nbgrader", "autograde", "small"], "kernel"),
    (["/venv/bin/course", "--course-root", "/tmp/c", "grade", "small", "/tmp/s"], "grade"),
    (["course", "grade", "ch01_unstable_gradients", "subs"], "grade"),
    ("/venv/bin/course book", "book"),
    (["/venv/bin/jupyter-book", "build", "book", "-W"], "book"),
    (["/usr/bin/chromedriver", "--port=4444"], "browser"),
])
def test_heavy_launches_are_recognised(args, marker):
    found = heavy_launch(args)
    assert found is not None and found[1] == marker, found


@pytest.mark.parametrize("args", [
    [sys.executable, "-m", "nbgrader", "generate_assignment", "small", "--force"],
    [sys.executable, "-m", "pip", "install", "--no-deps", "."],
    ["/venv/bin/course", "--course-root", "/tmp/course", "export", "a1", "grades.csv"],
    ["/venv/bin/course", "similarity", "sim4", "/tmp/grade-me"],
    ["bwrap", "--ro-bind", "/", "/", "true"],
    [sys.executable, "-c", "print('grade book kernel')"],
])
def test_light_launches_pass(args):
    assert heavy_launch(args) is None


def test_a_fast_test_cannot_start_a_kernel(request):
    with pytest.raises(FastLaneViolation, match="Mark it @pytest.mark.kernel"):
        subprocess.Popen([sys.executable, "-m", "ipykernel_launcher", "-f", "/nonexistent.json"])
    # The guard also fails the test when code under test swallows the error:
    # forget the recorded launch so that this test passes.
    assert len(request.node.stash[VIOLATIONS]) == 1
    request.node.stash[VIOLATIONS].clear()


def test_light_processes_still_run():
    result = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "42"
