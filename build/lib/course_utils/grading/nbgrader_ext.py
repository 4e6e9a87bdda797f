"""nbgrader plug-ins loaded by the per-submission ``nbgrader autograde`` run.

:class:`ResilientExecute` replaces nbgrader's ``Execute`` preprocessor. Plain
nbgrader drops the whole submission when the kernel dies (``os._exit``,
memory exhaustion): nothing is recorded. Here the cell where the kernel died
gets an error output ``DeadKernelError``, every later code cell an error
output ``KernelDied`` (so its tests score 0 rather than pass unrun), and
grading goes on with what ran.

:func:`config_lines` gives the lines appended to a workdir's
``nbgrader_config.py`` to switch it on.
"""

from __future__ import annotations

from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute

__all__ = ["ResilientExecute", "config_lines", "DEAD_IN_CELL", "NOT_RUN"]

DEAD_IN_CELL = "DeadKernelError"
"""``ename`` of the error output in the cell where the kernel died."""

NOT_RUN = "KernelDied"
"""``ename`` of the error output of code cells that never ran."""


def _name(cell: NotebookNode, index: int) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade_id") or f"cell {index}"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class ResilientExecute(Execute):
    """nbgrader's ``Execute``, which survives the death of the kernel."""

    def preprocess(self, nb, resources=None, km=None):  # noqa: D102 (see Execute)
        self._dead_in = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 (see Execute)
        if self._dead_in is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error(NOT_RUN, f"not run: the kernel died in {self._dead_in}")]
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
        "from course_utils.grading.nbgrader_ext import ResilientExecute as _Resilient",
        "c.Autograde.autograde_preprocessors = [",
        "    _Resilient if p is _Execute else p",
        "    for p in _Autograde.autograde_preprocessors.default()]",
        "c.Execute.interrupt_on_timeout = True",
    ]
    if cell_timeout is not None:
        lines.append(f"c.Execute.timeout = {int(cell_timeout)}")
    return "\n".join(lines) + "\n"
