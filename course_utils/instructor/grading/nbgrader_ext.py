"""nbgrader plug-ins loaded by the per-submission ``nbgrader autograde`` run.

:class:`ResilientExecute` replaces nbgrader's ``Execute`` preprocessor. Plain
nbgrader drops the whole submission when the kernel dies (``os._exit``,
memory exhaustion) or stops answering (a submission that replaces
``builtins.isinstance`` breaks ipykernel itself): nothing is recorded. Here
the cell where the kernel died gets an error output ``DeadKernelError`` (or
``KernelUnresponsive``), every later code cell an error output
``KernelDied`` (so its tests score 0 rather than pass unrun), and grading
goes on with what ran.

:func:`config_lines` gives the lines appended to a workdir's
``nbgrader_config.py`` to switch it on.
"""

from __future__ import annotations

import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute

from course_utils.instructor.grading.notebook_facts import grade_id

__all__ = ["ResilientExecute", "config_lines", "DEAD_IN_CELL", "NOT_RUN", "UNRESPONSIVE",
           "TIMES", "mark"]

TIMES: dict[str, tuple[float, float]] = {}
"""Moments of the current grading run: name -> (wall ``time.time()``, process CPU).

Filled by :class:`ResilientExecute` (``kernel_start``, ``cells_start``,
``cells_done``) and by the driver; read by the driver after each run."""


def mark(name: str) -> None:
    """Records the moment ``name`` in :data:`TIMES` (the first time only)."""
    TIMES.setdefault(name, (time.time(), time.process_time()))

DEAD_IN_CELL = "DeadKernelError"
"""``ename`` of the error output in the cell where the kernel died."""

NOT_RUN = "KernelDied"
"""``ename`` of the error output of code cells that never ran."""

UNRESPONSIVE = "KernelUnresponsive"
"""``ename`` of the error output in the cell after which the kernel stopped
answering (no reply even after an interrupt, e.g. its code replaced builtins
that ipykernel itself uses)."""


def _name(cell: NotebookNode, index: int) -> str:
    return grade_id(cell) or f"cell {index}"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class ResilientExecute(Execute):
    """nbgrader's ``Execute``, which survives the death of the kernel."""

    def preprocess(self, nb, resources=None, km=None):  # documented in Execute
        self._dead_in, self._how = None, "died"
        mark("kernel_start")
        try:
            return super().preprocess(nb, resources, km)
        finally:
            mark("cells_done")

    def preprocess_cell(self, cell, resources, index):  # documented in Execute
        mark("cells_start")
        if self._dead_in is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error(NOT_RUN, f"not run: the kernel {self._how} in "
                                                f"{self._dead_in}")]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_in = _name(cell, index)
            self.log.error("The kernel died in %s; later cells are not run", self._dead_in)
            cell.outputs.append(_error(
                DEAD_IN_CELL, "the kernel died while running this cell (out of memory, "
                "os._exit, a crash or a resource limit)"))
            return cell, self.resources
        except CellTimeoutError:
            # Raised only when the kernel did not answer even after the
            # interrupt that follows a cell timeout: it is stuck or broken.
            self._dead_in, self._how = _name(cell, index), "stopped responding"
            self.log.error("The kernel stopped responding in %s; later cells are not run",
                           self._dead_in)
            cell.outputs.append(_error(
                UNRESPONSIVE, "the kernel stopped responding while running this cell and "
                "did not answer an interrupt (did this code replace builtins, or block "
                "signals?)"))
            return cell, self.resources


def config_lines(cell_timeout: int | None) -> str:
    """Python lines for ``nbgrader_config.py`` that enable :class:`ResilientExecute`.

    Args:
        cell_timeout: seconds per cell (``Execute.timeout``), or None to keep
            the course's setting.
    """
    lines = [
        "",
        "# Added by `course grade` in this throwaway grading copy:",
        "from nbgrader.converters.autograde import Autograde as _Autograde",
        "from nbgrader.preprocessors import Execute as _Execute",
        "from course_utils.instructor.grading.nbgrader_ext import ResilientExecute as _Resilient",
        "c.Autograde.autograde_preprocessors = [",
        "    _Resilient if p is _Execute else p",
        "    for p in _Autograde.autograde_preprocessors.default()]",
        "c.Execute.interrupt_on_timeout = True",
    ]
    if cell_timeout is not None:
        lines.append(f"c.Execute.timeout = {int(cell_timeout)}")
    return "\n".join(lines) + "\n"
