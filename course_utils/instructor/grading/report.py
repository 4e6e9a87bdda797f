"""The grading report: the table on screen, ``grades.csv`` and the re-run state.

``grades.csv`` has one row per (assignment, student); grading one assignment
replaces its rows and keeps the other assignments' rows, so one file holds
the whole course. The state file remembers a hash of each graded submission
so that a re-run grades only new or changed ones.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Row", "submission_digest", "format_table", "write_grades_csv", "State"]

CSV_COLUMNS = ["assignment", "student", "score", "max_score", "status", "message", "audit"]


@dataclass
class Row:
    """One line of the report.

    Attributes:
        student: The student id.
        score: Points earned.
        max_score: Points possible.
        status: The grading status word (see ``job.Status``).
        message: What happened, in one line.
        audit: The static audit's findings, ``"; "``-joined (empty if none).
        skipped: True when the submission was unchanged and not regraded.
        grader: ``host:pid`` of the grading process (empty when skipped).
        tasks: Points earned per graded cell (grade id -> points), in the
            notebook's order; a cell that did not run earns 0.
    """

    student: str
    score: float
    max_score: float
    status: str
    message: str
    audit: str = ""
    skipped: bool = False
    grader: str = ""
    tasks: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-friendly dict (for the state file)."""
        return {"student": self.student, "score": self.score, "max_score": self.max_score,
                "status": self.status, "message": self.message, "audit": self.audit,
                "tasks": dict(self.tasks)}


def submission_digest(files: dict[str, bytes], fingerprint: str) -> str:
    """A SHA-256 of a submission's files and the assignment's fingerprint."""
    digest = hashlib.sha256(fingerprint.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _points(value: float) -> str:
    return f"{value:g}"


def format_table(rows: list[Row], width: int = 60,
                 tasks: tuple[tuple[str, float], ...] | None = None) -> str:
    """The report as a plain-text table (made with ``tabulate``).

    Columns: student, score / max, one column per task (the points earned
    in that graded cell), status, message.

    Args:
        rows: One row per student.
        width: Longest message shown (longer ones are shortened with "...").
        tasks: The graded cells as ``(grade_id, max points)``; default: the
            task names of the rows, in the order they first appear.
    """
    from tabulate import tabulate

    names = [name for name, _ in tasks] if tasks is not None else list(
        dict.fromkeys(name for row in rows for name in row.tasks))
    header = ["student", "score", *names, "status", "message"]
    lines = [[row.student, f"{_points(row.score)} / {_points(row.max_score)}",
              *[_points(row.tasks[name]) if name in row.tasks else "" for name in names],
              row.status + (" (unchanged)" if row.skipped else ""),
              _shorten(row.message + (f" | audit: {row.audit}" if row.audit else ""), width)]
             for row in rows]
    align = ["left", "left", *["right"] * len(names), "left", "left"]
    return tabulate(lines, headers=header, tablefmt="simple", colalign=align,
                    disable_numparse=True) + "\n"


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def write_grades_csv(path: Path, assignment: str, rows: list[Row],
                     tasks: tuple[str, ...] = ()) -> None:
    """Writes ``assignment``'s rows into ``path``, keeping other assignments' rows.

    Args:
        path: The CSV file (created if missing).
        assignment: The assignment id; its old rows are replaced.
        rows: One row per student.
        tasks: The assignment's graded cells (grade ids): one column each,
            after the fixed columns, holding the points earned. Other
            assignments' task columns are kept (empty in this assignment's rows).
    """
    path = Path(path)
    kept, columns = [], list(CSV_COLUMNS)
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns += [name for name in reader.fieldnames or [] if name not in columns]
            kept = [row for row in reader if row.get("assignment") != assignment]
    columns += [name for name in tasks if name not in columns]
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in kept:
            writer.writerow(row)
        for row in rows:
            task_points = {name: _points(row.tasks.get(name, 0.0)) for name in tasks}
            writer.writerow({"assignment": assignment, **row.to_dict(), **task_points,
                             "score": _points(row.score), "max_score": _points(row.max_score)})
    os.replace(temporary, path)


class State:
    """The re-run state: per assignment and student, the digest and the last row."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            self.data = {}

    def unchanged(self, assignment: str, student: str, digest: str) -> Row | None:
        """The stored row if this exact submission was graded before, else None."""
        entry = self.data.get(assignment, {}).get(student)
        if not entry or entry.get("digest") != digest:
            return None
        row = Row(**entry["row"])
        row.skipped = True
        return row

    def remember(self, assignment: str, digest: str, row: Row) -> None:
        """Stores a graded row (call :meth:`save` to write the file)."""
        self.data.setdefault(assignment, {})[row.student] = {"digest": digest,
                                                             "row": row.to_dict()}

    def save(self) -> None:
        """Writes the state file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)
