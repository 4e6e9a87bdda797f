"""``course grade <assignment> <submissions>``: autograde a whole class, safely.

Each submission is graded in its own throwaway course copy (see
:mod:`course_utils.instructor.grading.job`), its kernel in a bubblewrap sandbox unless
``--no-sandbox``; this process alone writes the course's gradebook, the
autograded copies, the feedback HTML and ``grades.csv``. Submissions are read
once into memory and never written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

from course_utils.instructor.cli import course_root
from course_utils.instructor.grading import ingest, merge
from course_utils.instructor.grading.execution import progress_bar, run_jobs
from course_utils.instructor.grading.grade_options import add_arguments, limits_from_args
from course_utils.instructor.grading.job import PHASES, GradeJob, GradeResult, Status
from course_utils.instructor.grading.notebook_facts import nbgrader_env
from course_utils.instructor.grading.report import (
    Row,
    State,
    format_table,
    submission_digest,
    write_grades_csv,
)
from course_utils.instructor.grading.template import build_template

__all__ = ["add_arguments", "run"]

STATE_FILE = ".course-grade-state.json"


def _read_notebooks(files: dict[str, bytes]) -> dict[str, dict]:
    """The readable notebooks of a submission (file name -> notebook), read once.

    The audit reads them here; the grading job gets them too (``GradeJob.parsed``).
    """
    notebooks = {}
    for name, data in sorted(files.items()):
        if name.endswith(".ipynb"):
            notebook, _ = ingest.check_notebook(data)
            if notebook is not None:
                notebooks[name] = notebook
    return notebooks


def _audit(notebooks: dict[str, dict]) -> str:
    """The static audit's findings for the submission's notebooks, ``"; "``-joined."""
    try:
        from course_utils.instructor.grading.audit import audit_notebook
    except ImportError:  # pragma: no cover (the audit module is optional)
        return ""
    findings = []
    for _, notebook in sorted(notebooks.items()):
        findings.extend(str(finding) for finding in audit_notebook(notebook))
    return "; ".join(findings)


def _store_files(root: Path, feedback_root: Path, assignment: str,
                 result: GradeResult) -> None:
    """Writes the autograded copies and the feedback HTML (replacing old ones)."""
    for base, files in ((root / "autograded", result.autograded),
                        (feedback_root, result.feedback)):
        folder = base / result.student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        if files:
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)


def run(args: argparse.Namespace) -> int:
    """Grades the batch; returns 0, or 1 if grading itself failed for a submission."""
    start = time.perf_counter()
    batch_phases: dict[str, float] = {}
    lap = [start]

    def batch_lap(name: str) -> None:
        now = time.perf_counter()
        batch_phases[name] = batch_phases.get(name, 0.0) + now - lap[0]
        lap[0] = now

    root = course_root(getattr(args, "course_root", None))
    assignment = args.assignment
    if args.jobs < 1:
        raise ValueError(f"--jobs must be 1 or more, received {args.jobs}")
    sandbox_on = not args.no_sandbox
    if sandbox_on:
        from course_utils.instructor.grading import sandbox

        sandbox.check_available()
    else:
        print("course grade: WARNING: --no-sandbox: student code runs unconfined, as you, "
              "and can read the hidden tests and the gradebook. Use only for trusted code.",
              file=sys.stderr)
    limits = limits_from_args(args)
    # nbgrader's Gradebook runs `alembic` from PATH when it creates a database.
    os.environ["PATH"] = nbgrader_env()["PATH"]
    batch_lap("setup")
    submissions = ingest.find_submissions(Path(args.submissions), assignment)
    batch_lap("ingest")
    output = Path(args.output).resolve() if args.output else root
    output.mkdir(parents=True, exist_ok=True)
    template = build_template(root, assignment, cache_dir=output)
    batch_lap("template")
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    merge.install_assignment(db_url, template)
    batch_lap("merge")
    feedback_root = output / "feedback"
    state = State(output / STATE_FILE)

    rows: dict[str, Row] = {}
    digests: dict[str, str] = {}
    jobs: list[GradeJob] = []
    for submission in submissions:
        digest = submission_digest(submission.files, template.fingerprint)
        digests[submission.student] = digest
        previous = None if args.force else state.unchanged(assignment, submission.student,
                                                           digest)
        if previous is not None:
            rows[submission.student] = previous
            continue
        jobs.append(GradeJob(template=template, student=submission.student,
                             files=submission.files, origin=submission.origin,
                             layout=submission.layout,
                             cell_timeout=args.timeout, wall_seconds=limits.wall_seconds,
                             sandbox=sandbox_on, limits=limits,
                             reuse_grader=not getattr(args, "fresh_grader", False)))
    parsed = {job.student: _read_notebooks(job.files) for job in jobs}
    audits = {student: _audit(notebooks) for student, notebooks in parsed.items()}
    if not args.dask:
        # Local threads share this memory: hand them the notebooks read for the
        # audit. A Dask job travels as bytes only (half the payload).
        jobs = [dataclasses.replace(job, parsed=parsed[job.student]) for job in jobs]
    timestamps = {job.student: job.files.get("timestamp.txt", b"").decode("utf-8", "replace")
                  for job in jobs}
    batch_lap("audit")
    progress = progress_bar(len(jobs), f"grading {assignment}")
    crashed = False
    timings: dict[str, dict] = {}
    seconds_by_student: dict[str, float] = {}
    for result in run_jobs(jobs, n_jobs=args.jobs, dask_address=args.dask):
        batch_lap("grading")
        merge_start, merge_cpu = time.perf_counter(), time.process_time()
        merge.record_result(db_url, template, result, timestamps.get(result.student))
        _store_files(root, feedback_root, assignment, result)
        earned = {cell.cell: cell.score for cell in result.cells}
        row = Row(result.student, result.score, result.max_score, result.status,
                  result.message, audits.get(result.student, ""), grader=result.grader,
                  tasks={name: earned.get(name, 0.0) for name, _ in template.tasks})
        rows[result.student] = row
        seconds_by_student[result.student] = result.seconds
        if result.status != Status.ERROR:  # a grader failure is retried next time
            state.remember(assignment, digests[result.student], row)
            state.save()
        crashed |= result.status == Status.ERROR
        progress.set_postfix_str(result.student, refresh=False)
        progress.update(1)
        phases = dict(result.phases, merge=time.perf_counter() - merge_start)
        cpu = dict(result.cpu, merge=time.process_time() - merge_cpu)
        timings[result.student] = {
            "phases": {name: round(phases[name], 3) for name in PHASES if name in phases},
            "cpu": {name: round(cpu[name], 3) for name in PHASES if name in cpu}}
        batch_lap("merge")
    progress.close()
    ordered = [rows[key] for key in sorted(rows)]
    table = format_table(ordered, tasks=template.tasks)
    seconds = time.perf_counter() - start
    summary = (f"{len(jobs)} graded, {len(ordered) - len(jobs)} unchanged "
               f"(use --force to regrade) in {seconds:.1f} s"
               + (f" ({60 * len(jobs) / seconds:.1f} submissions/minute)" if jobs else ""))
    print(table + summary)
    write_grades_csv(output / "grades.csv", assignment, ordered,
                     tasks=tuple(name for name, _ in template.tasks))
    (output / f"grading-report-{assignment}.txt").write_text(table + summary + "\n",
                                                             encoding="utf-8")
    rows_json = [row.to_dict() | {"skipped": row.skipped, "grader": row.grader}
                 | timings.get(row.student, {}) for row in ordered]
    batch_lap("report")
    (output / f"grading-report-{assignment}.json").write_text(json.dumps(
        {"assignment": assignment, "seconds": seconds, "graded": len(jobs),
         "sandbox": sandbox_on, "jobs": args.jobs,
         "tasks": [list(task) for task in template.tasks],
         "batch_phases": {name: round(value, 3) for name, value in batch_phases.items()},
         "rows": rows_json}, indent=1), encoding="utf-8")
    from course_utils.instructor.grading.class_report import write_class_report

    write_class_report(output, assignment, root / "autograded", seconds_by_student)
    return 1 if crashed else 0
