"""Running grading jobs: N at a time on this machine, or on a Dask cluster.

Locally, jobs run in a thread pool: each job spends its time waiting for its
own ``nbgrader`` subprocess (and kernel), so threads give real parallelism
without pickling. With a Dask scheduler address, the same :func:`job.grade`
runs on the cluster's workers (through ``Client.get_executor()``, the same
``concurrent.futures`` loop as the local threads); jobs and results are plain
picklable dataclasses carrying bytes, so workers need no shared folder, only
the same Python environment (nbgrader, ``course_utils``, bubblewrap).

Results come back in completion order; the caller (the parent process) is the
only one that writes the gradebook.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager

from course_utils.instructor.grading.job import GradeJob, GradeResult, Status, grade

__all__ = ["run_jobs", "progress_bar"]


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
    if not dask_address and n_jobs < 1:
        raise ValueError(f"--jobs must be 1 or more, received {n_jobs}")
    with _executor(n_jobs=min(n_jobs, len(jobs)), dask_address=dask_address) as pool:
        futures = {pool.submit(grade_fn, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # noqa: BLE001 (one job's crash never stops the batch)
                yield _failed(futures[future], error)


@contextmanager
def _executor(*, n_jobs: int, dask_address: str | None) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor: local threads, or a Dask cluster's workers.

    Dask's ``Client.get_executor()`` is a ``concurrent.futures.Executor`` too,
    so both paths share the one loop in :func:`run_jobs`.
    """
    if not dask_address:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            yield pool
        return
    try:
        from distributed import Client
    except ImportError as error:  # pragma: no cover (pinned in requirements.txt)
        raise RuntimeError("--dask needs the package 'distributed' (pip install "
                           "distributed)") from error
    try:
        client = Client(dask_address, timeout=30)
    except (OSError, TimeoutError) as error:
        raise RuntimeError(f"Cannot reach the Dask scheduler at {dask_address!r}: {error}. "
                           "Expected an address like tcp://host:8786 of a running "
                           "scheduler.") from error
    with client, client.get_executor(pure=False) as pool:
        yield pool


def progress_bar(total: int, label: str = "grading"):
    """A ``tqdm`` progress bar on stderr, silent when stderr is not a terminal.

    Use it as a context manager; ``bar.update(1)`` after each submission.
    """
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="submission", file=sys.stderr, disable=None,
                dynamic_ncols=True)
