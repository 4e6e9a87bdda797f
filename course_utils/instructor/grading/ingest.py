"""Finding the submissions of a class, and checking that each one is a notebook.

Three layouts are accepted (see :func:`find_submissions`):

* nbgrader's ``submitted/<student>/<assignment>/`` (the folder ``submitted``
  itself or the course folder that contains it);
* a flat folder of ``<student>.ipynb`` files;
* an LMS zip with one notebook per student.

Nothing here writes a file: submissions are read into memory once, so the
originals are never touched by grading.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# "Is this a readable notebook" lives with the other notebook facts; it stays
# importable from here.
from course_utils.instructor.grading.notebook_facts import check_notebook

__all__ = ["Submission", "find_submissions", "check_notebook", "student_id_from"]

_IGNORED = {".ipynb_checkpoints", "__MACOSX", "__pycache__", ".DS_Store"}


@dataclass(frozen=True)
class Submission:
    """One student's files for an assignment, read into memory.

    Attributes:
        student: The student id (gradebook key).
        files: File name (relative to the assignment folder, POSIX) -> bytes.
        origin: Where the files came from, for messages.
        layout: ``"nbgrader"``, ``"flat"`` or ``"zip"``; in the last two the
            file name is not the student's choice of notebook name.
    """

    student: str
    files: dict[str, bytes] = field(repr=False)
    origin: str
    layout: str = "nbgrader"

    def notebooks(self) -> dict[str, bytes]:
        """The files whose name ends in ``.ipynb`` (top level only)."""
        return {name: data for name, data in self.files.items()
                if name.endswith(".ipynb") and "/" not in name}


def student_id_from(name: str) -> str:
    """A gradebook-safe student id from a file or folder name.

    Keeps letters, digits, ``.``, ``_`` and ``-``; every other run of
    characters becomes ``_``.

    Raises:
        ValueError: if nothing usable is left.
    """
    student = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    if not student:
        raise ValueError(f"Cannot make a student id from the name {name!r}: expected "
                         "letters, digits, '.', '_' or '-'.")
    return student


def find_submissions(path: Path, assignment: str) -> list[Submission]:
    """Reads every submission of ``assignment`` found at ``path``.

    Args:
        path: one of
            * a folder in nbgrader's layout: ``<path>/<student>/<assignment>/``
              (``path`` is ``submitted/``) or ``<path>/submitted/<student>/<assignment>/``;
              every file in the student's assignment folder is read;
            * a folder of ``<student>.ipynb`` files (the file name is the id);
            * a ``.zip`` file: every ``.ipynb`` member is one student's notebook,
              the student id being the member's top folder if it is in one,
              else its file name without ``.ipynb``.
        assignment: the assignment id.

    Returns:
        The submissions, sorted by student id.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if ``path`` holds none of the layouts above, or two
            submissions map to the same student id.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Submissions not found: {path} does not exist. Expected a "
                                "folder (nbgrader's submitted/ or <student>.ipynb files) "
                                "or an LMS .zip file.")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"Expected a folder or a .zip file of submissions, received the "
                             f"file {path} (not a zip archive).")
        found = _from_zip(path)
    elif (path / "submitted").is_dir():
        found = _from_nbgrader(path / "submitted", assignment)
    elif any((child / assignment).is_dir() for child in path.iterdir() if child.is_dir()):
        found = _from_nbgrader(path, assignment)
    else:
        found = _from_flat(path)
    if not found:
        raise ValueError(
            f"No submissions of {assignment!r} in {path}. Expected <student>/{assignment}/ "
            f"folders (nbgrader's submitted/ layout), <student>.ipynb files, or a .zip of "
            f"notebooks; found: {_listing(path)}")
    students: dict[str, Submission] = {}
    for submission in found:
        if submission.student in students:
            raise ValueError(
                f"Two submissions map to the student id {submission.student!r}: "
                f"{students[submission.student].origin} and {submission.origin}. "
                "Rename one of them.")
        students[submission.student] = submission
    return [students[key] for key in sorted(students)]


def _listing(path: Path) -> str:
    if path.is_file():
        return path.name
    names = sorted(child.name + ("/" if child.is_dir() else "") for child in path.iterdir())
    return ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") or "nothing"


def _from_nbgrader(submitted: Path, assignment: str) -> list[Submission]:
    result = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if student_dir.name in _IGNORED or not folder.is_dir():
            continue
        files = {}
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder)
            if file.is_file() and not _IGNORED.intersection(relative.parts):
                files[relative.as_posix()] = file.read_bytes()
        result.append(Submission(student_id_from(student_dir.name), files, str(folder)))
    return result


def _from_flat(folder: Path) -> list[Submission]:
    return [Submission(student_id_from(file.stem), {file.name: file.read_bytes()}, str(file),
                       "flat")
            for file in sorted(folder.glob("*.ipynb")) if file.is_file()]


def _from_zip(path: Path) -> list[Submission]:
    result = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            member = PurePosixPath(info.filename)
            if info.is_dir() or member.suffix != ".ipynb" or _IGNORED.intersection(member.parts):
                continue
            name = member.parts[0] if len(member.parts) > 1 else member.stem
            result.append(Submission(student_id_from(name), {member.name: archive.read(info)},
                                     f"{path}:{info.filename}", "zip"))
    return result
