"""The bad-submission cases of issue 9, built from the small course's notebooks.

Each case is one student in nbgrader's ``submitted/<student>/<assignment>/``
layout, with the score and status grading must give. Nothing is a committed
binary fixture: every notebook is derived from the solution or the release.
"""

from __future__ import annotations

import copy
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.grading.small_assignment import (
    POINTS,
    SOLUTIONS,
    release_notebook,
    solution_notebook,
    with_answer,
)

MEMORY_MB = 2048
"""The memory limit the batch runs with (``--memory-mb``)."""

CELL_TIMEOUT = 5
"""The per-cell time limit the batch runs with (``--timeout``)."""


@dataclass(frozen=True)
class Case:
    """A student's submission and what grading must give.

    Attributes:
        files: File name in the student's assignment folder -> bytes.
        score: Expected score.
        status: Expected status word.
        message: A substring the report's message must contain ("" for any).
    """

    files: dict[str, bytes]
    score: float
    status: str
    message: str = ""


def _dump(notebook: dict) -> bytes:
    return json.dumps(notebook, indent=1).encode()


def _cells(notebook: dict) -> list[dict]:
    return notebook["cells"]


def _index(notebook: dict, grade_id: str) -> int:
    for index, cell in enumerate(_cells(notebook)):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


def _png() -> bytes:
    """A valid 1x1 PNG (a file that is not a notebook)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def _answer(task: int, extra_body: str = "", before: str = "") -> str:
    """The solution of ``task`` with lines added before the def or inside the body."""
    lines = SOLUTIONS[task].splitlines()
    body = [f"    {line}" for line in extra_body.splitlines()]
    return "\n".join([*before.splitlines(), lines[0], *body, *lines[1:]])


def build_cases(course: Path, assignment: str = "small") -> dict[str, Case]:
    """Every case of issue 9 for the small course at ``course``."""
    solution = solution_notebook(course, assignment)
    release = release_notebook(course, assignment)
    full = float(sum(POINTS.values()))
    name = f"{assignment}.ipynb"

    def one(notebook: dict) -> dict[str, bytes]:
        return {name: _dump(notebook)}

    partial = with_answer(with_answer(release, 1, SOLUTIONS[1]), 3, SOLUTIONS[3])

    edited = copy.deepcopy(release)
    for cell in _cells(edited):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell["source"] = "print('all good')"

    deleted = with_answer(solution, 3, "def standardize(x):\n    return x")
    del _cells(deleted)[_index(deleted, "test_task3")]

    reordered = copy.deepcopy(solution)
    start2, start3 = _index(reordered, "task2_text"), _index(reordered, "task3_text")
    block2 = _cells(reordered)[start2:start3]
    block3 = _cells(reordered)[start3:start3 + 3]
    reordered["cells"] = _cells(reordered)[:start2] + block3 + block2 + \
        _cells(reordered)[start3 + 3:]

    duplicated = copy.deepcopy(solution)
    index = _index(duplicated, "task2")
    wrong = copy.deepcopy(_cells(duplicated)[index])
    wrong["source"] = "def mean_abs(x):\n    return 0.0"
    _cells(duplicated).insert(index, wrong)  # same cell id and grade_id, earlier

    warn = ("import warnings\n"
            "warnings.warn('this API is deprecated', DeprecationWarning)\n"
            "import sys\n"
            "print('2026-01-01 00:00:00.000000: I tensorflow/core/util/port.cc:153] "
            "oneDNN custom operations are on.', file=sys.stderr)")
    huge = ("print('x' * 3_000_000)\n"
            "from IPython.display import HTML, display\n"
            "display(HTML('<b>big</b>' * 300_000))")
    hog = ("import numpy as np\n"
           "_blocks = []\n"
           "for _ in range(64):\n"
           "    _blocks.append(np.empty(10**8))  # 800 MB of address space each\n")

    return {
        "correct": Case(one(solution), full, "graded", "all tests passed"),
        "blank": Case(one(release), 0.0, "graded", "NotImplementedError"),
        "partial": Case(one(partial), float(POINTS[1] + POINTS[3]), "graded", "test_task2"),
        "syntax_error": Case(one(with_answer(solution, 2, "def mean_abs(x)\n    return 1.0")),
                             full - POINTS[2], "graded", "SyntaxError"),
        "import_error": Case(one(with_answer(solution, 1, _answer(
            1, before="import a_module_that_does_not_exist"))),
            full - POINTS[1], "graded", "ModuleNotFoundError"),
        "infinite_loop": Case(one(with_answer(solution, 2, "while True:\n    pass")),
                              full - POINTS[2], "timed out", "timed out in task2"),
        "corrupt_json": Case({name: _dump(solution)[:200]}, 0.0, "unreadable", "not valid JSON"),
        "not_a_notebook": Case({name: _png()}, 0.0, "unreadable", "not a notebook"),
        "empty_file": Case({name: b""}, 0.0, "unreadable", "empty file"),
        "wrong_name": Case({"my homework (final).ipynb": _dump(solution)}, full, "graded",
                           "as small.ipynb"),
        "edited_tests": Case(one(edited), 0.0, "graded", "test_task1"),
        "deleted_test": Case(one(deleted), float(POINTS[1] + POINTS[2]), "graded",
                             "test_task3"),
        "reordered": Case(one(reordered), full, "graded", "all tests passed"),
        "duplicated": Case(one(duplicated), full, "graded", "duplicated cell(s) task2"),
        "os_exit": Case(one(with_answer(solution, 2, _answer(
            2, before="import os\nos._exit(1)"))), float(POINTS[1]), "kernel died",
            "kernel died during cell task2"),
        "killed": Case(one(with_answer(solution, 3, _answer(
            3, before="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))),
            float(POINTS[1] + POINTS[2]), "kernel died", "kernel died during cell task3"),
        "memory_hog": Case(one(with_answer(solution, 2, hog + SOLUTIONS[2])),
                           full - POINTS[2], "graded", "MemoryError"),
        "huge_output": Case(one(with_answer(solution, 1, huge + "\n" + SOLUTIONS[1])), full,
                            "graded", "truncated"),
        "warnings": Case(one(with_answer(solution, 1, _answer(1, extra_body=warn))), full,
                         "graded", "all tests passed"),
    }


def write_cases(cases: dict[str, Case], submitted: Path, assignment: str = "small") -> None:
    """Writes the cases in nbgrader's layout: ``submitted/<student>/<assignment>/``."""
    for student, case in cases.items():
        folder = submitted / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
