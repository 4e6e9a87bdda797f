"""A tiny nbgrader course, generated on the fly, for fast grading tests.

The assignment has three tasks in plain Python/NumPy (no TensorFlow, so a
kernel starts in a second or two), each with a visible and a hidden test:

=====  =================================  ======
task   function                           points
=====  =================================  ======
1      ``square(x)``: element-wise x**2   2
2      ``mean_abs(x)``: mean of abs(x)    3
3      ``standardize(x)``: (x - m) / s    5
=====  =================================  ======

The test cells check ``type(...)`` first and compare with NumPy operations on
validated values, so an object "equal to everything" earns nothing. Every
hidden-test line contains the marker ``HIDDEN_MARKER`` (in a name), so a test
can search any file for leaked hidden-test source.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

# The same rule the grader uses to keep hidden tests out of feedback; the tests
# re-export it so they can search the feedback for every hidden line.
from course_utils.instructor.grading.notebook_facts import hidden_test_lines  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]

HIDDEN_MARKER = "_hidden_check"
"""A string that occurs in every hidden-test line and nowhere else."""

POINTS = {1: 2, 2: 3, 3: 5}
"""Points of each task; the maximum score is their sum."""

MAX_SCORE = float(sum(POINTS.values()))

SOLUTIONS = {
    1: "def square(x):\n"
       "    ### BEGIN SOLUTION\n"
       "    return np.asarray(x, dtype=np.float64) ** 2\n"
       "    ### END SOLUTION",
    2: "def mean_abs(x):\n"
       "    ### BEGIN SOLUTION\n"
       "    return float(np.mean(np.abs(np.asarray(x, dtype=np.float64))))\n"
       "    ### END SOLUTION",
    3: "def standardize(x):\n"
       "    ### BEGIN SOLUTION\n"
       "    x = np.asarray(x, dtype=np.float64)\n"
       "    return (x - x.mean()) / x.std()\n"
       "    ### END SOLUTION",
}
"""The source of each task's answer cell in the solution notebook."""

_TESTS = {
    1: """import numpy as np

_x = np.array([-2.0, 0.5, 3.0])
_result = square(_x)
assert type(_result) is np.ndarray, f"square must return a NumPy array, got {type(_result)}"
assert _result.shape == (3,), f"expected shape (3,), got {_result.shape}"
assert bool(np.all(np.abs(_result - np.array([4.0, 0.25, 9.0])) <= 1e-12)), f"got {_result}"
print("square: visible test passed")
### BEGIN HIDDEN TESTS
_hidden_check_x = np.linspace(-5.0, 5.0, 11).reshape(11, 1)
_hidden_check_r = square(_hidden_check_x)
assert type(_hidden_check_r) is np.ndarray and _hidden_check_r.shape == (11, 1), "_hidden_check shape"
assert bool(np.all(np.abs(_hidden_check_r - _hidden_check_x * _hidden_check_x) <= 1e-12)), "_hidden_check values"
### END HIDDEN TESTS""",
    2: """import numpy as np

_result = mean_abs(np.array([-1.0, 1.0, -4.0, 2.0]))
assert type(_result) is float, f"mean_abs must return a Python float, got {type(_result)}"
assert abs(_result - 2.0) <= 1e-12, f"expected 2.0, got {_result}"
print("mean_abs: visible test passed")
### BEGIN HIDDEN TESTS
_hidden_check_v = mean_abs(np.arange(-3.0, 4.0))
assert type(_hidden_check_v) is float and abs(_hidden_check_v - 12.0 / 7.0) <= 1e-12, "_hidden_check mean_abs"
### END HIDDEN TESTS""",
    3: """import numpy as np

_result = standardize(np.array([1.0, 2.0, 3.0]))
assert type(_result) is np.ndarray, f"standardize must return a NumPy array, got {type(_result)}"
assert _result.shape == (3,), f"expected shape (3,), got {_result.shape}"
assert abs(float(_result.mean())) <= 1e-12, f"the mean must be 0, got {_result.mean()}"
print("standardize: visible test passed")
### BEGIN HIDDEN TESTS
_hidden_check_s = standardize(np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]))
assert type(_hidden_check_s) is np.ndarray, "_hidden_check standardize type"
assert bool(np.all(np.abs(_hidden_check_s - np.array([-1.5, -0.5, -0.5, -0.5, 0.0, 0.0, 1.0, 2.0])) <= 1e-12)), "_hidden_check standardize values"
### END HIDDEN TESTS""",
}


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False,
          points: int = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(kind: str, grade_id: str, source: str, **meta) -> dict:
    cell = {"cell_type": kind, "id": grade_id.replace("_", "-"),
            "metadata": _meta(grade_id, **meta), "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def source_notebook() -> dict:
    """The nbgrader source notebook (solutions and hidden tests) as a JSON dict."""
    cells = [
        _cell("markdown", "intro", "# A small assignment\n\nThree tiny NumPy tasks."),
        _cell("code", "setup", "import numpy as np"),
    ]
    for task in (1, 2, 3):
        cells.append(_cell("markdown", f"task{task}_text",
                           f"## Task {task} ({POINTS[task]} points)"))
        cells.append(_cell("code", f"task{task}", SOLUTIONS[task], solution=True))
        cells.append(_cell("code", f"test_task{task}", _TESTS[task], grade=True,
                           points=POINTS[task]))
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}}}


def make_small_course(root: Path, assignment: str = "small") -> Path:
    """Writes a tiny nbgrader course at ``root`` and generates its release.

    Args:
        root: an (empty or missing) folder.
        assignment: the assignment id.

    Returns:
        ``root``, which then holds ``nbgrader_config.py`` (the course's own),
        ``solutions/<assignment>/<assignment>.ipynb`` and
        ``exercises/<assignment>/<assignment>.ipynb``.
    """
    from course_utils.instructor.grading.release import release

    root = Path(root)
    (root / "solutions" / assignment).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_bytes((REPO_ROOT / "nbgrader_config.py").read_bytes())
    path = root / "solutions" / assignment / f"{assignment}.ipynb"
    path.write_text(json.dumps(source_notebook(), indent=1) + "\n", encoding="utf-8")
    release(root, [assignment])
    return root


def solution_notebook(root: Path, assignment: str = "small") -> dict:
    """The source notebook (the solution) of the course at ``root``."""
    path = Path(root) / "solutions" / assignment / f"{assignment}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def release_notebook(root: Path, assignment: str = "small") -> dict:
    """The student release (blank answers) of the course at ``root``."""
    path = Path(root) / "exercises" / assignment / f"{assignment}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def with_answer(notebook: dict, task: int, code: str) -> dict:
    """A copy of ``notebook`` whose answer cell of ``task`` has the source ``code``.

    Raises:
        KeyError: if the notebook has no answer cell ``task<k>``.
    """
    result = copy.deepcopy(notebook)
    for cell in result["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"task{task}":
            cell["source"] = code
            return result
    raise KeyError(f"no answer cell with grade_id 'task{task}' in the notebook")


def write_notebook(path: Path, notebook: dict) -> Path:
    """Writes ``notebook`` as JSON to ``path`` (creating folders) and returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
