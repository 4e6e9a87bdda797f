"""The machine a page runs on, described in words for the book's prose.

Pages that report timings say which machine measured them. The description is
computed where the page runs (never typed into the prose), so a reader who
rebuilds the book sees their own machine named.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["machine_description"]

_CPUINFO = Path("/proc/cpuinfo")


def _cpu_model(cpuinfo: str) -> str | None:
    """The first CPU model name found in the text of ``/proc/cpuinfo``."""
    for key in ("model name", "Hardware", "Processor", "cpu model"):
        match = re.search(rf"^{key}\s*:\s*(.+?)\s*$", cpuinfo, re.M)
        if match and match.group(1):
            return re.sub(r"\s+", " ", match.group(1))
    return None


def machine_description(cpuinfo: str | None = None, cores: int | None = None) -> str:
    """Describes the CPU this process runs on, for example
    ``"2-core Intel(R) Xeon(R) Processor"``.

    Args:
        cpuinfo: Text in the format of Linux's ``/proc/cpuinfo``. By default the
            file is read; where it does not exist the model is unknown.
        cores: Number of logical cores. By default ``os.cpu_count()``.

    Returns:
        ``"<n>-core <model>"``, or ``"<n>-core CPU"`` if the model is unknown.

    Raises:
        ValueError: If ``cores`` is not a positive integer.
    """
    if cores is None:
        cores = os.cpu_count() or 1
    if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a positive integer, got {cores!r}")
    if cpuinfo is None:
        try:
            cpuinfo = _CPUINFO.read_text(errors="replace")
        except OSError:
            cpuinfo = ""
    model = _cpu_model(cpuinfo)
    return f"{cores}-core {model}" if model else f"{cores}-core CPU"
