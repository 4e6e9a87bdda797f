"""Grading throughput: plain ``nbgrader autograde`` vs ``course grade``.

Usage::

    python -m tests.benchmarks.grading_throughput [--n 20] [--ch01]
        [--modes nbgrader,jobs1,jobs2,jobs1-fresh,jobs2-fresh,jobs1-nosandbox,...]

Grades a batch of ``--n`` submissions of the small generated assignment (a
mix of the solution and partly correct answers) in fresh course copies and
prints submissions per minute for each mode and, for ``course grade``, where
the time went: per phase (see ``course_utils.instructor.grading.job.PHASES``) the mean
wall and CPU seconds per submission, from the run's JSON report.
``--ch01`` also grades ``--n`` copies of the ch01_unstable_gradients
solution. ``-fresh`` modes start a new grader process per submission (the
behaviour before long-lived graders). On a loaded machine compare modes of
one run with each other, and trust CPU seconds more than wall seconds. Not collected by pytest (its
name does not start with ``test_``); results also go to
``_build/bench/grading_throughput.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.grading.dask_recipe import dask_cluster
from tests.grading.small_assignment import (
    SOLUTIONS,
    make_small_course,
    release_notebook,
    solution_notebook,
    with_answer,
    write_notebook,
)
from tests.notebook_tools import REPO_ROOT

BIN = Path(sys.executable).parent
MODES = {
    "nbgrader": None,
    "jobs1": ["--jobs", "1"],
    "jobs2": ["--jobs", "2"],
    "jobs1-fresh": ["--jobs", "1", "--fresh-grader"],
    "jobs2-fresh": ["--jobs", "2", "--fresh-grader"],
    "jobs1-nosandbox": ["--jobs", "1", "--no-sandbox"],
    "jobs2-nosandbox": ["--jobs", "2", "--no-sandbox"],
    # The README's recipe: a `dask scheduler` and two `dask worker` commands on this machine.
    "dask": ["--dask", "{address}"],
}
# issue 17's targets: submissions per minute as a multiple of plain nbgrader's, same run.
TARGETS = {("ch01_unstable_gradients", "jobs1"): 0.9, ("ch01_unstable_gradients", "jobs2"): 1.7,
           ("small", "jobs1"): 0.8}


def _env() -> dict[str, str]:
    from course_utils.instructor.grading.notebook_facts import nbgrader_env

    return nbgrader_env()


def _small_batch(course: Path, n: int) -> list[dict]:
    solution, release = solution_notebook(course), release_notebook(course)
    partial = with_answer(release, 1, SOLUTIONS[1])
    return [solution if i % 2 == 0 else partial for i in range(n)]


def _measure(template: Path, assignment: str, notebooks: list[dict], mode: str,
             timeout: float) -> tuple[float, dict]:
    """Seconds to grade ``notebooks`` in a fresh copy of ``template`` with ``mode``.

    Returns:
        ``(seconds, the JSON report)``; the report is empty for plain nbgrader.
    """
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(template, course)
        for index, notebook in enumerate(notebooks):
            write_notebook(course / "submitted" / f"s{index:03d}" / assignment /
                           f"{assignment}.ipynb", notebook)
        cluster = (dask_cluster(Path(tmp) / "dask") if mode == "dask"
                   else contextlib.nullcontext(None))
        with cluster as address:
            seconds = _time_grading(course, assignment, mode, address, timeout)
        path = course / f"grading-report-{assignment}.json"
        report = json.loads(path.read_text()) if path.is_file() else {}
        return seconds, report


def _time_grading(course: Path, assignment: str, mode: str, address: str | None,
                  timeout: float) -> float:
    """Seconds that grading the course's submitted/ folder takes in ``mode``."""
    start = time.perf_counter()
    if MODES[mode] is None:
        # Plain nbgrader needs the assignment in the gradebook first; that
        # step is counted, as `course grade` counts its own template.
        for args in (["generate_assignment", assignment, "--force"],
                     ["autograde", assignment]):
            subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=_env(),
                           capture_output=True, timeout=timeout, check=True)
    else:
        options = [option.format(address=address) for option in MODES[mode]]
        subprocess.run([str(BIN / "course"), "--course-root", str(course), "grade",
                        assignment, str(course / "submitted"), *options],
                       cwd=course, env=_env(), capture_output=True, timeout=timeout,
                       check=True)
    return time.perf_counter() - start


def breakdown(report: dict) -> dict[str, dict]:
    """Per phase: mean wall and CPU seconds per graded submission, and the batch's phases.

    Args:
        report: a ``grading-report-<assignment>.json``.

    Returns:
        ``{"per_submission": {phase: {"wall": s, "cpu": s}}, "batch": {name: s}}``.
    """
    rows = [row for row in report.get("rows", []) if row.get("phases")]
    per_phase: dict[str, dict[str, float]] = {}
    for row in rows:
        for kind, key in (("phases", "wall"), ("cpu", "cpu")):
            for name, value in row.get(kind, {}).items():
                entry = per_phase.setdefault(name, {"wall": 0.0, "cpu": 0.0})
                entry[key] += value / len(rows)
    return {"per_submission": {name: {k: round(v, 3) for k, v in entry.items()}
                               for name, entry in per_phase.items()},
            "batch": report.get("batch_phases", {})}


def _print_breakdown(parts: dict[str, dict]) -> None:
    phases = parts["per_submission"]
    if not phases:
        return
    total = sum(entry["wall"] for entry in phases.values()) or 1.0
    print("    per submission (mean): " + ", ".join(
        f"{name} {entry['wall']:.2f} s wall / {entry['cpu']:.2f} s cpu "
        f"({100 * entry['wall'] / total:.0f}%)" for name, entry in phases.items()))
    print("    batch: " + ", ".join(f"{name} {value:.1f} s"
                                    for name, value in parts["batch"].items()), flush=True)


def _children_cpu() -> float:
    """CPU seconds of every finished child process (and their waited-for children)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(n: int, modes: list[str], ch01: bool) -> list[dict]:
    """Grades a batch of ``n`` per assignment in each mode; one result row each."""
    results = []
    with tempfile.TemporaryDirectory(prefix="grading-bench-template-") as tmp:
        small = make_small_course(Path(tmp) / "small")
        batches = [("small", small, _small_batch(small, n))]
        if ch01:
            course = Path(tmp) / "ch01"
            (course / "solutions").mkdir(parents=True)
            shutil.copy2(REPO_ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
            name = "ch01_unstable_gradients"
            shutil.copytree(REPO_ROOT / "solutions" / name, course / "solutions" / name)
            solution = json.loads((course / "solutions" / name / f"{name}.ipynb").read_text())
            batches.append((name, course, [solution] * n))
        for assignment, template, notebooks in batches:
            for mode in modes:
                cpu_before = _children_cpu()
                seconds, report = _measure(template, assignment, notebooks, mode,
                                           timeout=300 + 120 * len(notebooks))
                cpu = _children_cpu() - cpu_before
                rate = 60 * len(notebooks) / seconds
                parts = breakdown(report)
                results.append({"assignment": assignment, "mode": mode, "n": len(notebooks),
                                "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                                "submissions_per_minute": round(rate, 2),
                                "load_average": os.getloadavg(), "breakdown": parts})
                print(f"{assignment:<26} {mode:<16} {len(notebooks):>3} submissions "
                      f"{seconds:7.1f} s  {rate:6.2f} /min  cpu {cpu:6.1f} s  "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
                _print_breakdown(parts)
    return results


def targets(results: list[dict]) -> list[dict]:
    """Each issue-17 target whose modes were measured: the ratio to plain nbgrader."""
    rate = {(r["assignment"], r["mode"]): r["submissions_per_minute"] for r in results}
    checked = []
    for (assignment, mode), bound in TARGETS.items():
        if (assignment, mode) in rate and (assignment, "nbgrader") in rate:
            ratio = rate[assignment, mode] / rate[assignment, "nbgrader"]
            checked.append({"assignment": assignment, "mode": mode, "ratio": round(ratio, 2),
                            "target": bound, "met": ratio >= bound})
    return checked


def markdown(results: list[dict]) -> str:
    """Submissions per minute per batch and mode, with the ratio to plain nbgrader."""
    modes = list(dict.fromkeys(r["mode"] for r in results))
    goal = {(t["assignment"], t["mode"]): t for t in targets(results)}
    lines = ["| batch | " + " | ".join(f"`{m}`" for m in modes) + " |",
             "|---|" + "---:|" * len(modes)]
    for assignment in dict.fromkeys(r["assignment"] for r in results):
        row = {r["mode"]: r for r in results if r["assignment"] == assignment}
        base = row.get("nbgrader", {}).get("submissions_per_minute")
        cells = []
        for mode in modes:
            if mode not in row:
                cells.append("")
                continue
            text = f"{row[mode]['submissions_per_minute']:.2f}"
            if base and mode != "nbgrader":
                text += f" ({row[mode]['submissions_per_minute'] / base:.2f}x"
                if (assignment, mode) in goal:
                    t = goal[assignment, mode]
                    text += f"; target {t['target']}x {'met' if t['met'] else '**missed**'}"
                text += ")"
            cells.append(text)
        lines.append(f"| {assignment} ({row[modes[0]]['n']} submissions) | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="submissions per batch")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("--ch01", action="store_true",
                        help="also grade N copies of the ch01_unstable_gradients solution")
    args = parser.parse_args(argv)
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown mode(s) {unknown}; expected some of {list(MODES)}")
    results = measure(args.n, modes, args.ch01)
    print(markdown(results))
    out = REPO_ROOT / "_build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "grading_throughput.json").write_text(json.dumps(
        {"cpu_count": os.cpu_count(), "load_average": os.getloadavg(), "results": results,
         "targets": targets(results)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
