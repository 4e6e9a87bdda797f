"""Running a student's kernel inside a bubblewrap sandbox.

``prepare(workdir, limits=...)`` writes a private Jupyter kernelspec into the
throwaway course copy ``workdir``. When ``nbgrader autograde`` runs there with
the returned environment and arguments, every kernel it starts goes through
:mod:`course_utils.instructor.grading.sandbox_launch`, which runs ipykernel under
``bwrap`` with:

* no network (a new, empty network namespace; the kernel talks to nbgrader
  over Unix sockets, the ``ipc`` transport);
* a read-only view of the system (``/usr``, ``/etc``), of the Python
  installation and of ``course_utils``, of the Fashion-MNIST data, and
  nothing else of the host: no ``workdir/gradebook.db``, ``solutions/`` or
  ``source/``, no real course, no other submission, no home folder;
* a writable scratch copy of the notebook's folder (the kernel's working
  directory) without its notebooks (nbgrader's working copy there already
  holds the hidden tests), and a private ``/tmp``, both thrown away with
  ``workdir``;
  nbgrader writes the graded notebook to the real folder, which the kernel
  cannot touch, so files the student's code creates (symlinks included) are
  never read or followed by the grader;
* limits on memory (address space), processes, file size and wall time;
  when the grader runs as root, the kernel runs as an unprivileged user id
  of its own, so the process limit counts only the sandbox's processes.

Example::

    kernel = prepare(workdir, limits=Limits())
    env = {**os.environ}
    for name, value in kernel.env.items():
        if value is None: env.pop(name, None)
        else: env[name] = value
    subprocess.run(["nbgrader", "autograde", assignment, *kernel.nbgrader_args],
                   cwd=workdir, env=env, timeout=...)
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The launcher builds the bwrap command line; the probe here uses its flags.
from course_utils.instructor.grading import sandbox_launch
from course_utils.instructor.grading.sandbox_launch import within

__all__ = [
    "BWRAP_ENV_VAR",
    "LIMIT_MINIMUMS",
    "Limits",
    "SandboxUnavailable",
    "SandboxedKernel",
    "check_available",
    "prepare",
    "read_events",
]

#: Environment variable naming the bubblewrap executable (default: ``bwrap``
#: on ``PATH``).
BWRAP_ENV_VAR = "COURSE_SANDBOX_BWRAP"

#: Folder inside ``workdir`` that holds the kernelspec, sockets and scratch.
SANDBOX_DIR = ".sandbox"

#: Longest Unix socket path zmq accepts, minus what jupyter_client appends
#: to the runtime folder (``/kernel-ipc-<port>``, see ``prepare``).
_MAX_RUNTIME_DIR = 107 - len("/kernel-ipc-65535")

_INSTALL_HINT = (
    "Install it with `apt-get install bubblewrap` (Debian/Ubuntu; "
    "`dnf install bubblewrap` on Fedora), or grade with --no-sandbox to run "
    "student code unconfined (only for code you trust)."
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


# The smallest value each limit accepts (`course grade` checks its options against these).
LIMIT_MINIMUMS = {"memory_mb": 64, "processes": 8, "file_size_mb": 1, "wall_seconds": 1}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel.

    The defaults fit the course's TensorFlow notebooks (TensorFlow reserves
    a large address space and starts a thread per core per pool) and stop a
    runaway allocation, fork loop or file long before the machine suffers.

    Attributes:
        memory_mb: Address-space limit (``RLIMIT_AS``) of each process, MiB.
        processes: Processes and threads the kernel may run (``RLIMIT_NPROC``).
        file_size_mb: Largest file the kernel may write (``RLIMIT_FSIZE``), MiB.
        wall_seconds: Wall-clock life of the kernel; it is killed after this.
    """

    memory_mb: int = 8192
    processes: int = 512
    file_size_mb: int = 1024
    wall_seconds: int = 900

    def __post_init__(self) -> None:
        for name, minimum in LIMIT_MINIMUMS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(
                    f"Limits.{name}: expected an integer >= {minimum}, received {value!r}."
                )


@dataclass
class SandboxedKernel:
    """How to make ``nbgrader autograde`` (run with ``cwd=workdir``) use the sandbox.

    Attributes:
        env: Environment variables for the nbgrader subprocess; ``None``
            means "unset this variable".
        nbgrader_args: Extra command-line arguments for ``nbgrader autograde``.
        kernelspec_dir: The private kernelspec folder (for inspection).
    """

    env: dict[str, str | None]
    nbgrader_args: list[str]
    kernelspec_dir: Path = field(default_factory=Path)


def _bwrap_path(bwrap: str | None = None) -> str:
    name = bwrap or os.environ.get(BWRAP_ENV_VAR) or "bwrap"
    found = shutil.which(name)
    if found is None:
        raise SandboxUnavailable(
            f"bubblewrap (`{name}`) was not found on PATH; the grader runs student "
            f"code inside it. {_INSTALL_HINT}"
        )
    return found


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str) -> None:
    """Starts a trivial sandbox once per executable; raises if that fails."""
    command = sandbox_launch.probe_command(bwrap)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"{bwrap} could not be run: {error}. {_INSTALL_HINT}") from error
    if result.returncode != 0:
        raise SandboxUnavailable(
            f"{bwrap} cannot create a sandbox here (exit {result.returncode}: "
            f"{result.stderr.strip()[:300]}). Unprivileged user namespaces may be "
            f"disabled (sysctl kernel.unprivileged_userns_clone=1), or run as root. "
            f"{_INSTALL_HINT}"
        )


def check_available(bwrap: str | None = None) -> None:
    """Checks that a sandbox can be started on this machine.

    Args:
        bwrap: The bubblewrap executable; default ``$COURSE_SANDBOX_BWRAP``
            or ``bwrap`` on ``PATH``.

    Raises:
        SandboxUnavailable: bubblewrap is missing or does not work here; the
            message says how to install it.
    """
    _probe(_bwrap_path(bwrap))


@functools.lru_cache(maxsize=8)
def _python_paths(python: str) -> tuple[tuple[str, ...], str | None]:
    """The folders ``python`` needs read-only, and the course_utils package folder."""
    script = (
        "import sys, os, json, importlib.util\n"
        "spec = importlib.util.find_spec('course_utils')\n"
        "pkg = list(spec.submodule_search_locations or []) if spec else []\n"
        "print(json.dumps({'prefixes': [sys.prefix, sys.base_prefix, sys.exec_prefix,"
        " sys.base_exec_prefix, os.path.dirname(os.path.realpath(sys.executable))],"
        " 'path': [p for p in sys.path if p], 'package': pkg[0] if pkg else None}))\n"
    )
    try:
        result = subprocess.run([python, "-c", script], capture_output=True, text=True,
                                timeout=60, cwd="/")
        info = json.loads(result.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as error:
        raise SandboxUnavailable(
            f"Could not ask the kernel's Python ({python}) where it is installed: {error}"
        ) from error
    prefixes = {os.path.realpath(p) for p in info["prefixes"]}
    prefixes |= set(info["prefixes"])
    paths = set(prefixes)
    for entry in info["path"]:
        entry = os.path.realpath(entry)
        if os.path.isdir(entry) and not any(within(entry, p) for p in prefixes) \
                and not _looks_like_course(entry):
            paths.add(entry)
    return tuple(sorted(p for p in paths if os.path.isdir(p))), info["package"]


def _looks_like_course(folder: str) -> bool:
    """True for folders that may hold hidden tests: never exposed whole."""
    path = Path(folder)
    return (folder in ("/", os.path.expanduser("~"))
            or any((path / name).exists() for name in
                   ("nbgrader_config.py", "gradebook.db", "solutions", "source",
                    "submitted")))


def _data_paths() -> list[str]:
    """Read-only data folders: $FASHION_MNIST_DIR, the Debian data, Keras' cache."""
    candidates = [os.environ.get("FASHION_MNIST_DIR"), "/usr/share/datasets"]
    keras_home = os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras")
    candidates.append(os.path.join(keras_home, "datasets"))
    return [os.path.realpath(c) for c in candidates if c and os.path.isdir(c)]


def _runtime_dir(sandbox: Path) -> Path:
    """A folder for the connection file and the kernel's Unix sockets.

    It lives in ``workdir/.sandbox/run`` unless that path is too long for a
    Unix socket; then a short folder in the system temp dir is used.
    """
    run = sandbox / "run"
    if len(str(run)) <= _MAX_RUNTIME_DIR:
        run.mkdir(mode=0o700, exist_ok=True)
        return run
    import hashlib
    import tempfile

    temp = Path(tempfile.gettempdir())
    _remove_stale_runtime_dirs(temp)
    digest = hashlib.sha1(str(sandbox).encode()).hexdigest()[:16]
    short = temp / f"course-sbx-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    (sandbox / "run-link").unlink(missing_ok=True)
    (sandbox / "run-link").symlink_to(short)
    (short / "owner").write_text(str(sandbox / "run-link"), encoding="utf-8")
    return short


def _remove_stale_runtime_dirs(temp: Path) -> None:
    """Removes short runtime folders whose course copy is gone.

    Each ``course-sbx-*`` folder belongs to the sandbox folder whose
    ``run-link`` symlink points at it; when that link is gone (the throwaway
    course copy was deleted), the folder is removed.
    """
    for folder in temp.glob("course-sbx-*"):
        owner = folder / "owner"
        try:
            link = Path(owner.read_text(encoding="utf-8")) if owner.is_file() else None
            if link is None or not link.is_symlink() or link.resolve() != folder.resolve():
                if link is not None or time.time() - folder.stat().st_mtime > 3600:
                    shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def prepare(workdir: Path, *, limits: Limits, python: str = sys.executable,
            bwrap: str | None = None) -> SandboxedKernel:
    """Writes a sandboxed ``python3`` kernelspec into ``workdir``.

    Args:
        workdir: The throwaway course copy in which ``nbgrader autograde``
            will run (its ``autograded/`` folder is where the kernel works).
        limits: Resource limits of each kernel.
        python: The Python that runs ipykernel inside the sandbox.
        bwrap: The bubblewrap executable; default ``$COURSE_SANDBOX_BWRAP``
            or ``bwrap`` on ``PATH``.

    Returns:
        The environment and nbgrader arguments that select the sandboxed kernel.

    Raises:
        SandboxUnavailable: bubblewrap is missing or does not work here.
        ValueError: ``workdir`` is not an existing folder.
    """
    workdir = Path(workdir)
    if not workdir.is_dir():
        raise ValueError(f"prepare: expected an existing folder as workdir, received {workdir}")
    workdir = workdir.resolve()
    bwrap_path = _bwrap_path(bwrap)
    _probe(bwrap_path)
    python = os.path.abspath(python)
    ro_paths, package = _python_paths(python)
    sandbox = workdir / SANDBOX_DIR
    kernel_dir = sandbox / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    run = _runtime_dir(sandbox)
    config = {
        "bwrap": bwrap_path,
        "python": python,
        "workdir": str(workdir),
        "sandbox": str(sandbox),
        "runtime_dir": str(run),
        "ro_paths": sorted({*ro_paths, *([package] if package else []), *_data_paths()}),
        "limits": asdict(limits),
        "events": str(sandbox / "events.log"),
    }
    config_path = sandbox / "config.json"
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    launcher = Path(sandbox_launch.__file__)
    spec = {
        "argv": [sys.executable, "-I", "-S", str(launcher), str(config_path),
                 "{connection_file}"],
        "display_name": "Python 3 (sandboxed)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    env: dict[str, str | None] = {
        "JUPYTER_PATH": str(sandbox),
        "JUPYTER_RUNTIME_DIR": str(run),
        "JPY_PARENT_PID": None,
    }
    args = [
        # Unix sockets next to the connection file, in a folder the sandbox
        # shares with nbgrader (a network namespace hides nbgrader's loopback).
        "--KernelManager.transport=ipc",
        f"--KernelManager.connection_file={run / 'kernel.json'}",
        f"--KernelManager.ip={run / 'kernel-ipc'}",
        # The notebook's own kernelspec metadata must not pick another kernel.
        "--Execute.kernel_name=python3",
        "--KernelSpecManager.ensure_native_kernel=False",
        "--KernelSpecManager.allowed_kernelspecs=python3",
    ]
    return SandboxedKernel(env=env, nbgrader_args=args, kernelspec_dir=kernel_dir)


def read_events(workdir: Path) -> list[str]:
    """Returns what the sandbox recorded about its kernels in ``workdir``.

    One line per event, e.g. ``"wall time limit of 900 s reached: kernel killed"``;
    empty when nothing happened (or the sandbox was not used).
    """
    path = Path(workdir) / SANDBOX_DIR / "events.log"
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip()]
