"""Shared pytest set-up: quiet TensorFlow, keep every cache out of $HOME."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.fast_lane import LANE_MARKERS, forbid_heavy_launches

REPO_ROOT = Path(__file__).resolve().parents[1]

_CACHE = Path(tempfile.gettempdir()) / "course-test-home"
for _name, _value in {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MPLCONFIGDIR": str(_CACHE / "matplotlib"),
    "KERAS_HOME": str(_CACHE / "keras"),
    "JUPYTER_PLATFORM_DIRS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}.items():
    os.environ.setdefault(_name, _value)
# Never set MPLBACKEND here: kernels inherit the environment, and a non-inline
# backend makes plt.show() in the book's notebooks produce no figure at all.
os.environ.pop("MPLBACKEND", None)
for _folder in ("matplotlib", "keras"):
    (_CACHE / _folder).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The course repository's root folder."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def build_log() -> str:
    """Builds the book as `make book` does (once per session) and returns the log."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=os.pathsep.join([str(bin_dir), os.environ["PATH"]]))
    result = subprocess.run([str(bin_dir / "course"), "book"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=3000)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    return log


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked kernel, grade, book or browser is slow: `make test-fast` leaves it out."""
    for item in items:
        if any(item.get_closest_marker(name) for name in LANE_MARKERS):
            item.add_marker(pytest.mark.slow)


def _fast_lane_guard(item: pytest.Item):
    """Outside the slow lane, starting a kernel, grading run, book build or browser fails."""
    if item.get_closest_marker("slow") is not None:
        return (yield)
    with forbid_heavy_launches(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _fast_lane_guard(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _fast_lane_guard(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    return (yield from _fast_lane_guard(item))
