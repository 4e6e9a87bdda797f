"""`course similarity`: planted copies rank above independently written answers.

A four-task assignment (the small one plus a longer fourth task) is answered by
six students who wrote their code independently, two who handed in the
reference solution (with their own comments), and four copies of student
``ind_a``: variables renamed, helper functions reordered, comments and
whitespace changed, and one where only task 4 of four was copied (the other
three tasks are the student's own). No kernel runs.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.grading import small_assignment as sa

BIN = Path(sys.executable).parent

TASK4_SOLUTION = (
    "def bin_counts(values, edges):\n"
    "    ### BEGIN SOLUTION\n"
    "    values = np.asarray(values, dtype=np.float64)\n"
    "    counts = np.zeros(len(edges) - 1, dtype=np.int64)\n"
    "    for i in range(len(edges) - 1):\n"
    "        counts[i] = np.sum((values >= edges[i]) & (values < edges[i + 1]))\n"
    "    return counts\n"
    "    ### END SOLUTION")

# Independently written answers: (task1, task2, task3, task4) per student.
INDEPENDENT = {
    "ind_a": (
        "def square(x):\n    arr = np.array(x, dtype=float)\n    return arr * arr\n",
        "def mean_abs(x):\n    total = 0.0\n    for value in np.ravel(x):\n"
        "        total += abs(float(value))\n    return total / np.size(x)\n",
        "def _center(data):\n    return data - np.mean(data)\n\n"
        "def _spread(data):\n    return np.sqrt(np.mean((data - np.mean(data)) ** 2))\n\n"
        "def standardize(x):\n    data = np.array(x, dtype=float)\n"
        "    return _center(data) / _spread(data)\n",
        "def _which_bin(v, edges):\n    for j in range(len(edges) - 1):\n"
        "        if edges[j] <= v < edges[j + 1]:\n            return j\n    return -1\n\n"
        "def bin_counts(values, edges):\n    out = np.zeros(len(edges) - 1, dtype=np.int64)\n"
        "    for v in np.ravel(values):\n        j = _which_bin(float(v), edges)\n"
        "        if j >= 0:\n            out[j] += 1\n    return out\n"),
    "ind_b": (
        "def square(x):\n    return np.square(np.asarray(x, dtype=np.float64))\n",
        "def mean_abs(x):\n    return float(np.abs(np.asarray(x, dtype=np.float64)).mean())\n",
        "def standardize(x):\n    v = np.asarray(x, dtype=np.float64)\n"
        "    mu, sigma = v.mean(), v.std()\n    return (v - mu) / sigma\n",
        "def bin_counts(values, edges):\n    hist, _ = np.histogram(np.asarray(values), "
        "bins=np.asarray(edges))\n    last = np.asarray(values) == edges[-1]\n"
        "    hist[-1] -= int(np.sum(last))\n    return hist.astype(np.int64)\n"),
    "ind_c": (
        "def square(x):\n    y = np.asarray(x) * 1.0\n    return np.power(y, 2)\n",
        "def mean_abs(x):\n    a = np.absolute(np.asarray(x, dtype=float))\n"
        "    return float(a.sum() / a.size)\n",
        "def standardize(x):\n    x = np.asarray(x, dtype=float)\n    n = x.size\n"
        "    m = x.sum() / n\n    s = np.sqrt(((x - m) ** 2).sum() / n)\n    return (x - m) / s\n",
        "def bin_counts(values, edges):\n"
        "    idx = np.searchsorted(edges, values, side='right') - 1\n"
        "    ok = (idx >= 0) & (idx < len(edges) - 1)\n"
        "    return np.bincount(idx[ok], minlength=len(edges) - 1).astype(np.int64)\n"),
    "ind_d": (
        "def square(x):\n    result = []\n    for item in np.ravel(x):\n"
        "        result.append(float(item) ** 2)\n"
        "    return np.array(result).reshape(np.shape(x))\n",
        "def mean_abs(x):\n    flat = [abs(t) for t in np.asarray(x, dtype=float).ravel()]\n"
        "    return float(sum(flat) / len(flat))\n",
        "def standardize(x):\n    import statistics\n    vals = [float(t) for t in x]\n"
        "    mean = statistics.fmean(vals)\n    sd = statistics.pstdev(vals)\n"
        "    return np.array([(t - mean) / sd for t in vals])\n",
        "def bin_counts(values, edges):\n    counts = [0] * (len(edges) - 1)\n"
        "    for v in values:\n        for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):\n"
        "            if lo <= v < hi:\n                counts[k] += 1\n                break\n"
        "    return np.array(counts, dtype=np.int64)\n"),
    "ind_e": (
        "def square(x):\n    x = np.asarray(x, dtype=np.float64)\n    return x ** 2\n",
        "def mean_abs(x):\n    x = np.asarray(x, dtype=np.float64)\n"
        "    return float(np.mean(np.where(x < 0, -x, x)))\n",
        "def standardize(x):\n    x = np.array(x, dtype=np.float64)\n    x -= x.mean()\n"
        "    x /= np.sqrt(np.mean(x * x))\n    return x\n",
        "def bin_counts(values, edges):\n    values = np.asarray(values, dtype=float)\n"
        "    lower = np.asarray(edges[:-1])[:, None]\n    upper = np.asarray(edges[1:])[:, None]\n"
        "    inside = (values[None, :] >= lower) & (values[None, :] < upper)\n"
        "    return inside.sum(axis=1).astype(np.int64)\n"),
    "ind_f": (
        "def square(x):\n    return np.multiply(x, x, dtype=np.float64)\n",
        "def mean_abs(x):\n    return float(np.linalg.norm(np.ravel(x), 1) / np.size(x))\n",
        "def standardize(x):\n    arr = np.asarray(x, dtype=np.float64)\n"
        "    centred = arr - arr.sum() / len(arr)\n"
        "    return centred / np.sqrt(np.dot(centred, centred) / len(arr))\n",
        "def bin_counts(values, edges):\n    res = np.zeros(len(edges) - 1, dtype=np.int64)\n"
        "    i = 0\n    for v in sorted(values):\n"
        "        while i < len(edges) - 1 and v >= edges[i + 1]:\n            i += 1\n"
        "        if i < len(edges) - 1 and v >= edges[0]:\n            res[i] += 1\n"
        "    return res\n"),
}


def _strip_markers(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if "SOLUTION" not in line) + "\n"


REFERENCE = [_strip_markers(sa.SOLUTIONS[t]) for t in (1, 2, 3)] + [_strip_markers(TASK4_SOLUTION)]


def _rename(code: str) -> str:
    for old, new in (("arr", "a1"), ("total", "acc"), ("value", "elem"), ("data", "xs"),
                     ("_center", "_minus_mean"), ("_spread", "_sd"), ("_which_bin", "_find"),
                     ("out", "tally"), ("edges", "bounds"), (r"\bv\b", "val"), (r"\bj\b", "pos")):
        code = re.sub(old if old.startswith("\\") else rf"\b{old}\b", new, code)
    return code


def _reorder(code: str) -> str:
    blocks = code.strip("\n").split("\n\n")
    return "\n\n".join(blocks[::-1]) + "\n" if len(blocks) > 1 else code


def _recomment(code: str) -> str:
    lines = ["# my own work, honest"]
    for line in code.splitlines():
        lines.append(line.replace(" = ", "=").replace(", ", ",") + "  # step")
        if line.startswith("def "):
            lines.append("    # compute the result below")
    return "\n".join(lines) + "\n\n\n"


COPIES = {
    "copy_renamed": tuple(_rename(c) for c in INDEPENDENT["ind_a"]),
    "copy_reordered": tuple(_reorder(c) for c in INDEPENDENT["ind_a"]),
    "copy_comments": tuple(_recomment(c) for c in INDEPENDENT["ind_a"]),
    # tasks 1-3 written by the student, only task 4 copied from ind_a (renamed)
    "copy_one_task": (
        "def square(x):\n    z = np.asarray(x, dtype=np.float64).copy()\n"
        "    z *= z\n    return z\n",
        "def mean_abs(x):\n    s = 0.0\n    n = 0\n"
        "    for row in np.asarray(x, dtype=float).flat:\n"
        "        s, n = s + (row if row >= 0 else -row), n + 1\n    return float(s / n)\n",
        "def standardize(x):\n    q = np.asarray(x, dtype=np.float64)\n"
        "    return (q - np.average(q)) / np.std(q, ddof=0)\n",
        _rename(INDEPENDENT["ind_a"][3])),
}
REFERENCE_STUDENTS = {
    "ref_1": tuple(REFERENCE),
    "ref_2": tuple("# I followed the lecture\n" + c.replace("    ", "\t") for c in REFERENCE),
}
PLANTED = {frozenset(p) for p in itertools.combinations(["ind_a", "copy_renamed",
                                                         "copy_reordered", "copy_comments"], 2)}
PLANTED |= {frozenset({"copy_one_task", other}) for other in
            ["ind_a", "copy_renamed", "copy_reordered", "copy_comments"]}


def four_task_notebook() -> dict:
    """The small assignment's source notebook with a fourth, longer task."""
    notebook = sa.source_notebook()
    test = ("import numpy as np\n\n_counts = bin_counts([0.1, 0.5, 1.5, 2.5, 9.0], [0, 1, 2, 3])\n"
            "assert type(_counts) is np.ndarray, f'got {type(_counts)}'\n"
            "assert _counts.tolist() == [2, 1, 1], f'got {_counts}'")
    notebook["cells"] += [sa._cell("markdown", "task4_text", "## Task 4 (4 points)"),
                          sa._cell("code", "task4", TASK4_SOLUTION, solution=True),
                          sa._cell("code", "test_task4", test, grade=True, points=4)]
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    from course_utils.instructor.grading.release import release

    root = tmp_path_factory.mktemp("similarity") / "course"
    (root / "solutions" / "sim4").mkdir(parents=True)
    (root / "nbgrader_config.py").write_bytes((sa.REPO_ROOT / "nbgrader_config.py").read_bytes())
    sa.write_notebook(root / "solutions" / "sim4" / "sim4.ipynb", four_task_notebook())
    release(root, ["sim4"])
    released = json.loads((root / "exercises" / "sim4" / "sim4.ipynb").read_text())
    for student, answers in {**INDEPENDENT, **COPIES, **REFERENCE_STUDENTS}.items():
        notebook = copy.deepcopy(released)
        for task, code in enumerate(answers, start=1):
            notebook = sa.with_answer(notebook, task, code)
        sa.write_notebook(root / "submissions" / f"{student}.ipynb", notebook)
    return root


def test_planted_copies_rank_above_independent_answers(course, tmp_path):
    from course_utils.instructor.grading.similarity import (
        answer_cells,
        compare_submissions,
        load_answers,
    )

    answers = load_answers(course / "submissions", "sim4")
    assert set(answers) == set(INDEPENDENT) | set(COPIES) | set(REFERENCE_STUDENTS)
    released = json.loads((course / "exercises" / "sim4" / "sim4.ipynb").read_text())
    reference = answer_cells(json.loads((course / "solutions" / "sim4" / "sim4.ipynb")
                                        .read_text()))
    result = compare_submissions(answers, released, reference, "sim4")
    scores = {frozenset((p.a, p.b)): p.score for p in result.pairs}
    planted = [scores[p] for p in PLANTED]
    independent = {p: s for p, s in scores.items() if p not in PLANTED}
    worst_planted, best_independent = min(planted), max(independent.values())
    assert worst_planted > best_independent, (
        f"lowest planted copy {worst_planted:.2f} vs highest independent pair "
        f"{best_independent:.2f} ({sorted(max(independent, key=independent.get))})")
    # every planted pair is above every other pair in the ranking itself
    top = {frozenset((p.a, p.b)) for p in result.pairs[:len(PLANTED)]}
    assert top == PLANTED
    # the one-task copy is caught by task 4, the task it copied
    one = next(p for p in result.pairs if {p.a, p.b} == {"ind_a", "copy_one_task"})
    assert one.task == "task4", one
    # answers equal to the reference are not evidence: left out, scored as nothing
    ref_pair = next(p for p in result.pairs if {p.a, p.b} == {"ref_1", "ref_2"})
    assert ref_pair.reference == ["task1", "task2", "task3", "task4"]
    assert ref_pair.score == 0.0
    assert sorted(result.equal_to_reference["task3"]) == ["ref_1", "ref_2"]


def test_released_code_alone_is_not_similarity(course):
    from course_utils.instructor.grading.similarity import answer_cells, compare_submissions

    released = json.loads((course / "exercises" / "sim4" / "sim4.ipynb").read_text())
    blank = answer_cells(released, strip_markers=False)
    result = compare_submissions({"x": dict(blank), "y": dict(blank)}, released, {}, "sim4")
    assert result.pairs[0].score == 0.0
    assert all(value is None for value in result.pairs[0].similarity.values())


def test_course_similarity_command_prints_ranking_and_writes_page(course, tmp_path):
    page = tmp_path / "similar.html"
    result = subprocess.run([str(BIN / "course"), "--course-root", str(course), "similarity",
                             "sim4", str(course / "submissions"), "--output", str(page)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[1].split()
    assert first[0] == "1" and frozenset(first[1:3]) in PLANTED, result.stdout
    text = page.read_text()
    assert "<mark>" in text and "=ref" in text and "reference solution" in text
    assert not re.search(r"(src|href)=['\"]?https?:", text)


def test_similarity_needs_two_submissions(course, tmp_path):
    lonely = tmp_path / "one"
    lonely.mkdir()
    (lonely / "ind_a.ipynb").write_bytes((course / "submissions" / "ind_a.ipynb").read_bytes())
    result = subprocess.run([str(BIN / "course"), "--course-root", str(course), "similarity",
                             "sim4", str(lonely)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "at least 2 submissions" in result.stderr
