"""The README's Dask recipe, as code: a scheduler and workers started as commands.

``course grade --dask`` is tested (tests/grading/test_parallel.py) and
benchmarked (tests/benchmarks/grading_throughput.py) against exactly what the
README tells an instructor to type::

    dask scheduler --host 127.0.0.1 --port 8786 --no-dashboard
    dask worker tcp://127.0.0.1:8786 --nthreads 1 --no-dashboard --local-directory /tmp/w1
    dask worker tcp://127.0.0.1:8786 --nthreads 1 --no-dashboard --local-directory /tmp/w2

Each process starts in a folder of its own, so a worker can only grade from
the bytes a job carries (no shared filesystem with the course).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["dask_commands", "dask_cluster"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dask_commands(port: int, folders: list[Path]) -> list[list[str]]:
    """The scheduler's command, then one command per worker folder."""
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{port}"
    return [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            *([dask, "worker", address, "--nthreads", "1", "--no-dashboard",
               "--local-directory", str(folder)] for folder in folders)]


@contextlib.contextmanager
def dask_cluster(base: Path, n_workers: int = 2, timeout: float = 60) -> Iterator[str]:
    """Starts the README's scheduler and ``n_workers`` workers; yields the address.

    Each process runs in its own folder under ``base``; their output goes to
    ``base/<name>.log``. Everything is stopped on exit.
    """
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    folders = [Path(base) / f"worker{i}" for i in range(n_workers)]
    processes: list[subprocess.Popen] = []
    logs = []
    try:
        for name, command in zip(["scheduler", *(f.name for f in folders)],
                                 dask_commands(port, folders)):
            cwd = Path(base) / f"{name}-cwd"
            cwd.mkdir(parents=True, exist_ok=True)
            logs.append(open(Path(base) / f"{name}.log", "wb"))  # closed below
            log = logs[-1]
            processes.append(subprocess.Popen(command, cwd=cwd, stdout=log,
                                              stderr=subprocess.STDOUT))
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(address, timeout=timeout) as client:
            while len(client.scheduler_info()["workers"]) < n_workers:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{n_workers} Dask workers did not join {address} in "
                                       f"{timeout} s; see the logs in {base}")
                time.sleep(0.2)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
