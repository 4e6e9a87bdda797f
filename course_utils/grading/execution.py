"""Running grading jobs: N at a time on this machine, or on a Dask cluster.

Locally, jobs run in a thread pool: each job spends its time waiting for its
own ``nbgrader`` subprocess (and kernel), so threads give real parallelism
without pickling. With a Dask scheduler address, the same :func:`job.grade`
runs on the cluster's workers (``client.map``); jobs and results are plain
picklable dataclasses carrying bytes, so workers need no shared folder, only
the same Python environment (nbgrader, ``course_utils``, bubblewrap).

Results come back in completion order; the caller (the parent process) is the
only one that writes the gradebook.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

from course_utils.grading.job import GradeJob, GradeResult, Status, grade

__all__ = ["run_jobs", "Progress"]


def _failed(job: GradeJob, error: BaseException) -> GradeResult:
    """A result for a job whose grading itself crashed (a bug or a lost worker)."""
    return GradeResult(job.student, Status.ERROR,
                       f"grading crashed: {type(error).__name__}: {error}"[:300], 0.0,
                       job.template.max_score,
                       log="".join(traceback.format_exception(error))[-4000:])


def run_jobs(jobs: list[GradeJob], *, n_jobs: int = 1, dask_address: str | None = None,
             grade_fn: Callable[[GradeJob], GradeResult] = grade) -> Iterator[GradeResult]:
    """Grades ``jobs`` and yields each result as soon as it is ready.

    Args:
        jobs: the jobs.
        n_jobs: how many submissions to grade at once on this machine.
        dask_address: a ``dask.distributed`` scheduler address
            (``tcp://host:8786``); when given, ``n_jobs`` is ignored and the
            cluster decides how many run at once.
        grade_fn: the grading function (a module-level function, so Dask can
            pickle it).

    Yields:
        One :class:`GradeResult` per job, in completion order.
    """
    if not jobs:
        return
    if dask_address:
        yield from _run_dask(jobs, dask_address, grade_fn)
        return
    if n_jobs < 1:
        raise ValueError(f"--jobs must be 1 or more, received {n_jobs}")
    with ThreadPoolExecutor(max_workers=min(n_jobs, len(jobs))) as pool:
        futures = {pool.submit(grade_fn, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # noqa: BLE001 (one job's crash never stops the batch)
                yield _failed(futures[future], error)


def _run_dask(jobs: list[GradeJob], address: str,
              grade_fn: Callable[[GradeJob], GradeResult]) -> Iterator[GradeResult]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as error:  # pragma: no cover (pinned in requirements.txt)
        raise RuntimeError("--dask needs the package 'distributed' (pip install "
                           "distributed)") from error
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as error:
        raise RuntimeError(f"Cannot reach the Dask scheduler at {address!r}: {error}. "
                           "Expected an address like tcp://host:8786 of a running "
                           "scheduler.") from error
    with client:
        futures = client.map(grade_fn, jobs, pure=False, key=[
            f"course-grade-{job.template.assignment}-{job.student}-{index}"
            for index, job in enumerate(jobs)])
        owner = {future.key: job for future, job in zip(futures, jobs)}
        for future in dask_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # noqa: BLE001 (a lost worker fails one job only)
                yield _failed(owner[future.key], error)


class Progress:
    """A one-line progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, total: int, label: str = "grading", stream=None):
        self.total, self.done, self.label = total, 0, label
        self.stream = stream or sys.stderr
        self.enabled = total > 0 and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._draw("")

    def advance(self, note: str = "") -> None:
        """Counts one finished submission and redraws."""
        self.done += 1
        self._draw(note)

    def _draw(self, note: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / self.total)
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{self.done}/{self.total} {elapsed:5.0f}s {note[:30]:<30}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()
