"""Issue 9: one `course grade` run over every kind of bad submission.

The whole batch is graded once (sandbox on, the default) on the small
generated assignment; each case then checks its own student's score, status
and message, the gradebook, the feedback and that the originals are unchanged.
"""

from __future__ import annotations

import csv
import html
import json
import re

import pytest

from tests.grading.cases import CELL_TIMEOUT, MEMORY_MB, build_cases, write_cases
from tests.grading.conftest import copy_course, gradebook_scores, run_course_grade, tree_state
from tests.grading.small_assignment import MAX_SCORE, hidden_test_lines, solution_notebook

pytestmark = pytest.mark.grade  # every test here runs `course grade`

CASES_PLACEHOLDER = [
    "correct", "blank", "partial", "syntax_error", "import_error", "infinite_loop",
    "corrupt_json", "not_a_notebook", "empty_file", "wrong_name", "edited_tests",
    "deleted_test", "reordered", "duplicated", "os_exit", "killed", "memory_hog",
    "huge_output", "warnings",
]


@pytest.fixture(scope="module")
def batch(small_course_template, tmp_path_factory):
    """The course, the cases, the original files' state and the grading run."""
    root = tmp_path_factory.mktemp("bad-batch")
    course = copy_course(small_course_template, root / "course")
    cases = build_cases(course)
    submitted = root / "submissions" / "submitted"
    write_cases(cases, submitted)
    before = tree_state(submitted)
    run = run_course_grade(course, submitted.parent, "--timeout", str(CELL_TIMEOUT),
                           "--memory-mb", str(MEMORY_MB), "--jobs", "2", timeout=1200)
    return {"course": course, "cases": cases, "submitted": submitted, "before": before,
            "run": run}


def test_the_cases_list_is_complete(batch):
    assert sorted(batch["cases"]) == sorted(CASES_PLACEHOLDER)


def test_the_command_succeeds_and_prints_a_table(batch):
    run = batch["run"]
    assert run.returncode == 0, f"course grade failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    header = run.stdout.splitlines()[0].split()
    assert header == ["student", "score", "test_task1", "test_task2", "test_task3", "status",
                      "message"], run.stdout
    for student in batch["cases"]:
        assert re.search(rf"^{student}\s+\d+ / 10\s", run.stdout, re.MULTILINE), (
            f"{student} missing from the table:\n{run.stdout}")
    assert "WARNING" not in run.stderr, "the sandbox is on: no --no-sandbox warning expected"


@pytest.mark.parametrize("student", CASES_PLACEHOLDER)
def test_each_case_gets_its_score_and_status(batch, student):
    case = batch["cases"][student]
    row = batch["run"].rows().get(student)
    assert row is not None, f"{student} not in the report: {batch['run'].stdout}"
    assert (row["score"], row["status"]) == (case.score, case.status), (
        f"{student}: expected {case.score} / {case.status}, got {row['score']} / "
        f"{row['status']} ({row['message']})")
    assert row["max_score"] == MAX_SCORE
    assert case.message in row["message"], (
        f"{student}: expected {case.message!r} in the message, got {row['message']!r}")


def test_gradebook_holds_every_students_score(batch):
    scores = gradebook_scores(batch["course"])
    expected = {student: case.score for student, case in batch["cases"].items()}
    assert {s: v["score"] for s, v in scores.items()} == expected
    assert all(v["max_score"] == MAX_SCORE for v in scores.values())


def test_grades_csv_matches_the_report(batch):
    with (batch["course"] / "grades.csv").open(newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(batch["cases"])
    for student, case in batch["cases"].items():
        assert float(rows[student]["score"]) == case.score, student
        assert rows[student]["status"] == case.status
        assert rows[student]["assignment"] == "small"


def test_originals_are_byte_identical(batch):
    assert tree_state(batch["submitted"]) == batch["before"]


def test_feedback_has_scores_and_visible_tests_but_no_hidden_tests(batch):
    hidden = hidden_test_lines(solution_notebook(batch["course"]))
    assert len(hidden) >= 6
    feedback = sorted((batch["course"] / "feedback").rglob("*.html"))
    graded = [s for s, c in batch["cases"].items() if c.status != "unreadable"]
    assert sorted(p.parts[-3] for p in feedback) == sorted(graded)
    for path in feedback:
        text = _visible_text(path.read_text())
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path}: hidden-test source in the feedback: {leaked[:3]}"
        assert "_hidden_check" not in text, f"{path}: a hidden-test name leaked"
    correct = _visible_text(
        (batch["course"] / "feedback" / "correct" / "small" / "small.html").read_text())
    assert "square: visible test passed" in correct
    assert "_result = square(_x)" in correct, "the visible test's source is missing"
    assert "small (Score: 10.0 / 10.0)" in correct
    partial = _visible_text(
        (batch["course"] / "feedback" / "partial" / "small" / "small.html").read_text())
    assert "small (Score: 7.0 / 10.0)" in partial
    assert "NotImplementedError" in partial, "a failing test's error must be shown"


def test_the_report_records_where_the_time_went(batch):
    from course_utils.instructor.grading.job import PHASES

    report = batch["run"].report
    assert {"template", "grading", "merge"} <= set(report["batch_phases"])
    for student, row in batch["run"].rows().items():
        expected = {"ingest", "merge"} if row["status"] == "unreadable" else set(PHASES)
        assert expected <= set(row["phases"]), (student, row["phases"])
        assert all(value >= 0 for value in [*row["phases"].values(), *row["cpu"].values()])
        if row["status"] == "graded":
            assert row["phases"]["execution"] > 0 and row["phases"]["kernel_start"] > 0


def _visible_text(page: str) -> str:
    """The text of an HTML page: tags removed (code is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_huge_output_is_truncated_in_the_graded_copy(batch):
    path = batch["course"] / "autograded" / "huge_output" / "small" / "small.ipynb"
    assert path.stat().st_size < 300_000, f"graded copy is {path.stat().st_size:,} bytes"
    notebook = json.loads(path.read_text())
    text = json.dumps(notebook)
    assert "output truncated" in text or "output removed" in text


def test_duplicated_cell_graded_the_last_copy(batch):
    cells = gradebook_scores(batch["course"])["duplicated"]["cells"]
    assert cells == {"test_task1": 2.0, "test_task2": 3.0, "test_task3": 5.0}


def test_the_audit_flags_process_control_only(batch):
    rows = batch["run"].rows()
    assert "os._exit" in rows["os_exit"]["audit"]
    assert "os.kill" in rows["killed"]["audit"]
    flagged = sorted(student for student, row in rows.items() if row["audit"])
    assert flagged == ["killed", "os_exit"], "honest submissions must not be flagged"
    assert rows["os_exit"]["score"] == batch["cases"]["os_exit"].score, "audit never scores"
