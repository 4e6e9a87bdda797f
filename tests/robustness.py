"""`make robustness`: every book page executed fresh with other seeds.

Usage: python -m tests.robustness [--seeds 1 2] [--jobs N] [--pages book/04-batch-norm.md ...]

Each page runs in a new kernel (no execution cache) with ``COURSE_SEED`` set,
which shifts every seed the page uses (``course_utils.seed_for``). The claim
guards (``course_utils.check_claim``) log each claim to ``$COURSE_CLAIMS_LOG``;
the table gives, per page and seed, pass or fail and the claim with the
smallest margin. Exits 1 if any page fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from course_utils.instructor.book_execution import default_jobs, share_cores
from tests.notebook_tools import REPO_ROOT, book_pages, run_page


def _read_claims(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run_with_seed(page: Path, seed: int) -> dict:
    """Executes ``page`` with ``COURSE_SEED=seed``; returns its outcome and claims."""
    with tempfile.TemporaryDirectory(prefix="course-claims-") as tmp:
        log = Path(tmp) / "claims.jsonl"
        saved = {name: os.environ.get(name) for name in ("COURSE_SEED", "COURSE_CLAIMS_LOG")}
        os.environ.update(COURSE_SEED=str(seed), COURSE_CLAIMS_LOG=str(log))
        try:
            result = run_page(page, timeout=900)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        claims = _read_claims(log)
    closest = min(claims, key=lambda c: c["margin"] / c["scale"] if c["scale"] > 0
                  else float("inf"), default=None)
    return {"page": page.relative_to(REPO_ROOT).as_posix(), "seed": seed,
            "passed": not (result.errors or result.stderr), "seconds": result.seconds,
            "claims": len(claims), "closest": closest,
            "problems": [text.strip()[:500] for text in result.errors + result.stderr]}


def _margin_text(closest: dict | None) -> str:
    if closest is None:
        return "no guarded claim"
    return (f"{closest['margin']:+.3g} ({closest['margin'] / closest['scale']:+.2g} scale) "
            f"'{closest['name']}'" if closest["scale"] > 0 else f"{closest['margin']:+.3g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pages", nargs="+", default=None)
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="pages executed at once (default: one per core)")
    args = parser.parse_args(argv)
    pages = [Path(p).resolve() for p in args.pages] if args.pages else \
        [p for p in book_pages() if p.stem not in ("intro", "references")]
    from tabulate import tabulate

    runs = sorted(((page, seed) for seed in args.seeds for page in pages),
                  key=lambda run: -run[0].stat().st_size)  # long pages first
    rows, outcomes = [], []
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=share_cores,
                             initargs=(args.jobs,)) as pool:
        futures = [pool.submit(run_with_seed, page, seed) for page, seed in runs]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            print(f"robustness: {outcome['page']} seed {outcome['seed']}: "
                  f"{'pass' if outcome['passed'] else 'FAIL'} in {outcome['seconds']:.0f} s",
                  flush=True)
            for problem in outcome["problems"]:
                print("    " + problem.replace("\n", "\n    "), flush=True)
    outcomes.sort(key=lambda o: (o["seed"], o["page"]))
    for outcome in outcomes:
        rows.append([outcome["page"], outcome["seed"], "pass" if outcome["passed"] else "FAIL",
                     f"{outcome['seconds']:.0f}", outcome["claims"],
                     _margin_text(outcome["closest"])])
    print(tabulate(rows, headers=["page", "COURSE_SEED", "result", "seconds", "claims",
                                  "smallest margin"]))
    if args.json:
        Path(args.json).write_text(json.dumps(outcomes, indent=1), encoding="utf-8")
    return 0 if all(o["passed"] for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
