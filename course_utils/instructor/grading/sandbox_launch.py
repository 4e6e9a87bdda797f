"""Kernel launcher of the grading sandbox (run as a script, standard library only).

jupyter_client starts this script (``kernel.json`` written by
:func:`course_utils.instructor.grading.sandbox.prepare`) with the kernel's working
directory as cwd::

    python -I -S sandbox_launch.py <config.json> <connection_file> [kernel args]

It copies the working directory into a fresh scratch folder, sets the
resource limits, starts ipykernel under bubblewrap, and supervises it: the
kernel is killed when its wall time is up, and when this process is told to
stop. Events (a wall-time kill) are appended to the sandbox's ``events.log``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

#: Environment variables passed into the sandbox (all others are dropped).
PASSED_ENV = (
    "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "PYTHONWARNINGS",
    "PYTHONIOENCODING", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
    "FASHION_MNIST_DIR", "KERAS_BACKEND", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MPLBACKEND", "SOURCE_DATE_EPOCH",
)

#: First host user id of sandboxed kernels when the grader runs as root; the
#: launcher's process id is added, so kernels running at once never share one.
UID_BASE = 1_000_000


def _event(config: dict, message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    try:
        with open(config["events"], "a", encoding="utf-8") as log:
            log.write(f"{stamp} {message}\n")
    except OSError:
        pass
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


def namespace_args(from_root: bool) -> list[str]:
    """The namespaces bwrap unshares: all but the user namespace when run as root.

    As root the kernel later drops to an unprivileged host user id (which a
    user namespace would map back to root); without root, bwrap creates the
    user namespace itself. :mod:`course_utils.instructor.grading.sandbox` probes bwrap
    with the same flags.
    """
    args = [] if from_root else ["--unshare-user"]
    return args + ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                   "--unshare-cgroup-try"]


def probe_command(bwrap: str) -> list[str]:
    """A trivial sandbox with the kernel's namespaces: it works, or bwrap cannot run here."""
    return [bwrap, *namespace_args(os.geteuid() == 0), "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc", "true"]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args


def within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (both absolute, normalised)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _parents(path: str) -> list[str]:
    """The ancestors of an absolute path, outermost first, without "/"."""
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[:i + 1]) for i in range(len(parts))]


def _outermost(paths: list[str]) -> list[str]:
    """The paths not inside another one of them, shortest first."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(within(path, other) for other in kept):
            kept.append(path)
    return kept


def _copy_folder(source: str, target: str) -> None:
    """Copies the notebook folder's content (symlinks stay links) into target.

    Notebooks are left out: nbgrader's working copy of the notebook being
    graded sits there, with the hidden tests already restored into it.
    """
    for entry in os.scandir(source):
        destination = os.path.join(target, entry.name)
        if entry.name.endswith(".ipynb"):
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), destination)
        elif entry.is_dir():
            shutil.copytree(entry.path, destination, symlinks=True,
                            ignore=shutil.ignore_patterns("*.ipynb"))
        elif entry.is_file():
            shutil.copy2(entry.path, destination)


def _chown_tree(path: str, uid: int) -> None:
    os.chown(path, uid, uid, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def build_command(config: dict, cwd: str, scratch: str, tmp: str, uid: int | None,
                  kernel_args: list[str]) -> list[str]:
    """The bwrap command line that runs ipykernel for the notebook in ``cwd``."""
    from_root = os.geteuid() == 0
    args = [config["bwrap"], "--die-with-parent", "--new-session",
            *namespace_args(from_root), "--hostname", "sandbox"]
    args += _system_binds()
    args += ["--dev", "/dev", "--proc", "/proc",
             "--size", str(64 * 1024 * 1024), "--tmpfs", "/dev/shm",
             "--bind", tmp, "/tmp"]
    runtime = config["runtime_dir"]
    mounts = [("--ro-bind", path, path) for path in _outermost(config["ro_paths"])]
    mounts += [("--bind", runtime, runtime), ("--bind", scratch, cwd)]
    read_only = ["/usr", "/etc", "/dev", "/proc"]
    created: set[str] = {"/tmp"}
    for kind, source, target in mounts:
        # bwrap would create missing parents with mode 0700, closed to the
        # kernel's unprivileged user: create them readable first.
        for parent in _parents(target):
            if parent not in created and not any(within(parent, m) for m in read_only):
                args += ["--perms", "0755", "--dir", parent]
                created.add(parent)
        args += [kind, source, target]
        if kind == "--ro-bind":
            read_only.append(target)
    args += ["--chdir", cwd]
    args += ["--clearenv"]
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    python_bin = os.path.dirname(config["python"])
    env.update({
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/.ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
        "PYTHONDONTWRITEBYTECODE": "1",
        # glibc reserves 64 MiB of address space per malloc arena, up to 8
        # per core: cap them so the memory limit means the same everywhere.
        "MALLOC_ARENA_MAX": "4",
    })
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    if from_root and uid is not None:
        # bwrap drops every capability of a root sandbox; keep the two that
        # switch to the kernel's own unprivileged user id, which setpriv
        # then drops for good.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    else:
        args.append("--")
    args += [config["python"], "-m", "ipykernel_launcher", *kernel_args]
    return args


def _limits(limits: dict) -> None:
    mib = 1024 * 1024
    for which, value in ((resource.RLIMIT_AS, limits["memory_mb"] * mib),
                         (resource.RLIMIT_NPROC, limits["processes"]),
                         (resource.RLIMIT_FSIZE, limits["file_size_mb"] * mib),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


def main(argv: list[str]) -> int:
    """Runs one sandboxed kernel; returns its exit status."""
    if len(argv) < 2:
        print("usage: sandbox_launch.py CONFIG CONNECTION_FILE [KERNEL ARGS...]",
              file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        config = json.load(handle)
    connection_file, extra = argv[1], argv[2:]
    cwd = os.path.realpath(os.getcwd())
    scratch = tempfile.mkdtemp(prefix="scratch-", dir=config["sandbox"])
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=config["sandbox"])
    _copy_folder(cwd, scratch)
    os.makedirs(os.path.join(tmp, "jupyter-runtime"))
    uid = None
    if os.geteuid() == 0:
        uid = UID_BASE + os.getpid()
        for path in (scratch, tmp):
            _chown_tree(path, uid)
        # The kernel creates its sockets next to the connection file.
        os.chown(config["runtime_dir"], uid, uid)
        os.chown(connection_file, uid, uid)
    command = build_command(config, cwd, scratch, tmp, uid,
                            ["-f", connection_file, *extra])
    limits = config["limits"]
    # The kernel's own stdout/stderr (not the cells' output, which goes over
    # the sockets) are kept in a log next to the events.
    log = open(os.path.join(config["sandbox"], "kernel.log"), "ab")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               preexec_fn=lambda: _limits(limits))
    log.close()

    def stop(signum: int, _frame: object) -> None:
        process.kill()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts go by message
    try:
        return process.wait(timeout=limits["wall_seconds"])
    except subprocess.TimeoutExpired:
        _event(config, f"wall time limit of {limits['wall_seconds']} s reached: kernel killed")
        process.kill()
        return process.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
