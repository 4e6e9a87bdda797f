"""`make bench`: time the book, the exercises and the helpers on this machine.

Usage: python -m tests.benchmarks [--strict] [--repeat N] [--skip-book]
       [--skip-grading] [--grading-n N] [--only ch01_unstable_gradients ...]
       [--update-readme]

Writes _build/bench/results.json and results.md; compares every figure with
its budget in COURSE_DESIGN.md, and the grading throughput with its targets
(issue 17), and prints the lines over budget or under target (`--strict` exits
non-zero if there is one).
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from tests.benchmarks import grading_throughput, measures, speedups
from tests.notebook_tools import REPO_ROOT, assignment_ids

GRADING_MODES = ["nbgrader", "jobs1", "jobs2", "dask"]
BUDGETS = {  # seconds, from COURSE_DESIGN.md
    "solution notebook": 90,
    "book chapter, cold": 120,
    "whole book, cold build": 600,
    "book rebuild, nothing changed": 30,
    "autograde one submission": 60,
}


def _row(what: str, seconds: float, budget: float | None, note: str = "") -> dict:
    return {"what": what, "seconds": round(seconds, 1), "budget": budget,
            "over_budget": budget is not None and seconds > budget, "note": note}


def _markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"Measured {results['date']} on {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, "
             f"{m['memory']}, Python {m['python']}; medians of {results['repeat']} runs "
             "(the cold book build runs once).", "",
             "| what | seconds | budget | |", "|---|---:|---:|---|"]
    for row in results["rows"]:
        budget = f"{row['budget']}" if row["budget"] is not None else ""
        flag = "**over budget**" if row["over_budget"] else row["note"]
        lines.append(f"| {row['what']} | {row['seconds']:.1f} | {budget} | {flag} |")
    if results["speedups"]:
        lines += ["", "| speed-up | naive s | fast s | speed-up |", "|---|---:|---:|---:|"]
        for s in results["speedups"].values():
            lines.append(f"| {s['what']} | {s['naive_seconds']:.3f} | {s['fast_seconds']:.3f} "
                         f"| {s['speedup']:.1f}x |")
    if results.get("grading"):
        lines += ["", "Grading throughput, submissions per minute (ratio to plain `nbgrader "
                  "autograde` in the same run; `dask` is a `dask scheduler` and two "
                  "`dask worker` processes on this machine):", "",
                  results["grading"]["markdown"].rstrip("\n")]
    return "\n".join(lines) + "\n"


def _update_readme(markdown: str) -> None:
    readme = REPO_ROOT / "README.md"
    text = readme.read_text()
    block = f"<!-- bench:start -->\n{markdown}<!-- bench:end -->"
    if "<!-- bench:start -->" in text:
        text = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, text,
                      flags=re.S)
    else:
        text += f"\n## Benchmark\n\n`make bench` measured:\n\n{block}\n"
    readme.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if over budget")
    parser.add_argument("--skip-book", action="store_true", help="no book builds")
    parser.add_argument("--only", nargs="*", default=None, help="assignment ids")
    parser.add_argument("--skip-grading", action="store_true",
                        help="no grading-throughput batches")
    parser.add_argument("--grading-n", type=int, default=8,
                        help="submissions per grading-throughput batch")
    parser.add_argument("--update-readme", action="store_true",
                        help="put the table into README.md")
    args = parser.parse_args(argv)

    results = {"date": datetime.date.today().isoformat(), "machine": measures.machine(),
               "repeat": args.repeat, "rows": [], "speedups": {}}
    rows = results["rows"]
    if not args.skip_book:
        print("bench: building the book cold, then warm ...", flush=True)
        book = measures.book_builds(args.repeat)
        results["book"] = book
        rows.append(_row("whole book, cold build", book["cold_seconds"],
                         BUDGETS["whole book, cold build"]))
        rows.append(_row("book rebuild, nothing changed", book["warm_seconds"],
                         BUDGETS["book rebuild, nothing changed"]))
        for page, seconds in book["page_execution_seconds"].items():
            if seconds is not None:
                rows.append(_row(f"{page}, executed cold (one page per core)", seconds,
                                 BUDGETS["book chapter, cold"]))
    for assignment in args.only or assignment_ids():
        print(f"bench: {assignment} ...", flush=True)
        median, _ = measures.median_of(args.repeat, lambda a=assignment: measures.solution_run(a))
        rows.append(_row(f"{assignment}: solution notebook", median,
                         BUDGETS["solution notebook"]))
        median, _ = measures.median_of(args.repeat, lambda a=assignment: measures.autograde_one(a))
        rows.append(_row(f"{assignment}: autograde one submission", median,
                         BUDGETS["autograde one submission"]))
    for name, measure in speedups.SPEEDUPS.items():
        print(f"bench: speed-up {name} ...", flush=True)
        results["speedups"][name] = measure(args.repeat)
    if not args.skip_grading:
        print("bench: grading throughput (plain nbgrader, --jobs 1, --jobs 2, Dask) ...",
              flush=True)
        graded = grading_throughput.measure(args.grading_n, GRADING_MODES, ch01=True)
        results["grading"] = {"results": graded, "targets": grading_throughput.targets(graded),
                              "markdown": grading_throughput.markdown(graded)}
    results["markdown"] = _markdown(results)
    json_path, md_path = measures.write_results(results, REPO_ROOT / "_build" / "bench")
    print(results["markdown"])
    print(f"bench: wrote {json_path} and {md_path}")
    if args.update_readme:
        _update_readme(results["markdown"])
    over = [row for row in rows if row["over_budget"]]
    missed = [t for t in results.get("grading", {}).get("targets", []) if not t["met"]]
    for target in missed:
        print(f"TARGET MISSED: {target['assignment']} {target['mode']}: "
              f"{target['ratio']}x plain nbgrader < {target['target']}x")
    for row in over:
        print(f"OVER BUDGET: {row['what']}: {row['seconds']} s > {row['budget']} s")
    return 1 if (over or missed) and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
