"""`course setup`: installs the Debian packages a target needs, or says which.

Both branches run for real against fake system commands: a fake `apt-get`
that records its arguments and "installs" by creating the commands, and a
PATH on which bubblewrap and chromium are missing. The permission is faked
by reporting a non-root user id, without sudo on the PATH.
"""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

import pytest

from course_utils.instructor import system_setup
from tests.notebook_tools import REPO_ROOT

FAKE_APT = """#!/bin/sh
echo "$@" >> "{log}"
if [ "$1" = "install" ]; then
  for name in bwrap chromium chromedriver; do
    printf '#!/bin/sh\\n' > "{bin}/$name"; /bin/chmod +x "{bin}/$name"
  done
fi
"""


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def bare_path(tmp_path, monkeypatch) -> Path:
    """A PATH with only a folder of ours (no bwrap, chromium, apt-get, sudo)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    return folder


def test_missing_packages_are_installed_with_apt_get_as_root(bare_path, tmp_path, monkeypatch):
    log = tmp_path / "apt.log"
    _write(bare_path / "apt-get", FAKE_APT.format(log=log, bin=bare_path))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    out, err = io.StringIO(), io.StringIO()
    assert system_setup.ensure("test", out, err) == 0, err.getvalue()
    calls = log.read_text().splitlines()
    assert calls == ["install -y -q --no-install-recommends bubblewrap chromium chromium-driver"]
    assert "installing bubblewrap chromium chromium-driver" in out.getvalue()
    # A second run finds everything and does nothing.
    assert system_setup.ensure("test", io.StringIO(), io.StringIO()) == 0
    assert log.read_text().splitlines() == calls


def test_without_permission_one_message_lists_each_package_and_why(bare_path, monkeypatch):
    _write(bare_path / "apt-get", "#!/bin/sh\nexit 100\n")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # not root, and no sudo on PATH
    out, err = io.StringIO(), io.StringIO()
    assert system_setup.ensure("test", out, err) == 1
    message = err.getvalue()
    assert "apt-get cannot be used here (not root, no passwordless sudo)" in message
    for name, why in [("bubblewrap", "sandbox"), ("chromium", "browser tests"),
                      ("chromium-driver", "browser tests")]:
        line = next(line for line in message.splitlines() if line.strip().startswith(name + " "))
        assert why in line, line
    assert "sudo apt-get install bubblewrap chromium chromium-driver" in message
    assert "`make test` needs bubblewrap, chromium, chromium-driver" in message


def test_the_book_goes_on_without_chromium_or_bubblewrap(bare_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    err = io.StringIO()
    assert system_setup.ensure("book", io.StringIO(), err) == 0
    assert err.getvalue() == "", "the book needs no browser and no sandbox"
    assert system_setup.ensure("grade", io.StringIO(), err) == 1
    assert "bubblewrap" in err.getvalue() and "chromium" not in err.getvalue()


def test_unknown_target_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Unknown target 'books'. Expected one of"):
        system_setup.ensure("books")


def test_ci_installs_nothing_itself():
    script = (REPO_ROOT / ".ci" / "run").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    for word in ("apt-get", "apt", "pip", "pip3", "setup", "dpkg", "install"):
        assert not re.search(rf"\b{word}\b", code), (
            f".ci/run must only call `make test`; it contains {word!r}")
    assert "make test" in code


def test_every_make_target_sets_itself_up():
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in ("book", "test", "lab", "grade", "bench", "robustness"):
        rule = next(line for line in makefile.splitlines() if line.startswith(f"{target}:")
                    and "SETUP_FOR" not in line)
        assert "setup" in rule.split(":", 1)[1], f"`make {target}` does not depend on setup"
    assert "course setup --for $(SETUP_FOR)" in makefile
