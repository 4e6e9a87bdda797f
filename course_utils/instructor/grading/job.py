"""Grading ONE submission in a throwaway course copy.

:func:`grade` takes a picklable :class:`GradeJob` and returns a picklable
:class:`GradeResult`; it writes nothing outside its own temporary folder, so
the same function runs in a thread, a process pool or on a Dask worker on
another machine (the job carries every byte it needs: the submission, the
course configuration, a template gradebook and the assignment's extra files).

The workdir holds only what grading needs::

    nbgrader_config.py            the course's, plus ResilientExecute and the cell timeout
    gradebook.db                  the template: the assignment, no students
    solutions/<a>/<extra files>   non-notebook files nbgrader copies next to the notebook
    submitted/<s>/<a>/<nb>.ipynb  the repaired copy of the submission
    autograded/, feedback/        written by nbgrader

``nbgrader autograde <a> --student <s>`` runs there (through
:mod:`~course_utils.instructor.grading.nbgrader_driver`) with a hard wall-time limit, then
``nbgrader generate_feedback`` on the graded notebook, once its hidden tests are removed.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.instructor.grading import repair, workers
from course_utils.instructor.grading.nbgrader_ext import (
    DEAD_IN_CELL,
    NOT_RUN,
    UNRESPONSIVE,
    config_lines,
)
from course_utils.instructor.grading.notebook_facts import (
    check_notebook,
    nbgrader_env,
    nbgrader_meta,
)
from course_utils.instructor.grading.template import CourseTemplate

if TYPE_CHECKING:  # pragma: no cover
    from course_utils.instructor.grading.sandbox import Limits

__all__ = ["GradeJob", "GradeResult", "CellGrade", "grade", "Status"]


class Status:
    """The status words of a result (a plain string in :class:`GradeResult`)."""

    GRADED = "graded"
    UNREADABLE = "unreadable"
    TIMED_OUT = "timed out"
    KERNEL_DIED = "kernel died"
    WALL_TIME = "wall time"
    ERROR = "error"


@dataclass(frozen=True)
class GradeJob:
    """Everything needed to grade one submission, as plain bytes and numbers.

    Attributes:
        template: The assignment's grading template.
        student: The student id.
        files: The submission's files (name relative to the assignment folder -> bytes).
        origin: Where the submission came from (for messages).
        layout: The submission's layout (see ``ingest.Submission``); outside
            nbgrader's layout a notebook's file name is not the student's, so
            grading it under the assignment's name needs no note.
        cell_timeout: Seconds per cell, or None for the course's setting.
        wall_seconds: Time limit of the submission's kernel (the sandbox's wall
            limit); the whole nbgrader run is stopped ``overhead_seconds`` later.
        overhead_seconds: Time allowed beyond ``wall_seconds`` for nbgrader
            itself (start-up, feedback).
        sandbox: Whether to run the kernel in the bubblewrap sandbox.
        limits: The sandbox limits (also memory and file size rlimits without it).
        python: The interpreter that runs nbgrader and the kernel; None (the
            default) means the one running :func:`grade`, so a Dask worker
            uses its own.
        reuse_grader: Grade in a long-lived grader process that imported
            nbgrader once (:mod:`~course_utils.instructor.grading.workers`) instead of a
            new process per submission; only with the sandbox (without it the
            rlimits are set on the grader process itself). Each submission
            still gets its own workdir, kernel and sandbox.
        parsed: Notebooks of ``files`` the caller already read with
            :func:`~course_utils.instructor.grading.notebook_facts.check_notebook` (file
            name -> notebook), so :func:`grade` does not parse them again;
            the others are parsed from ``files``. Not modified.
    """

    template: CourseTemplate
    student: str
    files: dict[str, bytes] = field(repr=False)
    origin: str
    layout: str = "nbgrader"
    cell_timeout: int | None = None
    wall_seconds: int = 900
    overhead_seconds: int = 120
    sandbox: bool = True
    limits: Limits | None = None
    python: str | None = None
    reuse_grader: bool = True
    parsed: dict[str, dict] = field(default_factory=dict, repr=False, compare=False)


PHASES = ("ingest", "repair", "course_copy", "grader_start", "kernel_start", "execution",
          "feedback", "merge")
"""The phases of grading one submission, in order (see :class:`GradeResult`)."""


@dataclass(frozen=True)
class CellGrade:
    """The autograded score of one graded cell."""

    notebook: str
    cell: str
    score: float
    max_score: float
    needs_manual_grade: bool


@dataclass
class GradeResult:
    """What grading one submission gave; the parent merges it into the gradebook.

    Attributes:
        student: The student id.
        status: One of :class:`Status`'s words.
        message: A one-line explanation (failing cells, repairs, limits hit).
        score: Points earned (autograded part).
        max_score: Points possible.
        cells: One :class:`CellGrade` per graded cell; empty if nothing ran.
        autograded: Notebook name -> graded notebook JSON bytes (hidden tests removed).
        feedback: Notebook name -> feedback HTML bytes.
        notes: Repairs and warnings, each a short sentence.
        log: The tail of nbgrader's output, for diagnosis.
        seconds: Wall time spent.
        grader: ``host:pid`` of the process that graded it (a Dask worker's, with --dask).
        phases: Wall seconds per phase (names in :data:`PHASES`): ``ingest``
            (mapping and parsing the files), ``repair``, ``course_copy``
            (workdir and sandbox), ``grader_start`` (until nbgrader asks for a
            kernel: process start, imports, nbgrader's preprocessing),
            ``kernel_start`` (until the first cell runs), ``execution``
            (cells, kernel shutdown, scores saved), ``feedback`` (redaction,
            feedback HTML, reading the results back); ``merge`` is added by
            the caller that writes the gradebook.
        cpu: CPU seconds per phase: this process's for ingest, repair and
            course_copy, the grader process's for the nbgrader phases (the
            kernel's own CPU time is not included).
    """

    student: str
    status: str
    message: str
    score: float
    max_score: float
    cells: list[CellGrade] = field(default_factory=list)
    autograded: dict[str, bytes] = field(default_factory=dict, repr=False)
    feedback: dict[str, bytes] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)
    log: str = field(default="", repr=False)
    seconds: float = 0.0
    grader: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    phases: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


def _select_notebooks(job: GradeJob) -> tuple[dict[str, str], dict[str, bytes], list[str], str]:
    """Maps submitted files to the assignment's notebooks.

    Rule: a notebook with the expected name is used as is. If the assignment
    has one notebook and the submission has exactly one ``.ipynb`` under
    another name, that one is graded under the expected name (and a note says
    so). Other files go along unchanged.

    Returns:
        ``(notebooks, other_files, notes, problem)``; ``notebooks`` maps each
        expected notebook name to the submitted file graded under it.
    """
    expected = [f"{name}.ipynb" for name in job.template.notebooks]
    submitted = {name: data for name, data in job.files.items()
                 if name.endswith(".ipynb") and "/" not in name}
    others = {name: data for name, data in job.files.items() if name not in submitted}
    notebooks = {name: name for name in expected if name in submitted}
    notes: list[str] = []
    if not notebooks and len(expected) == 1 and len(submitted) == 1:
        name, = submitted
        notebooks = {expected[0]: name}
        if job.layout == "nbgrader":
            notes.append(f"graded {name} as {expected[0]} (wrong file name)")
    if not notebooks:
        found = ", ".join(sorted(job.files)) or "no files"
        return {}, others, notes, (f"unreadable: expected {' and '.join(expected)}, "
                                   f"received {found}")
    return notebooks, others, notes, ""


def _unreadable(job: GradeJob, message: str, notes: list[str], start: float) -> GradeResult:
    return GradeResult(job.student, Status.UNREADABLE, message, 0.0, job.template.max_score,
                       notes=notes, seconds=time.perf_counter() - start)


def _status_from_notebook(notebook: dict) -> tuple[str, str]:
    """(status, what happened) from the errors recorded in the graded notebook."""
    timed_out, failed, errors = [], [], []
    stuck = ""
    for index, cell in enumerate(notebook.get("cells", [])):
        meta = nbgrader_meta(cell)
        name = meta.get("grade_id") or f"cell {index}"
        enames = [o.get("ename") for o in cell.get("outputs", []) or []
                  if o.get("output_type") == "error"]
        if DEAD_IN_CELL in enames:
            return Status.KERNEL_DIED, f"kernel died during cell {name}; later cells not run"
        if UNRESPONSIVE in enames:
            stuck = f"kernel stopped responding during cell {name}; later cells not run"
            break
        if "CellTimeoutError" in enames:
            timed_out.append(name)
        elif meta.get("grade") and enames and NOT_RUN not in enames:
            failed.append(f"{name} ({enames[-1]})")
        elif enames and NOT_RUN not in enames:
            errors.append(f"{name} ({enames[-1]})")
    details = "; ".join(filter(None, [
        f"failed: {', '.join(failed)}" if failed else "",
        f"errors in {', '.join(errors)}" if errors else "", stuck]))
    if timed_out:
        return Status.TIMED_OUT, "; ".join(filter(None, [
            f"timed out in {', '.join(timed_out)}", details]))
    return Status.GRADED, details or "all tests passed"


def _read_grades(workdir: Path, job: GradeJob) -> list[CellGrade]:
    from nbgrader.api import Gradebook, MissingEntry

    cells = []
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gradebook:
        try:
            submission = gradebook.find_submission(job.template.assignment, job.student)
        except MissingEntry:
            return []
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                cells.append(CellGrade(notebook.name, grade.name, float(grade.auto_score or 0.0),
                                       float(grade.max_score), bool(grade.needs_manual_grade)))
    return cells


def _write_workdir(workdir: Path, job: GradeJob, notebooks: dict[str, dict],
                   others: dict[str, bytes]) -> None:
    template = job.template
    assignment = template.assignment
    (workdir / "nbgrader_config.py").write_bytes(
        template.config + config_lines(job.cell_timeout).encode())
    (workdir / "gradebook.db").write_bytes(template.gradebook)
    source = workdir / "solutions" / assignment
    source.mkdir(parents=True)
    for name, data in template.source_files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    submitted = workdir / "submitted" / job.student / assignment
    submitted.mkdir(parents=True)
    for name, data in others.items():
        target = submitted / name
        if ".." in Path(name).parts:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name, notebook in notebooks.items():
        (submitted / name).write_text(json.dumps(notebook), encoding="utf-8")


def grade(job: GradeJob) -> GradeResult:
    """Grades one submission; never raises for a bad submission.

    Args:
        job: the submission and everything needed to grade it.

    Returns:
        The result; ``status`` says what happened, ``message`` why, ``phases``
        where the time went.
    """
    start = time.perf_counter()
    clock = workers.Clock()

    def done(result: GradeResult) -> GradeResult:
        result.phases, result.cpu = clock.phases, clock.cpu
        result.seconds = time.perf_counter() - start
        return result

    selected, others, notes, problem = _select_notebooks(job)
    if problem:
        clock.lap("ingest")
        return done(_unreadable(job, problem, notes, start))
    notebooks: dict[str, dict] = {}
    for name, submitted in selected.items():
        notebook = job.parsed.get(submitted)
        if notebook is None:
            notebook, problem = check_notebook(job.files[submitted])
        clock.lap("ingest")
        if notebook is None:
            return done(_unreadable(job, problem, notes, start))
        notebooks[name], fixes = repair.prepare_for_grading(notebook)
        clock.lap("repair")
        notes.extend(fixes)
    assignment, student = job.template.assignment, job.student
    python = job.python or sys.executable
    with tempfile.TemporaryDirectory(prefix=f"course-grade-{student}-") as tmp:
        workdir = Path(tmp)
        _write_workdir(workdir, job, notebooks, others)
        env_changes: dict[str, str | None] = {}
        extra_args: list[str] = []
        limit = None
        if job.sandbox:
            from course_utils.instructor.grading import sandbox

            kernel = sandbox.prepare(workdir, limits=job.limits or sandbox.Limits(),
                                     python=python)
            env_changes, extra_args = kernel.env, list(kernel.nbgrader_args)
        else:
            limit = workers.rlimits(job.limits)
        options = workdir / "driver-options.json"
        options.write_text(json.dumps({"hidden_lines": list(job.template.hidden_lines),
                                       "message_strings": list(job.template.message_strings),
                                       "max_output_chars": repair.MAX_OUTPUT_CHARS}))
        clock.lap("course_copy")
        seconds = job.wall_seconds + job.overhead_seconds
        sent = time.time()
        if job.sandbox and job.reuse_grader:
            code, log = workers.run_in_worker(python, nbgrader_env(), workdir, assignment,
                                              student, options, extra_args, env_changes,
                                              seconds)
        else:
            driver = "course_utils.instructor.grading.nbgrader_driver"
            code, log = workers.run_once([python, "-m", driver,
                                          assignment, student, str(options), *extra_args],
                                         workdir, nbgrader_env(env_changes), seconds, limit)
        clock.lap("nbgrader")
        if workers.driver_phases(workdir, sent, clock):
            clock.phases.pop("nbgrader"), clock.cpu.pop("nbgrader")
        if job.sandbox:
            notes.extend(sandbox.read_events(workdir))
        graded_dir = workdir / "autograded" / student / assignment
        cells = _read_grades(workdir, job) if code is not None else []
        graded = {name: graded_dir / name for name in notebooks
                  if (graded_dir / name).is_file()}
        if code is None:
            status, message = Status.WALL_TIME, (
                f"stopped after the wall-time limit of {job.wall_seconds} s "
                f"(+{job.overhead_seconds} s for nbgrader); nothing graded")
        elif code != 0 or not graded or not cells:
            last = [line for line in log.splitlines() if line.strip()][-1:] or ["no output"]
            status, message = Status.ERROR, f"nbgrader failed (exit {code}): {last[0][:200]}"
            cells = []
        else:
            status, message = Status.GRADED, ""
        autograded: dict[str, bytes] = {}
        feedback: dict[str, bytes] = {}
        if cells:
            for name, path in graded.items():
                data = path.read_bytes()
                nb_status, nb_message = _status_from_notebook(json.loads(data))
                if status == Status.GRADED:
                    status = nb_status
                message = "; ".join(filter(None, [message, nb_message]))
                autograded[name] = data
            notes.extend(workers.driver_notes(workdir))
            folder = workdir / "feedback" / student / assignment
            feedback = {path.name: path.read_bytes() for path in sorted(folder.glob("*.html"))}
        score = sum(cell.score for cell in cells)
        message = "; ".join(filter(None, [message, *notes]))
        clock.lap("feedback")
        return done(GradeResult(student, status, message, float(score), job.template.max_score,
                                cells=cells, autograded=autograded, feedback=feedback,
                                notes=notes, log=log))
