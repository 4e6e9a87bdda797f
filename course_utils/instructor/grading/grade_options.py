"""The ``course grade`` command line: its options and the limits they set.

Kept apart from :mod:`course_utils.instructor.grading.command` and free of nbgrader, so
that ``course --help`` and ``course grade --help`` work (and stay quick)
where the grading extra is not installed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from course_utils.instructor.grading.sandbox import LIMIT_MINIMUMS, Limits

__all__ = ["add_arguments", "limits_from_args"]


def _whole_number(minimum: int, unit: str = "") -> Callable[[str], int]:
    """An argparse ``type`` that accepts a whole number >= ``minimum`` and nothing else."""
    expected = f"a whole number{unit} of at least {minimum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")
        return value

    parse.__name__ = expected  # argparse names the type in some messages
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the ``grade`` subcommand's arguments to ``parser``."""
    defaults = Limits()
    parser.add_argument("assignment", help="the assignment id (a folder in solutions/)")
    parser.add_argument("submissions", help="nbgrader's submitted/ folder (or the course "
                        "folder holding it), a folder of <student>.ipynb files, or an LMS .zip")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores)")
    parser.add_argument("--dask", metavar="ADDRESS", default=None,
                        help="grade on this dask.distributed scheduler (tcp://host:8786)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code without the bubblewrap sandbox (unsafe)")
    parser.add_argument("--fresh-grader", action="store_true",
                        help="start a new nbgrader process per submission instead of reusing "
                        "long-lived grader processes (slower; each submission gets its own "
                        "kernel and sandbox either way)")
    parser.add_argument("--force", action="store_true",
                        help="regrade every submission, not only new or changed ones")
    parser.add_argument("--timeout", type=_whole_number(1, " of seconds"), default=None,
                        metavar="SECONDS",
                        help="time limit per cell (default: nbgrader_config.py's)")
    parser.add_argument("--memory-mb", type=_whole_number(LIMIT_MINIMUMS["memory_mb"], " of MiB"),
                        default=None, metavar="MB",
                        help="memory limit per submission's kernel, MiB (at least "
                        f"{LIMIT_MINIMUMS['memory_mb']}; default {defaults.memory_mb})")
    parser.add_argument("--max-processes", type=_whole_number(LIMIT_MINIMUMS["processes"]),
                        default=None, metavar="N",
                        help="process/thread limit per kernel (sandbox only; "
                        f"default {defaults.processes})")
    parser.add_argument("--file-size-mb",
                        type=_whole_number(LIMIT_MINIMUMS["file_size_mb"], " of MiB"),
                        default=None, metavar="MB",
                        help="largest file a kernel may write, MiB "
                        f"(default {defaults.file_size_mb})")
    parser.add_argument("--wall-seconds",
                        type=_whole_number(LIMIT_MINIMUMS["wall_seconds"], " of seconds"),
                        default=None, metavar="SECONDS",
                        help="time limit of a submission's kernel "
                        f"(nbgrader itself gets 120 s more; default {defaults.wall_seconds})")
    parser.add_argument("--output", default=None, metavar="DIR",
                        help="where grades.csv, the report and feedback/ go "
                        "(default: the course folder)")


def limits_from_args(args: argparse.Namespace) -> Limits:
    """The sandbox limits the options ask for; an option left out keeps its default.

    Only a missing option (``None``) falls back to the default: an explicit
    value, even 0, goes to :class:`Limits`, which rejects what is too small.
    """
    defaults = Limits()
    chosen = {"memory_mb": args.memory_mb, "processes": args.max_processes,
              "file_size_mb": args.file_size_mb, "wall_seconds": args.wall_seconds}
    return Limits(**{name: getattr(defaults, name) if value is None else value
                     for name, value in chosen.items()})
