"""`course export`: Canvas and Moodle import columns, roster mapping, nobody dropped."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor.grading.lms_export import (
    CANVAS_COLUMNS,
    MOODLE_COLUMNS,
    export_grades,
    read_roster,
)
from course_utils.instructor.grading.report import Row, write_grades_csv

BIN = Path(sys.executable).parent

GRADES = {"s001": (10.0, {"t1": 2.0, "t2": 8.0}), "s002": (2.5, {"t1": 2.0, "t2": 0.5}),
          "s003": (0.0, {"t1": 0.0, "t2": 0.0}), "late": (7.0, {"t1": 2.0, "t2": 5.0})}

# An LMS roster (as Canvas' gradebook export has them) with the course's ids added.
ROSTER = [
    {"student": "s001", "Student": "Lovelace, Ada", "ID": "9001", "SIS User ID": "u-1",
     "SIS Login ID": "ada@uni.example", "Section": "A", "First name": "Ada",
     "Last name": "Lovelace", "ID number": "100001", "Email address": "ada@uni.example"},
    {"student": "s002", "Student": "Turing, Alan", "ID": "9002", "SIS User ID": "u-2",
     "SIS Login ID": "alan@uni.example", "Section": "B", "First name": "Alan",
     "Last name": "Turing", "ID number": "100002", "Email address": "alan@uni.example"},
    {"student": "s003", "Student": "Hopper, Grace", "ID": "9003", "SIS User ID": "u-3",
     "SIS Login ID": "grace@uni.example", "Section": "A", "First name": "Grace",
     "Last name": "Hopper", "ID number": "100003", "Email address": "grace@uni.example"},
    {"student": "absent", "Student": "Noether, Emmy", "ID": "9004", "SIS User ID": "u-4",
     "SIS Login ID": "emmy@uni.example", "Section": "B", "First name": "Emmy",
     "Last name": "Noether", "ID number": "100004", "Email address": "emmy@uni.example"},
]


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    grades = tmp_path / "grades.csv"
    rows = [Row(s, score, 10.0, "graded", "", tasks=tasks) for s, (score, tasks) in GRADES.items()]
    write_grades_csv(grades, "a1", rows, tasks=("t1", "t2"))
    write_grades_csv(grades, "a2", [Row("s001", 1.0, 1.0, "graded", "")], tasks=("u1",))
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8-sig") as handle:  # with a BOM, as Excel
        writer = csv.DictWriter(handle, fieldnames=list(ROSTER[0]))
        writer.writeheader()
        writer.writerows(ROSTER)
    return grades, roster


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_canvas_columns_and_round_trip(files, tmp_path):
    grades, roster = files
    result = export_grades(grades, "a1", "canvas", tmp_path / "c.csv", roster=roster,
                           column_title="Assignment 1 (4711)")
    table = _read(tmp_path / "c.csv")
    assert table[0] == CANVAS_COLUMNS + ["Assignment 1 (4711)"]
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert table[1][0] == "Points Possible" and table[1][-1] == "10"
    back = {row[3]: row[-1] for row in table[2:]}  # by SIS Login ID
    assert back == {"ada@uni.example": "10", "alan@uni.example": "2.5",
                    "grace@uni.example": "0"}
    # round trip: LMS id -> roster -> course id -> the grade in grades.csv
    people, _ = read_roster(roster)
    by_login = {entry["SIS Login ID"]: student for student, entry in people.items()}
    assert {by_login[login]: float(score) for login, score in back.items()} == {
        s: GRADES[s][0] for s in ("s001", "s002", "s003")}
    assert result.not_in_roster == ["late"] and result.not_graded == ["absent"]
    assert sorted(result.written) == ["s001", "s002", "s003"]


def test_moodle_columns_and_round_trip(files, tmp_path):
    grades, roster = files
    result = export_grades(grades, "a1", "moodle", tmp_path / "m.csv", roster=roster)
    table = _read(tmp_path / "m.csv")
    assert table[0] == MOODLE_COLUMNS + ["a1"]
    assert table[0][:4] == ["First name", "Last name", "ID number", "Email address"]
    people, _ = read_roster(roster)
    by_number = {entry["ID number"]: student for student, entry in people.items()}
    assert {by_number[row[2]]: float(row[-1]) for row in table[1:]} == {
        s: GRADES[s][0] for s in ("s001", "s002", "s003")}
    assert result.not_in_roster == ["late"] and result.not_graded == ["absent"]


def test_plain_csv_keeps_everyone_and_the_task_columns(files, tmp_path):
    grades, _ = files
    result = export_grades(grades, "a1", "csv", tmp_path / "p.csv")
    table = _read(tmp_path / "p.csv")
    assert table[0] == ["student", "score", "max_score", "status", "t1", "t2"]
    assert {row[0]: row[1:] for row in table[1:]}["s002"] == ["2.5", "10", "graded", "2", "0.5"]
    assert sorted(result.written) == sorted(GRADES) and result.not_in_roster == []


def test_command_lists_missing_students_and_fails(files, tmp_path):
    grades, roster = files
    (tmp_path / "nbgrader_config.py").write_text("")
    target = tmp_path / "canvas.csv"
    run = subprocess.run([str(BIN / "course"), "--course-root", str(tmp_path), "export", "a1",
                          "--format", "canvas", "--roster", str(roster), "-o", str(target)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "not in the roster" in run.stderr and "late" in run.stderr
    assert "no grade for a1: absent" in run.stderr
    assert "wrote 3 students' grades" in run.stdout and target.is_file()


def test_clear_errors(files, tmp_path):
    grades, roster = files
    with pytest.raises(ValueError, match="needs --roster"):
        export_grades(grades, "a1", "canvas", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="no rows for assignment 'zz'"):
        export_grades(grades, "zz", "csv", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="no column 'login'"):
        export_grades(grades, "a1", "moodle", tmp_path / "x.csv", roster=roster,
                      id_column="login")
    twice = tmp_path / "twice.csv"
    twice.write_text("student,ID number\ns001,1\ns001,2\n")
    with pytest.raises(ValueError, match="lists student 's001' twice"):
        read_roster(twice)
    bare = tmp_path / "bare.csv"
    bare.write_text("student,Section\ns001,A\n")
    with pytest.raises(ValueError, match="can identify a student by"):
        export_grades(grades, "a1", "moodle", tmp_path / "x.csv", roster=bare)
