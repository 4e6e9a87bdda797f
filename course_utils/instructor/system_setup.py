"""``course setup``: the Debian packages the course needs, installed in one place.

``make setup`` (behind ``make book``, ``make test``, ``make lab``, ``make grade``
and ``make bench``) calls ``course setup --for <target>``. It checks which of
the packages that target needs are missing and installs them with apt-get
when it runs as root or with passwordless sudo. Otherwise it prints one
message that lists the exact packages and what needs each, and stops if the
target cannot work without them. A second run finds everything and returns
at once.

==========================  =======================================  ======================
package                     needed for                               targets
==========================  =======================================  ======================
``dataset-fashion-mnist``   the data of every chapter and exercise   all (book, lab: Keras'
                                                                     download is the fallback)
``bubblewrap``              the sandbox of ``course grade``          test, grade, bench
``chromium``,               the browser tests                        test
``chromium-driver``
==========================  =======================================  ======================
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

__all__ = ["Package", "PACKAGES", "TARGETS", "missing_packages", "apt_prefix", "apt_install",
           "ensure", "main"]


@dataclasses.dataclass(frozen=True)
class Package:
    """A Debian package the course uses.

    Attributes:
        name: the Debian package name.
        needed_for: what needs it, in words.
        present: returns True when what the package provides is usable.
    """

    name: str
    needed_for: str
    present: Callable[[], bool]


def _data_present() -> bool:
    from course_utils.core import data

    if os.environ.get(data.ENV_VAR):
        return True  # the user chose a folder; `course data ensure` checks it
    return data.DEBIAN_DIR.is_dir()


PACKAGES: dict[str, Package] = {
    "dataset-fashion-mnist": Package(
        "dataset-fashion-mnist", "Fashion-MNIST, the data of every chapter and exercise",
        _data_present),
    "bubblewrap": Package(
        "bubblewrap", "the sandbox in which `course grade` runs student code",
        lambda: shutil.which("bwrap") is not None),
    "chromium": Package(
        "chromium", "the browser tests of `make test` (not needed for `make book`)",
        lambda: shutil.which("chromium") is not None),
    "chromium-driver": Package(
        "chromium-driver", "the browser tests of `make test` (not needed for `make book`)",
        lambda: shutil.which("chromedriver") is not None),
}

# target -> (packages it cannot work without, packages it can do without)
TARGETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "book": ((), ("dataset-fashion-mnist",)),
    "lab": ((), ("dataset-fashion-mnist",)),
    "grade": (("bubblewrap",), ("dataset-fashion-mnist",)),
    "bench": (("dataset-fashion-mnist", "bubblewrap"), ()),
    "test": (("dataset-fashion-mnist", "bubblewrap", "chromium", "chromium-driver"), ()),
}


def missing_packages(names: Sequence[str]) -> list[str]:
    """The packages among ``names`` whose files or commands are not there."""
    return [name for name in names if not PACKAGES[name].present()]


def apt_prefix() -> list[str] | None:
    """How to run apt-get: ``[]`` as root, ``["sudo", "-n"]`` with passwordless sudo.

    Returns:
        None when apt-get cannot be used (not Debian, or no permission).
    """
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is not None and subprocess.run(
            ["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def apt_install(prefix: list[str], names: list[str]) -> str:
    """Installs ``names``; updates the package lists once if the first try fails."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *names]
    result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run([*prefix, "apt-get", "update", "-q"], capture_output=True, env=env)
        result = subprocess.run(install, capture_output=True, text=True, env=env)
    return "" if result.returncode == 0 else (result.stderr or result.stdout).strip()[-2000:]


def _message(names: list[str], reason: str) -> str:
    width = max(len(name) for name in names)
    lines = [f"course setup: {reason}. Missing Debian packages:"]
    lines += [f"  {name.ljust(width)}  {PACKAGES[name].needed_for}" for name in names]
    lines.append(f"Install them with:\n  sudo apt-get install {' '.join(names)}")
    return "\n".join(lines)


def ensure(target: str, out=sys.stdout, err=sys.stderr) -> int:
    """Installs what ``target`` needs; returns 0 when it can go on, 1 otherwise."""
    if target not in TARGETS:
        raise ValueError(f"Unknown target {target!r}. Expected one of {sorted(TARGETS)}")
    required, optional = TARGETS[target]
    missing = missing_packages([*required, *optional])
    if not missing:
        return 0
    prefix = apt_prefix()
    if prefix is not None:
        print(f"course setup: installing {' '.join(missing)} with apt-get ...", file=out,
              flush=True)
        problem = apt_install(prefix, missing)
        still = missing_packages(missing)
        if not still:
            return 0
        print(_message(still, f"apt-get could not install everything ({problem or 'no error'})"),
              file=err)
        missing = still
    else:
        print(_message(missing, "apt-get cannot be used here (not root, no passwordless sudo)"),
              file=err)
    blocking = [name for name in missing if name in required]
    if blocking:
        print(f"`make {target}` needs {', '.join(blocking)}: install them, then run it again.",
              file=err)
        return 1
    if "dataset-fashion-mnist" in missing:
        print("Going on without it: Fashion-MNIST will come from Keras' download "
              "(see `course data ensure`).", file=err)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``course setup --for TARGET``)."""
    parser = argparse.ArgumentParser(prog="course setup", description=__doc__)
    parser.add_argument("--for", dest="target", default="test", choices=sorted(TARGETS))
    return ensure(parser.parse_args(argv).target)


if __name__ == "__main__":
    sys.exit(main())
