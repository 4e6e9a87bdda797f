"""Execute one book page like Jupyter Book does and report time and stderr.

Usage: python -m tests.run_page book/01-unstable-gradients.md [...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from tests.notebook_tools import run_page


def main(paths: list[str]) -> int:
    status = 0
    for name in paths:
        result = run_page(Path(name).resolve())
        print(f"{name}: {result.seconds:.1f} s, {len(result.errors)} errors, "
              f"{len(result.stderr)} stderr outputs")
        for text in result.errors + result.stderr:
            print("   ", text.strip()[:2000])
        for seconds, first_line in result.slowest(6):
            print(f"    {seconds:6.1f} s  {first_line}")
        status |= bool(result.errors or result.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
