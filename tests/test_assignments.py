"""Every assignment: the release is up to date and leak-free, and the nbgrader
round trip gives the solution full marks and the blank release 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils.instructor.grading.notebook_facts import HIDDEN_TESTS, SOLUTION, marked_lines
from course_utils.instructor.grading.release import release
from tests.notebook_tools import REPO_ROOT, assignment_ids

IDS = assignment_ids()
EXPECTED_IDS = [
    "ch01_unstable_gradients", "ch02_initialization", "ch03_activations",
    "ch04_batch_norm", "ch05_gradient_clipping", "ch06_transfer_learning",
    "ch07_optimizers", "ch08_lr_schedules", "ch09_regularization",
    "ch10_practical_guidelines",
]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _hidden_and_solution_lines(source_notebook: Path) -> list[str]:
    """Non-trivial lines that appear only between solution or hidden-test markers."""
    notebook = json.loads(source_notebook.read_text())
    return [line for line in marked_lines(notebook, (HIDDEN_TESTS, SOLUTION))
            if len(line) > 25 and not line.startswith("#")]


def _id_problems(ids: list[str]) -> list[str]:
    """What is wrong with the assignment ids found in solutions/ (empty if nothing)."""
    problems = []
    unknown = sorted(set(ids) - set(EXPECTED_IDS))
    if unknown:
        problems.append(f"assignment ids are gradebook keys; unknown: {unknown}")
    missing = sorted(set(EXPECTED_IDS) - set(ids))
    if missing:
        problems.append(f"expected assignments missing from solutions/: {missing}")
    return problems


def test_every_assignment_id_is_known_and_none_is_missing():
    assert not _id_problems(IDS), _id_problems(IDS)


def test_a_missing_or_unknown_assignment_is_caught():
    # The parametrised tests below vanish with their assignment: this check must not.
    assert _id_problems([]) == [f"expected assignments missing from solutions/: {EXPECTED_IDS}"]
    assert _id_problems(EXPECTED_IDS[1:]) == [
        f"expected assignments missing from solutions/: {EXPECTED_IDS[:1]}"]
    assert _id_problems([*EXPECTED_IDS, "ch11_new"]) == [
        "assignment ids are gradebook keys; unknown: ['ch11_new']"]


@pytest.mark.parametrize("assignment", IDS)
def test_source_notebook_is_clean(assignment):
    notebook = json.loads((REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")
                          .read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    points, tasks = 0, 0
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{assignment}: commit without outputs"
            assert cell.get("execution_count") is None
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            points += meta.get("points", 0)
            tasks += 1
            assert "### BEGIN HIDDEN TESTS" in "".join(cell["source"]), (
                f"{assignment}: test cell {meta['grade_id']} has no hidden tests")
    assert 3 <= tasks <= 6, f"{assignment}: expected 3 to 6 graded tasks, found {tasks}"
    assert points >= 10, f"{assignment}: expected 10 points or more, found {points}"


@pytest.mark.parametrize("assignment", IDS)
def test_release_is_up_to_date_and_leak_free(assignment, tmp_path):
    release(REPO_ROOT, [assignment], output=tmp_path)
    generated = tmp_path / assignment / f"{assignment}.ipynb"
    committed = REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    assert committed.is_file(), f"run `make release`: {committed} is missing"
    assert generated.read_bytes() == committed.read_bytes(), (
        f"exercises/{assignment} differs from what `make release` generates; "
        "run `make release` and commit the result")
    released_files = sorted(p.relative_to(tmp_path / assignment).as_posix()
                            for p in (tmp_path / assignment).rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed.parent).as_posix()
                             for p in committed.parent.rglob("*") if p.is_file())
    assert released_files == committed_files
    text = committed.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    released_lines = {line.strip() for cell in _cells(committed)
                      for line in "".join(cell["source"]).splitlines()}
    leaked = [line for line in _hidden_and_solution_lines(
        REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb") if line in released_lines]
    assert not leaked, f"solution or hidden-test lines in the release: {leaked[:5]}"


# The round trip (solution full marks, blank release 0) runs through `course grade`,
# the path students are graded by, with each assignment's answer bank:
# tests/grading/test_answer_banks.py.
