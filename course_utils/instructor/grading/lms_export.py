"""``course export``: an assignment's grades in the import format of an LMS.

Three formats:

``canvas``
    Canvas' gradebook import CSV: the identity columns ``Student``, ``ID``,
    ``SIS User ID``, ``SIS Login ID``, ``Section`` (as Canvas' own gradebook
    export writes them), a ``Points Possible`` row, then one column for the
    assignment, its header the assignment's name (Canvas creates the
    assignment if no column of that name exists; ``Name (1234)`` updates the
    assignment with Canvas id 1234).
``moodle``
    Moodle's CSV grade import: ``First name``, ``Last name``, ``ID number``,
    ``Email address`` (the columns of Moodle's plain-text grade export) and one
    grade column. On import, map ``ID number`` to ``useridnumber`` (or
    ``Email address`` to ``useremail``) and the grade column to the grade item.
``csv``
    A plain CSV: ``student``, the LMS id (if a roster is given), ``score``,
    ``max_score``, ``status`` and one column per task.

The course's student ids (nbgrader's) rarely equal the LMS's. A roster CSV
maps them: it has a column holding the course's id (``student``, or the one
named with ``--id-column``) and the LMS's identity columns. It can be the LMS's
own gradebook export with a ``student`` column added. Students graded but
missing from the roster, and students on the roster without a grade, are
listed on stderr and in the return value, never silently dropped: a graded
student without a roster entry gets no row in a Canvas/Moodle file (the LMS
could not match it), so the command exits with status 1 to make it noticed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CANVAS_COLUMNS", "MOODLE_COLUMNS", "ExportResult", "read_grades", "read_roster",
           "export_grades", "add_arguments", "run"]

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
"""The identity columns of Canvas' gradebook CSV, in its order."""

MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]
"""The identity columns of Moodle's plain-text grade export used by its CSV import."""

_ID_COLUMNS = {"canvas": CANVAS_COLUMNS, "moodle": MOODLE_COLUMNS}


@dataclass
class ExportResult:
    """What an export wrote and whom it could not match.

    Attributes:
        path: The file written.
        written: Course student ids with a row in the file.
        not_in_roster: Graded students with no roster entry.
        not_graded: Roster entries (course ids) with no grade for the assignment.
    """

    path: Path
    written: list[str] = field(default_factory=list)
    not_in_roster: list[str] = field(default_factory=list)
    not_graded: list[str] = field(default_factory=list)


def read_grades(path: Path, assignment: str) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of ``assignment`` in ``grades.csv`` and its task columns.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if it has no row for the assignment.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no grades file at {path} (run `course grade` first)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = [row for row in reader if row.get("assignment") == assignment]
    if not rows:
        raise ValueError(f"{path} has no rows for assignment {assignment!r}")
    from course_utils.instructor.grading.report import CSV_COLUMNS

    tasks = [name for name in columns if name not in CSV_COLUMNS
             and any(row.get(name) not in (None, "") for row in rows)]
    return rows, tasks


def read_roster(path: Path, id_column: str | None = None) -> tuple[dict[str, dict], str]:
    """Reads a roster CSV: course student id -> the row (column -> value).

    Args:
        path: The roster file (UTF-8, a byte-order mark is fine).
        id_column: The column holding the course's student ids; default
            ``student``.

    Returns:
        The mapping and the id column's name.

    Raises:
        ValueError: if the column is missing or an id occurs twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no roster file at {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        key = id_column or "student"
        if key not in columns:
            raise ValueError(f"the roster {path} has no column {key!r} holding the course's "
                             f"student ids; its columns are {columns}. Add one, or name it "
                             "with --id-column.")
        roster: dict[str, dict] = {}
        for number, row in enumerate(reader, start=2):
            student = (row.get(key) or "").strip()
            if not student:
                continue
            if student in roster:
                raise ValueError(f"the roster {path} lists student {student!r} twice "
                                 f"(line {number})")
            roster[student] = {name: (value or "").strip() for name, value in row.items()
                               if name is not None}
    return roster, key


def _canvas_title(assignment: str, canvas_id: str | None) -> str:
    return f"{assignment} ({canvas_id})" if canvas_id else assignment


def export_grades(grades: Path, assignment: str, fmt: str, target: Path,
                  roster: Path | None = None, id_column: str | None = None,
                  column_title: str | None = None) -> ExportResult:
    """Writes ``assignment``'s grades from ``grades`` in an LMS's import format.

    Args:
        grades: The course's ``grades.csv``.
        assignment: The assignment id.
        fmt: ``"canvas"``, ``"moodle"`` or ``"csv"``.
        target: The file to write.
        roster: The roster CSV (required for ``canvas`` and ``moodle``).
        id_column: The roster's column holding the course's student ids.
        column_title: The grade column's header (default: the assignment id;
            for Canvas ``Name (id)`` targets an existing assignment).

    Returns:
        An :class:`ExportResult` naming whom the file covers and whom not.

    Raises:
        ValueError: on an unknown format or a missing roster.
    """
    if fmt not in ("canvas", "moodle", "csv"):
        raise ValueError(f"--format must be canvas, moodle or csv, received {fmt!r}")
    if fmt != "csv" and roster is None:
        raise ValueError(f"--format {fmt} needs --roster: a CSV mapping the course's student "
                         f"ids to the LMS's columns {_ID_COLUMNS[fmt]}")
    rows, tasks = read_grades(grades, assignment)
    by_student = {row["student"]: row for row in rows}
    people, key = read_roster(roster, id_column) if roster is not None else ({}, "student")
    if fmt != "csv":
        absent = [name for name in _ID_COLUMNS[fmt]
                  if not any(name in entry for entry in people.values())]
        needed = {"canvas": {"ID", "SIS User ID", "SIS Login ID"},
                  "moodle": {"ID number", "Email address"}}[fmt]
        if needed <= set(absent):
            raise ValueError(f"the roster {roster} has none of the columns {sorted(needed)} "
                             f"that {fmt} can identify a student by")
    result = ExportResult(Path(target))
    result.not_in_roster = sorted(s for s in by_student if roster is not None
                                  and s not in people)
    result.not_graded = sorted(s for s in people if s not in by_student)
    title = column_title or assignment
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if fmt == "canvas":
            writer.writerow(CANVAS_COLUMNS + [title])
            max_score = next(iter(by_student.values()))["max_score"]
            writer.writerow(["Points Possible", "", "", "", "", max_score])
            for student, entry in people.items():
                if student in by_student:
                    writer.writerow([entry.get(name, "") for name in CANVAS_COLUMNS]
                                    + [by_student[student]["score"]])
                    result.written.append(student)
        elif fmt == "moodle":
            writer.writerow(MOODLE_COLUMNS + [title])
            for student, entry in people.items():
                if student in by_student:
                    writer.writerow([entry.get(name, "") for name in MOODLE_COLUMNS]
                                    + [by_student[student]["score"]])
                    result.written.append(student)
        else:
            lms = [key] if roster is not None else []
            writer.writerow(["student", *(["roster_" + key] if lms else []), "score",
                             "max_score", "status", *tasks])
            for student in sorted(by_student):
                row = by_student[student]
                extra = [people.get(student, {}).get(key, "")] if lms else []
                writer.writerow([student, *extra, row["score"], row["max_score"],
                                 row.get("status", ""), *(row.get(t, "") for t in tasks)])
                result.written.append(student)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the ``export`` subcommand's arguments to ``parser``."""
    parser.add_argument("assignment", help="the assignment id")
    parser.add_argument("--format", required=True, choices=["canvas", "moodle", "csv"],
                        dest="fmt", help="the LMS import format")
    parser.add_argument("--roster", default=None, metavar="FILE",
                        help="CSV mapping the course's student ids (column 'student') to the "
                        "LMS's identity columns (required for canvas and moodle)")
    parser.add_argument("--id-column", default=None, metavar="NAME",
                        help="the roster's column holding the course's student ids "
                        "(default: student)")
    parser.add_argument("--grades", default=None, metavar="FILE",
                        help="grades.csv to read (default: the course folder's)")
    parser.add_argument("--title", default=None,
                        help="the grade column's header (default: the assignment id; "
                        "for Canvas, 'Name (id)' updates an existing assignment)")
    parser.add_argument("--output", "-o", default=None, metavar="FILE",
                        help="the file to write (default: <assignment>-<format>.csv)")


def run(args: argparse.Namespace, root: Path) -> int:
    """Runs ``course export``; returns 1 if some graded student has no row."""
    grades = Path(args.grades) if args.grades else root / "grades.csv"
    target = Path(args.output) if args.output else Path(f"{args.assignment}-{args.fmt}.csv")
    result = export_grades(grades, args.assignment, args.fmt, target,
                           roster=Path(args.roster) if args.roster else None,
                           id_column=args.id_column, column_title=args.title)
    print(f"wrote {len(result.written)} students' grades to {result.path}")
    if result.not_in_roster:
        print(f"course export: {len(result.not_in_roster)} graded students are not in the "
              f"roster and have NO row in {result.path}: " + ", ".join(result.not_in_roster),
              file=sys.stderr)
    if result.not_graded:
        print(f"course export: {len(result.not_graded)} students in the roster have no grade "
              f"for {args.assignment}: " + ", ".join(result.not_graded), file=sys.stderr)
    return 1 if result.not_in_roster else 0
