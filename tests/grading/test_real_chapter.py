"""Issue 9 on a real chapter: correct, blank and one broken submission of ch01.

The expected scores come from the source notebook's metadata (no number is
hard-coded): full marks, 0, and full marks minus the points of task 1, whose
answer has a syntax error.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from course_utils.instructor.grading.notebook_facts import copy_course
from tests.grading.conftest import gradebook_scores, run_course_grade, tree_state
from tests.grading.small_assignment import hidden_test_lines, with_answer, write_notebook
from tests.notebook_tools import REPO_ROOT

ASSIGNMENT = "ch01_unstable_gradients"


def _points(notebook: dict) -> dict[str, float]:
    return {cell["metadata"]["nbgrader"]["grade_id"]: float(cell["metadata"]["nbgrader"]["points"])
            for cell in notebook["cells"]
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade")}


@pytest.mark.grade
def test_ch01_correct_blank_and_broken(tmp_path):
    course = tmp_path / "course"
    copy_course(REPO_ROOT, course, [ASSIGNMENT])
    name = f"{ASSIGNMENT}.ipynb"
    solution = json.loads((REPO_ROOT / "solutions" / ASSIGNMENT / name).read_text())
    blank = json.loads((REPO_ROOT / "exercises" / ASSIGNMENT / name).read_text())
    broken = with_answer(solution, 1, "def sigmoid_derivative(z)\n    return z")
    submitted = tmp_path / "submitted"
    for student, notebook in {"correct": solution, "blank": blank, "broken": broken}.items():
        write_notebook(submitted / student / ASSIGNMENT / name, notebook)
    before = tree_state(submitted)

    run = run_course_grade(course, submitted, "--jobs", "2", assignment=ASSIGNMENT,
                           timeout=1500)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr[-4000:]}"
    points = _points(solution)
    full = sum(points.values())
    expected = {"correct": full, "blank": 0.0, "broken": full - points["test_task1"]}
    rows = run.rows()
    assert {s: r["score"] for s, r in rows.items()} == expected, run.stdout
    assert rows["broken"]["status"] == "graded" and "SyntaxError" in rows["broken"]["message"]
    assert {s: v["score"] for s, v in gradebook_scores(course, ASSIGNMENT).items()} == expected
    assert tree_state(submitted) == before

    hidden = hidden_test_lines(solution)
    for path in (course / "feedback").rglob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path}: hidden-test source in the feedback: {leaked[:3]}"
