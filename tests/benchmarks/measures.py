"""The measurements of `make bench`: each returns seconds (or a speed-up)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.notebook_tools import REPO_ROOT, make_course_copy, nbgrader

BIN = Path(sys.executable).parent


def machine() -> dict:
    """What the numbers were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split()[1])
        memory = f"{kib / 2**20:.1f} GiB"
    return {"platform": platform.platform(), "cpu": model, "cores": os.cpu_count(),
            "memory": memory, "python": platform.python_version()}


def median_of(repeat: int, run: Callable[[], float]) -> tuple[float, list[float]]:
    times = [run() for _ in range(repeat)]
    return statistics.median(times), times


def _env() -> dict[str, str]:
    from course_utils.instructor.grading.notebook_facts import nbgrader_env

    return nbgrader_env({"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"})


def _copy_course(target: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".venv", "_build", "__pycache__", "*.egg-info",
                                    ".pytest_cache", "gradebook.db")
    shutil.copytree(REPO_ROOT, target, ignore=ignore)
    return target


def book_builds(warm_repeat: int) -> dict:
    """Cold build (empty cache) of a copy of the course, per-page execution
    times from the cache, then warm rebuilds with nothing changed."""
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        course = _copy_course(Path(tmp) / "course")
        command = [str(BIN / "course"), "book"]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=course, env=_env(), capture_output=True, text=True)
        cold = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(f"cold book build failed:\n{result.stdout[-3000:]}")
        from jupyter_cache import get_cache

        cache = get_cache(str(course / "_build" / ".jupyter_cache"))
        pages = {Path(r.uri).relative_to(course).as_posix(): r.data.get("execution_seconds")
                 for r in cache.list_cache_records()}

        def warm() -> float:
            begin = time.perf_counter()
            subprocess.run(command, cwd=course, env=_env(), capture_output=True, check=True)
            return time.perf_counter() - begin

        warm_median, warm_times = median_of(warm_repeat, warm)
    return {"cold_seconds": cold, "warm_seconds": warm_median, "warm_runs": warm_times,
            "page_execution_seconds": dict(sorted(pages.items()))}


def solution_run(assignment: str) -> float:
    """Kernel start to last cell of the solution notebook (nbclient)."""
    import nbformat
    from nbclient import NotebookClient

    path = REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
        client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": tmp}})
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start


def autograde_one(assignment: str) -> float:
    """`nbgrader autograde` of one (correct) submission in a course copy."""
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        course = make_course_copy(Path(tmp), assignment)
        nbgrader(course, "generate_assignment", assignment, "--force")
        target = course / "submitted" / "student" / assignment
        target.mkdir(parents=True)
        shutil.copy2(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb",
                     target / f"{assignment}.ipynb")
        start = time.perf_counter()
        nbgrader(course, "autograde", assignment)
        return time.perf_counter() - start


def write_results(results: dict, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True))
    markdown_path = folder / "results.md"
    markdown_path.write_text(results["markdown"])
    return json_path, markdown_path
