"""The ``course`` command: release exercises, grade submissions, check the data.

Examples::

    course release                      # regenerate exercises/ from solutions/
    course release ch01_unstable_gradients
    course data check                   # where Fashion-MNIST will be read from
    course data ensure                  # install it if it is missing
    course setup --for test             # install the Debian packages `make test` needs
    course book                         # build the book (honest execution cache)
    course grade ch01_unstable_gradients submissions/
    course similarity ch01_unstable_gradients submissions/
    course export ch01_unstable_gradients --format canvas --roster roster.csv
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["main", "EXTRAS", "MissingExtraError", "require_extra"]

# The modules each optional part of the package imports, by the extra that installs them
# (pyproject.toml's [project.optional-dependencies]). A student's plain install has none.
EXTRAS = {
    "grading": ("nbgrader", "nbclient", "nbformat", "ipykernel"),
    "book": ("jupyter_book", "jupyter_cache", "yaml", "mathjax"),
}


class MissingExtraError(RuntimeError):
    """An instructor or book command runs where its extra is not installed."""


def require_extra(extra: str, modules: tuple[str, ...] | None = None) -> None:
    """Checks that the modules of an extra can be imported.

    Args:
        extra: A key of :data:`EXTRAS`.
        modules: The modules to check; all of the extra's by default.

    Raises:
        MissingExtraError: naming the missing modules and the pip command
            that installs the extra.
    """
    missing = []
    for module in modules or EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise MissingExtraError(
            f"this command needs the {extra!r} extra of course-utils, and "
            f"{', '.join(missing)} cannot be imported here. Install it with: "
            f'pip install "course-utils[{extra}]" (in the course repository: make setup).'
        )


def course_root(path: str | os.PathLike | None) -> Path:
    """The course folder: ``path``, or the current folder when it is None.

    Every ``course`` command (and ``course grade``) checks it here, once.

    Raises:
        ValueError: if the folder has no ``nbgrader_config.py``.
    """
    root = Path(path or os.getcwd()).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise ValueError(
            f"{root} is not the course folder (it has no nbgrader_config.py). "
            "Run the command from the repository root or pass --course-root."
        )
    return root


def _cmd_release(args: argparse.Namespace) -> int:
    require_extra("grading", ("nbgrader",))
    from course_utils.instructor.grading.release import release

    root = course_root(args.course_root)
    written = release(root, args.assignments or None)
    for path in written:
        print(f"released {path.relative_to(root)}")
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from course_utils.core import data

    if args.action == "check":
        try:
            print(f"Fashion-MNIST: {data.find_source()}")
        except data.DataNotFoundError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    # ensure: cheap sources first, then the Debian package, then Keras' download.
    try:
        print(f"Fashion-MNIST: {data.find_source(('env', 'debian'))}")
        return 0
    except data.DataNotFoundError:
        pass
    from course_utils.instructor import system_setup

    prefix = system_setup.apt_prefix()
    if prefix is not None:
        print("Fashion-MNIST: installing the Debian package dataset-fashion-mnist ...")
        problem = system_setup.apt_install(prefix, ["dataset-fashion-mnist"])
        if problem:
            print(f"apt-get failed:\n{problem}", file=sys.stderr)
    try:
        print(f"Fashion-MNIST: {data.find_source()}")
        return 0
    except data.DataNotFoundError as error:
        print(error, file=sys.stderr)
        return 1


def _cmd_setup_cell(args: argparse.Namespace) -> int:
    require_extra("book", ("yaml",))
    from course_utils.instructor import setup_cell

    root = course_root(args.course_root)
    changed = setup_cell.sync_course(root, write=not args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'updated'}: {path.relative_to(root)}")
    return 1 if args.check and changed else 0


def _cmd_setup(args: argparse.Namespace) -> int:
    from course_utils.instructor import system_setup

    return system_setup.ensure(args.target)


def toc_pages(root: Path) -> list[Path]:
    """The pages listed in ``_toc.yml`` that Jupyter Book executes (not exercises).

    The table of contents is read by ``sphinx-external-toc``, the parser
    Jupyter Book itself uses, so both agree on which files are pages.
    """
    from sphinx_external_toc.parsing import parse_toc_yaml

    names = list(parse_toc_yaml(Path(root) / "_toc.yml").keys())
    pages = []
    for name in names:
        if name.startswith("exercises/"):
            continue
        for suffix in (".md", ".ipynb"):
            if (root / f"{name}{suffix}").is_file():
                pages.append(root / f"{name}{suffix}")
                break
    return pages


def prepare_static(root: Path) -> Path:
    """Copies MathJax into ``_build/static`` so the book renders math offline.

    The book serves its own copy of MathJax 3 (from the pinned
    ``django-static-mathjax`` package) instead of a CDN: it works without
    internet access, and the published site is self-contained.

    Returns:
        The static folder (``html_static_path`` in ``_config.yml``).
    """
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    static = root / "_build" / "static"
    target = static / "mathjax"
    if not (target / "tex-mml-chtml.js").is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / "tex-mml-chtml.js", target / "tex-mml-chtml.js")
        for folder in ("input", "output", "ui", "a11y", "sre", "adaptors"):
            if (source / folder).is_dir():
                shutil.copytree(source / folder, target / folder, dirs_exist_ok=True)
    return static


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _execution_timeout(root: Path) -> int:
    """``execute.timeout`` from the book's ``_config.yml`` (Jupyter Book's default 30)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return int((config.get("execute") or {}).get("timeout", 30))


def _cmd_book(args: argparse.Namespace) -> int:
    require_extra("book")
    from course_utils.instructor import book_cache

    root = course_root(args.course_root)
    # Kernels inherit this environment: keep TensorFlow's C++ log lines off
    # the pages' stderr (the build treats stderr as a warning) even when the
    # book is built without `make`.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    prepare_static(root)
    pages = toc_pages(root)
    cache_dir = root / "_build" / ".jupyter_cache"
    stale = book_cache.invalidate_stale_pages(root, pages, cache_dir)
    if stale:
        print("course book: course_utils, the requirements or the data changed since these "
              "pages ran; executing them again: "
              + ", ".join(str(p.relative_to(root)) for p in stale))
    if args.jobs != 1:
        from course_utils.instructor import book_execution

        def report(outcome):
            if outcome.status == "failed":
                print(f"course book: {outcome.page.relative_to(root)} failed after "
                      f"{outcome.seconds:.0f} s; Jupyter Book runs it again to report the error",
                      flush=True)
            else:
                print(f"course book: executed {outcome.page.relative_to(root)} in "
                      f"{outcome.seconds:.0f} s", flush=True)

        book_execution.execute_uncached_pages(
            pages, cache_dir, jobs=args.jobs, timeout=_execution_timeout(root), report=report)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root),
               "-W", "-n", "--keep-going", *args.jupyter_book_args]
    result = subprocess.run(command, cwd=root)
    if result.returncode == 0:
        book_cache.record_fingerprints(root, pages, cache_dir)
    return result.returncode


def _cmd_grade(args: argparse.Namespace) -> int:
    require_extra("grading")
    if args.dask:
        require_extra("grading", ("distributed",))
    from course_utils.instructor.grading import command

    return command.run(args)


def _cmd_similarity(args: argparse.Namespace) -> int:
    require_extra("grading", ("copydetect",))
    from course_utils.instructor.grading import similarity

    return similarity.run(args, course_root(args.course_root))


def _cmd_export(args: argparse.Namespace) -> int:
    from course_utils.instructor.grading import lms_export

    return lms_export.run(args, course_root(args.course_root))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course-root", default=None,
                        help="the course folder (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    release = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    release.set_defaults(func=_cmd_release)

    setup = sub.add_parser("setup", help="install the Debian packages a make target needs "
                           "(apt-get as root or with passwordless sudo), or say which")
    setup.add_argument("--for", dest="target", default="test",
                       choices=["book", "lab", "grade", "bench", "test"])
    setup.set_defaults(func=_cmd_setup)

    cell = sub.add_parser("setup-cell", help="write the set-up cell (installs course_utils "
                          "where it is missing) into every page and source notebook")
    cell.add_argument("--check", action="store_true",
                      help="only list the files whose set-up cell is out of date")
    cell.set_defaults(func=_cmd_setup_cell)

    data = sub.add_parser("data", help="check or install Fashion-MNIST")
    data.add_argument("action", choices=["check", "ensure"])
    data.set_defaults(func=_cmd_data)

    book = sub.add_parser("book", help="build the book, re-executing pages whose "
                          "course_utils code, requirements or data changed")
    book.add_argument("--jobs", type=_positive_int, default=None,
                      help="pages executed at once before Jupyter Book renders them "
                      "(default: one per core; 1 leaves execution to Jupyter Book)")
    book.add_argument("jupyter_book_args", nargs=argparse.REMAINDER,
                      help="extra arguments for `jupyter-book build`")
    book.set_defaults(func=_cmd_book)

    # The options are defined without nbgrader: without the grading extra,
    # `course grade ...` says which extra to install (not "unrecognized arguments").
    from course_utils.instructor.grading import grade_options

    grade = sub.add_parser("grade", help="autograde a batch of submissions")
    grade_options.add_arguments(grade)
    grade.set_defaults(func=_cmd_grade)

    from course_utils.instructor.grading import lms_export, similarity

    similar = sub.add_parser("similarity", help="rank pairs of students whose answers are "
                             "unusually similar (HTML page side by side)")
    similarity.add_arguments(similar)
    similar.set_defaults(func=_cmd_similarity)
    export = sub.add_parser("export", help="write an assignment's grades for Canvas, Moodle "
                            "or as CSV")
    lms_export.add_arguments(export)
    export.set_defaults(func=_cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        print(f"course {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
