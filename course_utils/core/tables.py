"""Tables that code makes, rendered as real tables in the book and in Jupyter.

:func:`show_table` formats rows with ``tabulate`` as a GitHub-flavoured
Markdown table and displays it as Markdown: JupyterLab and Colab render it,
and the book renders it as an HTML ``<table>`` (``_config.yml`` sets myst-nb's
``nb_render_markdown_format`` to ``gfm``). Never print a Markdown table: printed
text stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["markdown_table", "show_table"]


def markdown_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *,
                   floatfmt: str | Sequence[str] = "g",
                   colalign: Sequence[str] | None = None) -> str:
    """The rows as a GitHub-flavoured Markdown table (text).

    Args:
        rows: one sequence per row, as long as ``headers``.
        headers: the column titles.
        floatfmt: format of float cells (one for all, or one per column).
        colalign: ``"left"``, ``"right"`` or ``"center"`` per column.

    Raises:
        ValueError: if a row's length differs from the number of headers.
    """
    from tabulate import tabulate

    rows = [list(row) for row in rows]
    for index, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"Expected {len(headers)} cells per row (one per header "
                             f"{list(headers)}). Received: {len(row)} in row {index}: {row!r}")
    # A "|" inside a cell (|θ|, a norm) would end the cell: GFM reads "\|" as the character.
    rows = [[_escape_pipes(cell) for cell in row] for row in rows]
    return tabulate(rows, headers=[_escape_pipes(h) for h in headers], tablefmt="github",
                    floatfmt=floatfmt, colalign=colalign)


def _escape_pipes(cell: Any) -> Any:
    return cell.replace("|", "\\|") if isinstance(cell, str) else cell


def show_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], **kwargs) -> None:
    """Displays the rows as a table (see :func:`markdown_table` for the arguments).

    Returns nothing, so a call that ends a cell shows the table once, not twice.
    """
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(rows, headers, **kwargs)))
