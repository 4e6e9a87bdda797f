"""The grading sandbox at kernel level: each escape or resource attack fails.

The kernels are started straight through jupyter_client/nbclient with the
kernelspec that :func:`course_utils.instructor.grading.sandbox.prepare` writes, with
small limits, so that even a broken sandbox cannot take the machine down:
every attack is bounded on its own (a fork loop stops at 200 processes, an
allocation at 4x the limit, a file at 64 MiB) and every wait has a timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from traitlets.config import Config

from course_utils.instructor.grading.sandbox import (
    BWRAP_ENV_VAR,
    Limits,
    SandboxUnavailable,
    check_available,
    prepare,
    read_events,
)
from tests.grading.conftest import loopback_listener

SMALL = Limits(memory_mb=1024, processes=64, file_size_mb=16, wall_seconds=60)


def _manager_kwargs(args: list[str]) -> dict[str, str]:
    """The ``--KernelManager.x=y`` arguments of ``prepare`` as keyword arguments."""
    kwargs = {}
    for arg in args:
        if arg.startswith("--KernelManager."):
            name, _, value = arg[len("--KernelManager."):].partition("=")
            kwargs[name] = value
    return kwargs


class SandboxKernel:
    """A sandboxed kernel for one test, running in ``workdir/autograded/s/a``."""

    def __init__(self, workdir: Path, limits: Limits = SMALL) -> None:
        self.workdir = workdir
        self.cwd = workdir / "autograded" / "student" / "small"
        self.cwd.mkdir(parents=True, exist_ok=True)
        kernel = prepare(workdir, limits=limits)
        self.saved = {name: os.environ.get(name) for name in kernel.env}
        for name, value in kernel.env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.kernel = kernel
        self.km = KernelManager(kernel_name="python3", **_manager_kwargs(kernel.nbgrader_args))

    def __enter__(self) -> SandboxKernel:
        self.km.start_kernel(cwd=str(self.cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        return self

    def run(self, code: str, timeout: float = 30) -> tuple[str, str]:
        """Runs ``code``; returns (``"ok"``/``"error"``/``"dead"``, text output)."""
        chunks: list[str] = []

        def collect(message: dict) -> None:
            content = message["content"]
            if message["msg_type"] == "stream":
                chunks.append(content["text"])
            elif message["msg_type"] == "error":
                chunks.append(f"{content['ename']}: {content['evalue']}")

        try:
            reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=collect)
        except (TimeoutError, RuntimeError):
            return ("dead" if not self.km.is_alive() else "timeout"), "".join(chunks)
        return reply["content"]["status"], "".join(chunks)

    def __exit__(self, *exc: object) -> None:
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        finally:
            for name, value in self.saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """A throwaway course copy with secrets the kernel must not see."""
    work = tmp_path / "work"
    for path in ("gradebook.db", "solutions/small/small.ipynb", "source/small/small.ipynb",
                 "submitted/other/small/small.ipynb"):
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text("SECRET hidden test", encoding="utf-8")
    return work


@pytest.mark.kernel
def test_kernel_runs_numpy_and_course_utils_as_unprivileged_user(workdir: Path) -> None:
    (workdir / "autograded" / "student" / "small").mkdir(parents=True)
    (workdir / "autograded" / "student" / "small" / "data.txt").write_text("42")
    with SandboxKernel(workdir) as kernel:
        status, out = kernel.run(
            "import os, numpy, course_utils.checks\n"
            "print(numpy.ones(3).sum(), os.getuid(), os.getcwd())\n"
            "print(open('data.txt').read())\n"
            "open('written.txt', 'w').write('x'); os.symlink('/etc/passwd', 'link')\n"
            "print(sorted(os.listdir('.')))")
    assert status == "ok", out
    total, uid, cwd = out.splitlines()[0].split()
    assert total == "3.0" and cwd == str(kernel.cwd)
    if os.geteuid() == 0:
        assert int(uid) != 0, "the kernel must not run as root"
    assert out.splitlines()[1] == "42"
    assert "written.txt" in out and "link" in out
    # The kernel wrote into a scratch copy: the folder nbgrader writes the
    # graded notebook into is untouched (no file, no planted symlink).
    assert sorted(p.name for p in kernel.cwd.iterdir()) == ["data.txt"]


@pytest.mark.kernel
def test_kernel_sees_no_secret(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("COURSE_TEST_SECRET_TOKEN", "hunter2")
    paths = [workdir / "gradebook.db", workdir / "solutions/small/small.ipynb",
             workdir / "source/small/small.ipynb", workdir / "submitted/other/small/small.ipynb",
             course / "solutions", course / "nbgrader_config.py", Path.home() / ".bashrc",
             workdir / ".sandbox" / "config.json"]
    code = ("import os, json\n"
            f"paths = {json.dumps([str(p) for p in paths])}\n"
            "print(json.dumps({p: os.path.exists(p) for p in paths}))\n"
            "print('COURSE_TEST_SECRET_TOKEN' in os.environ, os.listdir(os.path.expanduser('~')))")
    with SandboxKernel(workdir) as kernel:
        status, out = kernel.run(code)
    assert status == "ok", out
    seen = json.loads(out.splitlines()[0])
    assert seen == {str(p): False for p in paths}
    assert out.splitlines()[1].startswith("False")
    assert all(p.exists() for p in paths[:7] if p != Path.home() / ".bashrc")


@pytest.mark.kernel
def test_no_network_to_loopback_or_outside(workdir: Path) -> None:
    with loopback_listener(seconds=20) as (port, accepted):
        code = ("import socket, time\n"
                f"for address in [('127.0.0.1', {port}), ('8.8.8.8', 53), ('1.1.1.1', 443)]:\n"
                "    start = time.monotonic()\n"
                "    try:\n"
                "        socket.create_connection(address, timeout=5)\n"
                "        print('CONNECTED', address)\n"
                "    except OSError as error:\n"
                "        print('failed', round(time.monotonic() - start, 1), error.errno)\n")
        with SandboxKernel(workdir) as kernel:
            status, out = kernel.run(code)
    assert status == "ok", out
    assert "CONNECTED" not in out and out.count("failed") == 3, out
    assert all(float(line.split()[1]) < 2 for line in out.splitlines()), out
    assert accepted == []


@pytest.mark.kernel
def test_system_is_read_only(workdir: Path) -> None:
    code = ("import os\n"
            "for path in ['/usr/owned.txt', '/etc/owned.txt', os.__file__ + '.owned',\n"
            "             '/work/main/course_utils/owned.py']:\n"
            "    try:\n"
            "        open(path, 'w').write('x'); print('WROTE', path)\n"
            "    except OSError as error:\n"
            "        print('refused', error.errno)\n")
    with SandboxKernel(workdir) as kernel:
        status, out = kernel.run(code)
    assert status == "ok", out
    assert "WROTE" not in out and out.count("refused") == 4, out
    assert not Path("/usr/owned.txt").exists() and not Path("/etc/owned.txt").exists()


@pytest.mark.kernel
def test_memory_limit_stops_a_huge_allocation(workdir: Path) -> None:
    limits = Limits(memory_mb=512, processes=64, file_size_mb=16, wall_seconds=60)
    with SandboxKernel(workdir, limits) as kernel:
        status, out = kernel.run("import numpy as np\nx = np.ones(4 * 512 * 2**20 // 8)")
        assert (status, out.split(":")[0]) in (("error", "MemoryError"), ("dead", "")), out
        after = kernel.run("print(1 + 1)")
    assert after == ("ok", "2\n") or status == "dead"


@pytest.mark.kernel
def test_process_limit_stops_a_fork_loop(workdir: Path) -> None:
    # Bounded even without a sandbox: at most 200 children, each gone in 20 s.
    code = ("import os, signal, time\n"
            "children, error = [], None\n"
            "for _ in range(200):\n"
            "    try:\n"
            "        pid = os.fork()\n"
            "    except OSError as e:\n"
            "        error = e.errno; break\n"
            "    if pid == 0:\n"
            "        time.sleep(20); os._exit(0)\n"
            "    children.append(pid)\n"
            "for pid in children:\n"
            "    os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)\n"
            "print(len(children), error)\n")
    with SandboxKernel(workdir) as kernel:
        status, out = kernel.run(code, timeout=60)
    assert status == "ok", out
    count, errno = out.split()
    assert int(count) < SMALL.processes and errno == "11", out  # EAGAIN


@pytest.mark.kernel
def test_file_size_limit(workdir: Path) -> None:
    code = ("import os\n"
            "try:\n"
            "    with open('big.bin', 'wb') as f:\n"
            "        for _ in range(64):\n"
            "            f.write(b'0' * 2**20)\n"
            "except OSError as error:\n"
            "    print('refused', error.errno)\n"
            "print(os.path.getsize('big.bin'))\n")
    with SandboxKernel(workdir) as kernel:
        status, out = kernel.run(code)
    assert status == "ok", out
    assert out.splitlines()[0] == "refused 27", out  # EFBIG
    assert int(out.splitlines()[1]) <= SMALL.file_size_mb * 2**20


@pytest.mark.kernel
def test_wall_time_limit_kills_the_kernel(workdir: Path) -> None:
    limits = Limits(memory_mb=1024, processes=64, file_size_mb=16, wall_seconds=5)
    with SandboxKernel(workdir, limits) as kernel:
        start = time.monotonic()
        kernel.kc.execute("import time\ntime.sleep(60)")
        while kernel.km.is_alive() and time.monotonic() - start < 30:
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        assert not kernel.km.is_alive()
    assert elapsed < 15, f"the kernel lived {elapsed:.0f} s with a 5 s wall-time limit"
    assert any("wall time limit of 5 s" in line for line in read_events(workdir))


@pytest.mark.kernel
def test_killing_the_parent_does_not_harm_the_grader(workdir: Path) -> None:
    sentinel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with SandboxKernel(workdir) as kernel:
            status, out = kernel.run(
                "import os, signal\n"
                "for kill in (lambda: os.kill(os.getppid(), 9), lambda: os.kill(-1, 9)):\n"
                "    try:\n"
                "        kill()\n"
                "    except OSError as error:\n"
                "        print('refused', error.errno)\n"
                "print('alive')\n")
            assert status == "ok" and "alive" in out, out
            kernel.kc.execute("import os; os.killpg(0, 9)")
            deadline = time.monotonic() + 20
            while kernel.km.is_alive() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not kernel.km.is_alive(), "killpg(0) should have killed the kernel itself"
        assert sentinel.poll() is None, "a process next to the grader was killed"
    finally:
        sentinel.kill()
        sentinel.wait(timeout=10)
    assert out.startswith("refused 1"), out  # EPERM: the parent is not ours


@pytest.mark.kernel
def test_timeout_interrupts_and_next_cell_runs(workdir: Path) -> None:
    cwd = workdir / "autograded" / "student" / "small"
    cwd.mkdir(parents=True)
    kernel = prepare(workdir, limits=SMALL)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("while True:\n    pass"),
        nbformat.v4.new_code_cell("print('next cell ran')"),
    ])
    saved = {name: os.environ.get(name) for name in kernel.env}
    try:
        for name, value in kernel.env.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
        config = Config()
        for name, value in _manager_kwargs(kernel.nbgrader_args).items():
            config.KernelManager[name] = value
        client = NotebookClient(notebook, config=config, kernel_name="python3", timeout=3,
                                interrupt_on_timeout=True, allow_errors=True,
                                resources={"metadata": {"path": str(cwd)}})
        start = time.monotonic()
        client.execute()
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    assert time.monotonic() - start < 40
    first, second = notebook.cells
    assert any(o.get("ename") == "KeyboardInterrupt" for o in first.outputs), first.outputs
    assert second.outputs[0]["text"] == "next cell ran\n"


@pytest.mark.kernel
def test_tensorflow_trains_with_the_default_limits(workdir: Path) -> None:
    with SandboxKernel(workdir, Limits()) as kernel:
        status, out = kernel.run(
            "import numpy as np, keras\n"
            "keras.utils.set_random_seed(0)\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), "
            "keras.layers.Dense(1)])\n"
            "model.compile('sgd', 'mse')\n"
            "h = model.fit(np.ones((64, 8)), np.ones((64, 1)), epochs=2, verbose=0)\n"
            "print(len(h.history['loss']))", timeout=180)
    assert (status, out.strip().splitlines()[-1:]) == ("ok", ["2"]), out


def test_missing_bubblewrap_says_how_to_install(tmp_path: Path) -> None:
    code = ("from course_utils.instructor.grading.sandbox import check_available, "
            "SandboxUnavailable\n"
            "try:\n"
            "    check_available()\n"
            "except SandboxUnavailable as error:\n"
            "    print(error)\n")
    env = {**os.environ, "PATH": str(tmp_path)}
    env.pop(BWRAP_ENV_VAR, None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert "apt-get install bubblewrap" in result.stdout, result
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        prepare(tmp_path, limits=SMALL, bwrap=str(tmp_path / "no-such-bwrap"))


def test_working_bubblewrap_is_accepted() -> None:
    check_available()


@pytest.mark.parametrize("field,value", [("memory_mb", 0), ("processes", "many"),
                                         ("wall_seconds", True)])
def test_limits_reject_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"Limits.{field}: expected an integer"):
        Limits(**{field: value})


def test_prepare_rejects_a_missing_workdir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected an existing folder"):
        prepare(tmp_path / "missing", limits=SMALL)


def test_long_workdir_uses_a_short_socket_folder_that_is_cleaned_up(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / "work"
    deep.mkdir(parents=True)
    first = prepare(deep, limits=SMALL)
    runtime = Path(first.env["JUPYTER_RUNTIME_DIR"])
    assert len(str(runtime / "kernel-ipc-65535")) < 107 and runtime.is_dir()
    assert (deep / ".sandbox" / "run-link").resolve() == runtime.resolve()
    shutil.rmtree(deep)
    other = tmp_path / ("e" * 60) / "work"
    other.mkdir(parents=True)
    second = prepare(other, limits=SMALL)
    assert not runtime.exists(), "the socket folder of a deleted course copy must go"
    assert Path(second.env["JUPYTER_RUNTIME_DIR"]).is_dir()
    shutil.rmtree(other)
