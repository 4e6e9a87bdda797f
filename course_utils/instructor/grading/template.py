"""What every per-submission grading job needs from the course, built once per batch.

nbgrader autogrades against a gradebook that knows the assignment's cells
(their points and the source of the test cells, hidden tests included). The
template is made by running ``nbgrader generate_assignment`` once in a
temporary copy of the course; its gradebook, the configuration and the
assignment's extra files travel with each job as bytes, so a job runs the same
in a thread, a process or on a Dask worker on another machine.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# Notebook facts live in notebook_facts; these names stay importable from here.
from course_utils.instructor.grading.notebook_facts import (
    IGNORED,
    generated_assignment,
    graded_cells,
    hidden_test_lines,
    message_strings,
    nbgrader_env,
)

__all__ = ["CourseTemplate", "build_template", "hidden_test_lines", "graded_cells",
           "message_strings", "nbgrader_env"]


@dataclass(frozen=True)
class CourseTemplate:
    """The read-only inputs of grading one assignment.

    Attributes:
        assignment: The assignment id.
        course_id: nbgrader's course id (from the gradebook).
        config: ``nbgrader_config.py`` bytes.
        gradebook: bytes of a ``gradebook.db`` holding only the assignment.
        source_files: The assignment's non-notebook source files (relative
            POSIX path -> bytes); nbgrader copies them next to the graded notebook.
        notebooks: The assignment's notebook names (without ``.ipynb``).
        hidden_lines: Non-blank lines of the hidden tests; they must never
            reach a student's feedback.
        max_score: The assignment's maximum score.
        tasks: The graded cells in notebook order, as ``(grade_id, max points)``
            pairs (the per-task columns of the report and ``grades.csv``).
        fingerprint: A hash of the configuration and the assignment's source
            files: results graded under another fingerprint are regraded.
        message_strings: String literals of the test cells that contain a
            hidden line: text the tests themselves print in their failure
            messages, so it is not removed from an error message (see
            :func:`message_strings`).
    """

    assignment: str
    course_id: str
    config: bytes = field(repr=False)
    gradebook: bytes = field(repr=False)
    source_files: dict[str, bytes] = field(repr=False)
    notebooks: tuple[str, ...]
    hidden_lines: tuple[str, ...] = field(repr=False)
    max_score: float
    tasks: tuple[tuple[str, float], ...] = ()
    fingerprint: str = ""
    message_strings: tuple[str, ...] = field(default=(), repr=False)


def _fingerprint(course_root: Path, source: Path) -> str:
    digest = hashlib.sha256((course_root / "nbgrader_config.py").read_bytes())
    for path in sorted(source.rglob("*")):
        if path.is_file() and not set(IGNORED).intersection(path.parts):
            digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _generate_gradebook(course_root: Path, assignment: str, timeout: float) -> bytes:
    """Runs ``nbgrader generate_assignment`` in a temporary copy; returns its gradebook."""
    with generated_assignment(course_root, [assignment], timeout=timeout) as work:
        return (work / "gradebook.db").read_bytes()


def build_template(course_root: Path, assignment: str, timeout: float = 600,
                   cache_dir: Path | None = None) -> CourseTemplate:
    """Builds the grading template of ``assignment`` from ``course_root/solutions``.

    Args:
        course_root: the course folder (``nbgrader_config.py``, ``solutions/``).
        assignment: the assignment id.
        timeout: seconds allowed for ``nbgrader generate_assignment``.
        cache_dir: if given, the template gradebook is kept there
            (``.course-grade-template-<assignment>-<hash>.db``) and reused
            while the configuration and the assignment's source are unchanged.

    Raises:
        ValueError: if ``solutions/<assignment>/`` has no notebook.
        RuntimeError: if nbgrader fails (its output is in the message).
    """
    from nbgrader.api import Gradebook

    course_root = Path(course_root).resolve()
    source = course_root / "solutions" / assignment
    notebooks = sorted(source.glob("*.ipynb")) if source.is_dir() else []
    if not notebooks:
        known = sorted(p.name for p in (course_root / "solutions").glob("*/") if p.is_dir()) \
            if (course_root / "solutions").is_dir() else []
        raise ValueError(f"Unknown assignment {assignment!r}: expected a notebook in "
                         f"{source}; the course has {known or 'no assignments'}.")
    fingerprint = _fingerprint(course_root, source)
    cached = Path(cache_dir) / f".course-grade-template-{assignment}-{fingerprint[:16]}.db" \
        if cache_dir is not None else None
    if cached is not None and cached.is_file():
        gradebook_bytes = cached.read_bytes()
    else:
        gradebook_bytes = _generate_gradebook(course_root, assignment, timeout)
        if cached is not None:
            for old in cached.parent.glob(f".course-grade-template-{assignment}-*.db"):
                old.unlink()
            cached.write_bytes(gradebook_bytes)
    with tempfile.TemporaryDirectory(prefix="course-grade-template-") as tmp:
        path = Path(tmp) / "gradebook.db"
        path.write_bytes(gradebook_bytes)
        with Gradebook(f"sqlite:///{path}") as gradebook:
            found = gradebook.find_assignment(assignment)
            max_score = float(found.max_score)
            course_id = found.course_id
    source_files = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in sorted(source.rglob("*"))
        if path.is_file() and path.suffix != ".ipynb"
        and not set(IGNORED).intersection(path.parts)}
    hidden, tasks, messages = [], [], []
    for path in notebooks:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        lines = hidden_test_lines(notebook)
        hidden.extend(lines)
        messages.extend(message_strings(notebook, lines))
        tasks.extend(graded_cells(notebook))
    return CourseTemplate(
        assignment=assignment, course_id=course_id,
        config=(course_root / "nbgrader_config.py").read_bytes(),
        gradebook=gradebook_bytes, source_files=source_files,
        notebooks=tuple(path.stem for path in notebooks),
        hidden_lines=tuple(dict.fromkeys(hidden)), max_score=max_score,
        tasks=tuple(tasks), fingerprint=fingerprint,
        message_strings=tuple(dict.fromkeys(messages)))
