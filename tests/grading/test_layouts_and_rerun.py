"""`course grade`: the three input layouts, --output, re-runs, --force and clear errors."""

from __future__ import annotations

import csv
import json
import zipfile

import pytest

from tests.grading.conftest import gradebook_scores, run_course_grade, tree_state
from tests.grading.small_assignment import (
    POINTS,
    SOLUTIONS,
    release_notebook,
    solution_notebook,
    with_answer,
    write_notebook,
)

pytestmark = pytest.mark.grade  # every test here runs `course grade`


def _raw_rows(course, student):
    """The gradebook's grade rows of a student, with ids (to see they are untouched)."""
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute(
            "SELECT grade.id, grade.auto_score, grade.manual_score FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = "
            "submitted_assignment.id WHERE submitted_assignment.student_id = ? "
            "ORDER BY grade.id", (student,)).fetchall()


def test_flat_folder_output_dir_rerun_and_force(small_course, tmp_path):
    folder = tmp_path / "class"
    partial = with_answer(release_notebook(small_course), 1, SOLUTIONS[1])
    write_notebook(folder / "alice.ipynb", solution_notebook(small_course))
    write_notebook(folder / "bob.ipynb", partial)
    output = tmp_path / "out"

    first = run_course_grade(small_course, folder, "--jobs", "2", output=output)
    assert first.returncode == 0, first.stderr[-3000:]
    assert {s: r["score"] for s, r in first.rows().items()} == {"alice": 10.0,
                                                                "bob": float(POINTS[1])}
    assert (output / "grades.csv").is_file() and (output / "feedback" / "bob" / "small"
                                                 / "small.html").is_file()
    assert not (small_course / "grades.csv").exists(), "--output must hold grades.csv"
    alice_rows = _raw_rows(small_course, "alice")
    assert len(alice_rows) == 3

    again = run_course_grade(small_course, folder, output=output)
    assert again.returncode == 0
    assert again.report["graded"] == 0 and "2 unchanged" in again.stdout
    assert [r["skipped"] for r in again.report["rows"]] == [True, True]

    before = tree_state(folder)
    write_notebook(folder / "bob.ipynb", with_answer(partial, 2, SOLUTIONS[2]))
    changed = run_course_grade(small_course, folder, output=output)
    assert changed.report["graded"] == 1, changed.stdout
    assert changed.rows()["bob"]["score"] == float(POINTS[1] + POINTS[2])
    assert _raw_rows(small_course, "alice") == alice_rows, "alice's record changed"
    assert tree_state(folder)["alice.ipynb"] == before["alice.ipynb"]

    forced = run_course_grade(small_course, folder, "--force", output=output)
    assert forced.report["graded"] == 2
    assert gradebook_scores(small_course)["bob"]["score"] == float(POINTS[1] + POINTS[2])
    with (output / "grades.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["student"], r["score"]) for r in rows] == [("alice", "10"), ("bob", "5")]


def test_lms_zip_without_sandbox_warns(small_course, tmp_path):
    archive = tmp_path / "export.zip"
    solution = json.dumps(solution_notebook(small_course))
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("carol_1234_assignsubmission_file_/notebook.ipynb", solution)
        handle.writestr("dave.ipynb", json.dumps(release_notebook(small_course)))
        handle.writestr("__MACOSX/._dave.ipynb", b"\x00\x05junk")
    before = archive.read_bytes()
    run = run_course_grade(small_course, archive, "--no-sandbox", "--jobs", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "--no-sandbox" in run.stderr and "WARNING" in run.stderr
    assert {s: r["score"] for s, r in run.rows().items()} == {
        "carol_1234_assignsubmission_file": 10.0, "dave": 0.0}
    assert archive.read_bytes() == before


def test_clear_errors_for_bad_arguments(small_course, tmp_path):
    missing = run_course_grade(small_course, tmp_path / "nowhere", timeout=300)
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr and "Expected a folder" in missing.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no notebooks here")
    nothing = run_course_grade(small_course, empty, timeout=300)
    assert nothing.returncode == 2 and "No submissions of 'small'" in nothing.stderr
    assert "notes.txt" in nothing.stderr

    write_notebook(tmp_path / "one" / "erin.ipynb", solution_notebook(small_course))
    unknown = run_course_grade(small_course, tmp_path / "one", assignment="nope", timeout=300)
    assert unknown.returncode == 2 and "Unknown assignment 'nope'" in unknown.stderr


def test_missing_bubblewrap_says_how_to_install_it(small_course, tmp_path):
    write_notebook(tmp_path / "one" / "erin.ipynb", solution_notebook(small_course))
    run = run_course_grade(small_course, tmp_path / "one", timeout=300,
                           env={"COURSE_SANDBOX_BWRAP": str(tmp_path / "no-bwrap-here")})
    assert run.returncode == 2
    assert "apt-get install bubblewrap" in run.stderr and "--no-sandbox" in run.stderr
    assert not (small_course / "gradebook.db").exists(), "nothing is graded without a sandbox"
