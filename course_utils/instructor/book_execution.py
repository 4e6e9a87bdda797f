"""Executing the book's pages side by side before Jupyter Book renders them.

Jupyter Book (through myst-nb's ``cache`` mode) executes the pages that are
not in its execution cache one after another, while it reads them. A page of
this book keeps about one core busy (small Keras models are bound by Python,
not by matrix products), so on a machine with several cores most of them sit
idle during a cold build.

:func:`execute_uncached_pages` fills the same cache first, running several
pages at once in separate processes (one kernel each). It reads each page the
way myst-nb reads it, so the notebook it stores has the very hash myst-nb
looks up: Jupyter Book then finds every page cached and only renders. A page
that fails is left out of the cache; Jupyter Book executes it again and
reports its error in the build log as it always does.

Why not ``jupyter-cache``'s own ``local-parallel`` executor: it starts one
process per core with ``multiprocessing.Pool.map`` in the order of the
project's records, so the longest page may start last; here the pages that
took longest last time start first.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

__all__ = ["PageExecution", "execute_uncached_pages", "default_jobs", "share_cores"]


@dataclasses.dataclass(frozen=True)
class PageExecution:
    """What happened to one page.

    Attributes:
        page: the page's path.
        seconds: wall time of the execution (0 for a page found in the cache).
        status: ``"cached"``, ``"executed"`` or ``"failed"``.
        error: the error's text for a failed page, else ``""``.
    """

    page: Path
    seconds: float
    status: str
    error: str = ""


def default_jobs() -> int:
    """One page per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def share_cores(jobs: int) -> None:
    """Gives each of ``jobs`` kernels started from this process its share of the cores.

    TensorFlow sizes its thread pools for the whole machine. With one page per
    core, every kernel's pools then compete for every core; on the 2-core
    machine, one thread per kernel cut a page's CPU time by about a sixth and
    its wall time by a fifth. Sets TensorFlow's two thread-count variables in
    this process's environment, which kernels inherit, unless they are set.

    Args:
        jobs: how many kernels run at once.
    """
    threads = max(1, default_jobs() // max(1, jobs))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


def read_page(page: Path):
    """The notebook myst-nb makes of a page (MyST Markdown or ``.ipynb``)."""
    import nbformat

    page = Path(page)
    text = page.read_text(encoding="utf-8")
    if page.suffix == ".ipynb":
        return nbformat.reads(text, as_version=4)
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(text, add_source_map=True, path=str(page))


def _execute(page: str, timeout: int) -> tuple[str, float, dict | None, str]:
    """Runs in a worker process: executes one page in a fresh kernel."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read_page(Path(page))
    start = time.perf_counter()
    result = single_nb_execution(notebook, cwd=str(Path(page).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True)
    seconds = time.perf_counter() - start
    if result.err is not None:
        return page, seconds, None, result.exc_string or repr(result.err)
    return page, seconds, dict(notebook), ""


def _last_runtimes(cache) -> dict[str, float]:
    """Seconds each page took the last time it was cached, by path."""
    times: dict[str, float] = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if record.uri and seconds is not None:
            times[str(Path(record.uri).resolve())] = float(seconds)
    return times


def execute_uncached_pages(pages: Iterable[Path], cache_dir: Path, *, jobs: int | None = None,
                           timeout: int = 300,
                           report: Callable[[PageExecution], None] | None = None,
                           ) -> list[PageExecution]:
    """Executes, ``jobs`` at a time, the pages that Jupyter Book's cache lacks.

    Args:
        pages: the book's pages (pages that are not notebooks are skipped).
        cache_dir: Jupyter Book's execution cache (``execute.cache`` in
            ``_config.yml``); created if missing.
        jobs: pages executed at once; default one per available core. With
            ``jobs=1`` nothing is done here and Jupyter Book executes the
            pages itself.
        timeout: seconds a cell may run (``execute.timeout``).
        report: called with each page's outcome as it finishes.

    Returns:
        One :class:`PageExecution` per notebook page, in the order finished.

    Raises:
        ValueError: if ``jobs`` is less than 1.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import is_myst_markdown_notebook

    jobs = default_jobs() if jobs is None else jobs
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a whole number of at least 1; received {jobs!r}.")
    cache = get_cache(str(cache_dir))
    outcomes: list[PageExecution] = []
    todo: list[Path] = []
    for page in (Path(p).resolve() for p in pages):
        if page.suffix == ".md" and not is_myst_markdown_notebook(page.read_text("utf-8")):
            continue
        try:
            cache.match_cache_notebook(read_page(page))
        except KeyError:
            todo.append(page)
        else:
            outcomes.append(PageExecution(page, 0.0, "cached"))
    if jobs == 1 or len(todo) < 2:
        return outcomes
    last = _last_runtimes(cache)
    todo.sort(key=lambda p: (-last.get(str(p), 0.0), -p.stat().st_size))
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=share_cores,
                             initargs=(jobs,)) as pool:
        futures = [pool.submit(_execute, str(page), timeout) for page in todo]
        for future in as_completed(futures):
            page, seconds, executed, error = future.result()
            if executed is None:
                outcome = PageExecution(Path(page), seconds, "failed", error)
            else:
                cache.cache_notebook_bundle(
                    CacheBundleIn(nbformat.from_dict(executed), page,
                                  data={"execution_seconds": seconds}),
                    check_validity=False, overwrite=True)
                outcome = PageExecution(Path(page), seconds, "executed")
            outcomes.append(outcome)
            if report is not None:
                report(outcome)
    return outcomes
