"""Shared pytest set-up: quiet TensorFlow, keep every cache out of $HOME."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

_CACHE = Path(tempfile.gettempdir()) / "course-test-home"
for _name, _value in {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": str(_CACHE / "matplotlib"),
    "KERAS_HOME": str(_CACHE / "keras"),
    "JUPYTER_PLATFORM_DIRS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}.items():
    os.environ.setdefault(_name, _value)
for _folder in ("matplotlib", "keras"):
    (_CACHE / _folder).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The course repository's root folder."""
    return REPO_ROOT
