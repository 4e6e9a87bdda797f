"""Every assignment's round trip and answer bank, graded by `course grade`.

One batch per assignment: the solution (full marks), the blank release (0)
and every entry of ``tests/grading/answer_bank/<assignment>.py`` (the points
it states per task), graded as a class with ``--jobs 2`` through the
production path: sandbox, repair, redaction, merge into the gradebook.
"""

from __future__ import annotations

import csv

import pytest

from course_utils.instructor.grading.notebook_facts import copy_course
from tests.grading.answer_bank import build_batch, graded_cells
from tests.grading.conftest import run_course_grade
from tests.notebook_tools import REPO_ROOT, assignment_ids

# Assignments that grade a training run against a time budget are graded one
# submission at a time, as an instructor should grade them (README): two
# kernels sharing two cores would each train for half the epochs.
JOBS = {"ch10_practical_guidelines": "1"}


def _banked() -> list[str]:
    return [a for a in assignment_ids()
            if (REPO_ROOT / "tests" / "grading" / "answer_bank" / f"{a}.py").is_file()]


def test_every_assignment_has_a_bank():
    missing = sorted(set(assignment_ids()) - set(_banked()))
    assert not missing, f"no answer bank for {missing} (tests/grading/answer_bank/<id>.py)"


@pytest.mark.grade
@pytest.mark.parametrize("assignment", assignment_ids())
def test_bank_grades_as_expected_through_course_grade(assignment, tmp_path):
    course = tmp_path / "course"
    copy_course(REPO_ROOT, course, [assignment])
    expected = build_batch(assignment, tmp_path / "submissions")

    run = run_course_grade(course, tmp_path / "submissions", "--jobs", JOBS.get(assignment, "2"),
                           assignment=assignment, timeout=3000)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    with (course / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)
                if row["assignment"] == assignment}
    tasks = list(graded_cells(assignment))
    problems = []
    for student, (points, members) in expected.items():
        row = rows.get(student)
        if row is None:
            problems.append(f"{student}: missing from grades.csv")
            continue
        got = {task: float(row[task]) for task in tasks}
        if got != points:
            wrong = {t: (got[t], points[t]) for t in tasks if got[t] != points[t]}
            holds = "; ".join(f"{m.kind} {m.name!r} in {m.cell}" for m in members)
            problems.append(f"{student} ({holds or 'no entry'}): (got, expected) per task "
                            f"{wrong}; status {row['status']}: {row['message'][:300]}")
    assert not problems, f"{assignment}: {len(problems)} of {len(expected)} graded wrongly:\n" \
        + "\n".join(problems)


def test_packing_keeps_outcomes_apart():
    """Packed entries never share an answer cell, a kind, or a test cell they are judged by."""
    from tests.grading.answer_bank import _watched, load_bank, pack_entries

    for assignment in _banked():
        entries = load_bank(assignment)
        packs = pack_entries(assignment, entries)
        assert sorted(e.student for pack in packs for e in pack) == \
            sorted(e.student for e in entries)
        for pack in packs:
            assert len({e.kind for e in pack}) == 1
            assert len({e.cell for e in pack}) == len(pack)
            watched = [t for e in pack for t in _watched(assignment, e)]
            assert len(watched) == len(set(watched)), (assignment, [e.name for e in pack])
