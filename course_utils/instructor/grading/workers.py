"""The grader processes of :func:`course_utils.instructor.grading.job.grade`, and what they report.

:func:`run_once` runs one ``nbgrader_driver`` process for one submission
(with :func:`rlimits` when there is no sandbox). The long-lived ones import
nbgrader once per batch, not per submission:

A :class:`Worker` is ``python -m course_utils.instructor.grading.nbgrader_driver --serve``
in its own session. It grades one submission at a time, each in its own
throwaway workdir with its own sandboxed kernel (started by nbgrader for that
submission and stopped after it), so a worker holds nothing of a student
between two submissions but the imported modules. Student code never runs in
the worker.

:func:`run_in_worker` takes an idle worker from the pool (starting one when
none is idle), sends the request and waits at most ``seconds``; when the
time is up, or the worker dies, the worker's whole process group is killed
and it is not reused. :func:`shutdown` stops the idle workers (also at exit).

Either way the driver leaves its phases and notes in the workdir:
:func:`driver_phases` adds them to a :class:`Clock`, :func:`driver_notes`
reads them.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.instructor.grading.nbgrader_driver import (
    LOG_FILE,
    NOTES_FILE,
    REPLY_PREFIX,
    TIMES_FILE,
)

if TYPE_CHECKING:  # pragma: no cover
    from course_utils.instructor.grading.sandbox import Limits

__all__ = ["Worker", "run_in_worker", "shutdown", "run_once", "rlimits", "Clock",
           "driver_phases", "driver_notes"]

_LOCK = threading.Lock()
_IDLE: dict[str, list[Worker]] = {}


class Worker:
    """One grader process (see the module docstring)."""

    def __init__(self, python: str, env: dict[str, str]):
        self.process = subprocess.Popen(
            [python, "-m", "course_utils.instructor.grading.nbgrader_driver", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd="/", env=env, start_new_session=True)
        self.buffer = b""

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def request(self, request: dict, seconds: float) -> int | None:
        """Sends one request; returns its exit code, or None if it did not finish in time.

        Raises:
            RuntimeError: the worker died or answered nonsense (it is killed).
        """
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except OSError as error:
            self.kill()
            raise RuntimeError(f"grader worker unavailable: {error}") from error
        deadline = time.monotonic() + seconds
        stream = self.process.stdout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                return None
            ready, _, _ = select.select([stream], [], [], remaining)
            if ready:
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    self.kill()
                    raise RuntimeError(f"grader worker exited (code {self.process.poll()})")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        text = line.decode("utf-8", "replace")
        if not text.startswith(REPLY_PREFIX):
            self.kill()
            raise RuntimeError(f"grader worker answered {text[:200]!r}")
        return int(json.loads(text[len(REPLY_PREFIX):])["code"])

    def kill(self) -> None:
        """Kills the worker's process group (nbgrader and what it started)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass

    def stop(self) -> None:
        """Ends an idle worker (closing its input ends its loop)."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


def run_in_worker(python: str, env: dict[str, str], workdir: Path, assignment: str,
                  student: str, options: Path, extra: list[str],
                  env_changes: dict[str, str | None], seconds: float) -> tuple[int | None, str]:
    """Grades one prepared workdir in a pooled worker.

    Args:
        python: The interpreter of the worker.
        env: The worker's base environment (used when one is started).
        workdir: The submission's throwaway course copy.
        assignment: The assignment id.
        student: The student id.
        options: The driver's ``options.json``.
        extra: Extra ``nbgrader autograde`` arguments (the sandbox's).
        env_changes: Environment changes for this submission (None unsets).
        seconds: Hard time limit; the worker is killed after it.

    Returns:
        ``(exit code or None on timeout, log tail)`` like :func:`run_once`.
    """
    key = python + "\0" + json.dumps(sorted(env.items()))
    with _LOCK:
        idle = _IDLE.setdefault(key, [])
        worker = None
        while idle and worker is None:
            candidate = idle.pop()
            worker = candidate if candidate.alive() else None
    if worker is None:
        worker = Worker(python, env)
    request = {"workdir": str(workdir), "assignment": assignment, "student": student,
               "options": str(options), "extra": list(extra), "env": env_changes}
    try:
        code = worker.request(request, seconds)
    except RuntimeError as error:
        code, message = 1, str(error)
    else:
        message = ""
        if code is not None and worker.alive():
            with _LOCK:
                _IDLE.setdefault(key, []).append(worker)
    try:
        log = (workdir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        log = ""
    return code, (log + ("\n" + message if message else ""))[-6000:]


def shutdown() -> None:
    """Stops every idle worker."""
    with _LOCK:
        workers = [worker for group in _IDLE.values() for worker in group]
        _IDLE.clear()
    for worker in workers:
        worker.stop()


atexit.register(shutdown)


def rlimits(limits: Limits | None) -> Callable[[int], None] | None:
    """A function that sets memory and file-size rlimits on a process (no sandbox).

    The limits are set on the nbgrader process right after it starts (with
    ``prlimit``, not a ``preexec_fn``, which is unsafe in threads); the kernel
    it starts seconds later inherits them.
    """
    if limits is None:
        return None

    def apply(pid: int) -> None:
        import resource

        memory = limits.memory_mb * 1024 * 1024
        size = limits.file_size_mb * 1024 * 1024
        resource.prlimit(pid, resource.RLIMIT_AS, (memory, memory))
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, size))

    return apply


def run_once(command: list[str], cwd: Path, env: dict[str, str], seconds: float,
             limit: Callable[[int], None] | None = None) -> tuple[int | None, str]:
    """Runs ``command`` in its own session; kills the whole group after ``seconds``.

    Args:
        limit: called with the new process's pid right after it starts.

    Returns:
        ``(exit code or None on timeout, combined output tail)``.
    """
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if limit is not None:
            try:
                limit(process.pid)
            except ProcessLookupError:
                pass
        output, _ = process.communicate(timeout=seconds)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        code = None
        output = b""
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if process.returncode is None:
            output, _ = process.communicate()
    return code, output.decode("utf-8", "replace")[-6000:]


class Clock:
    """Wall and CPU (this thread's) seconds of consecutive phases."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._wall, self._cpu = time.perf_counter(), time.thread_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        self.phases[name] = self.phases.get(name, 0.0) + wall - self._wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu - self._cpu
        self._wall, self._cpu = wall, cpu


def driver_phases(workdir: Path, sent: float, clock: Clock) -> bool:
    """Adds the grader process's phases (from ``driver-times.json``) to ``clock``.

    Returns:
        Whether the grader process recorded its phases.
    """
    try:
        times = {name: tuple(value) for name, value in
                 json.loads((workdir / TIMES_FILE).read_text(encoding="utf-8")).items()}
    except (OSError, ValueError):
        return False
    order = [("grader_start", "kernel_start"), ("kernel_start", "cells_start"),
             ("execution", "autograded"), ("feedback", "feedback_done")]
    wall, cpu = sent, times.get("cpu_base", (0.0, 0.0))[1]
    for phase, moment in order:
        if moment not in times:
            continue
        clock.phases[phase] = max(times[moment][0] - wall, 0.0)
        clock.cpu[phase] = max(times[moment][1] - cpu, 0.0)
        wall, cpu = times[moment][:2]
    return True


def driver_notes(workdir: Path) -> list[str]:
    """The grader process's notes (``driver-notes.json``); a note if it wrote none."""
    try:
        return list(json.loads((workdir / NOTES_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return ["feedback could not be generated"]
