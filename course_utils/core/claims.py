"""Guards for the claims a page makes, with the value, the bound and the margin.

A page that writes "BN trains at a learning rate where the plain network
diverges" guards that sentence with a check that matches the words::

    check_claim("plain MLP diverges at lr 0.5", acc_plain, below=0.2)
    check_difference("BN beats no BN at lr 0.1", results.difference("bn", "plain"))

When a claim fails, the page stops with a :class:`ClaimError` that names the
claim and gives the value, the bound and by how much it was missed (a bare
``assert`` says nothing useful in the build log). Every checked claim is also
appended, as one JSON line, to the file named by ``$COURSE_CLAIMS_LOG`` when
that variable is set: ``make robustness`` reads it to report each page's
smallest margin.

:func:`describe_difference` turns a paired difference into words that are
true whatever the seeds gave ("no clear difference" when there is none).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course_utils.core.seeds import PairedDifference

__all__ = ["ClaimError", "Claim", "check_claim", "check_difference", "describe_difference",
           "CLAIMS_LOG_VARIABLE"]

CLAIMS_LOG_VARIABLE = "COURSE_CLAIMS_LOG"


class ClaimError(AssertionError):
    """A claim the page makes does not hold for this run."""


@dataclasses.dataclass(frozen=True)
class Claim:
    """One checked claim.

    Attributes:
        name: the claim, in words.
        value: the measured value.
        bound: the value it had to clear.
        direction: ``"above"`` (value > bound) or ``"below"`` (value < bound).
        margin: how far inside the bound the value is (negative: missed).
        scale: the unit the margin is judged in (a spread, a standard error,
            or the bound's size); ``margin / scale`` ranks the closest calls.
    """

    name: str
    value: float
    bound: float
    direction: str
    margin: float
    scale: float

    @property
    def holds(self) -> bool:
        return self.margin > 0

    @property
    def relative_margin(self) -> float:
        return self.margin / self.scale if self.scale > 0 else math.inf

    def __str__(self) -> str:
        relation = ">" if self.direction == "above" else "<"
        return (f"claim {self.name!r}: value {self.value:.6g} {relation} bound "
                f"{self.bound:.6g}, margin {self.margin:+.3g}")


def _number(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number. Received: {type(value).__name__} "
                        f"({value!r:.60})") from None
    if math.isnan(number):
        raise ClaimError(f"`{name}` is NaN: the experiment behind the claim broke.")
    return number


def _record(claim: Claim) -> None:
    path = os.environ.get(CLAIMS_LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dataclasses.asdict(claim)) + "\n")


def check_claim(name: str, value: float, *, above: float | None = None,
                below: float | None = None, scale: float | None = None) -> Claim:
    """Checks ``value > above`` or ``value < below`` (exactly one of them).

    Args:
        name: the claim in words, as the page states it.
        value: what the page measured.
        above: the value must be greater than this.
        below: the value must be smaller than this.
        scale: the size of a meaningful change (a spread over seeds, say), to
            rank margins across claims; default ``max(|bound|, 1e-12)``.

    Returns:
        The :class:`Claim` (with its margin), when it holds.

    Raises:
        ClaimError: if it does not, naming the claim, the value, the bound
            and the margin.
    """
    if (above is None) == (below is None):
        raise ValueError("Pass exactly one of `above=` and `below=`. "
                         f"Received: above={above!r}, below={below!r}")
    value = _number("value", value)
    bound = _number("above" if above is not None else "below",
                    above if above is not None else below)
    direction = "above" if above is not None else "below"
    margin = value - bound if direction == "above" else bound - value
    size = float(scale) if scale is not None else max(abs(bound), 1e-12)
    claim = Claim(name, value, bound, direction, margin, size)
    _record(claim)
    if not claim.holds:
        raise ClaimError(f"{claim} (missed by {-margin:.3g}). The page's text states this "
                         "claim; it does not hold for this run.")
    return claim


def check_difference(name: str, difference: PairedDifference, *, k: float = 2.0) -> Claim:
    """Checks that ``difference.a`` beats ``difference.b`` clearly.

    "Clearly" means the mean paired difference exceeds ``k`` standard errors
    and every seed's difference is positive.

    Returns:
        The :class:`Claim` on the mean difference (bound ``k * se``).

    Raises:
        ClaimError: if the mean is within ``k`` standard errors of zero, or a
            seed disagrees.
    """
    if difference.n < 2:
        raise ValueError(f"A paired difference needs at least 2 seeds. Received: {difference.n}")
    claim = check_claim(name, difference.mean, above=k * difference.se,
                        scale=max(difference.se, 1e-12))
    if difference.smallest <= 0:
        raise ClaimError(f"claim {name!r}: the mean difference {difference.mean:+.4g} is "
                         f"clear, but seed-by-seed differences go down to "
                         f"{difference.smallest:+.4g}: not every seed agrees.")
    return claim


def describe_difference(difference: PairedDifference, *, unit: str = "",
                        digits: int = 3, k: float = 2.0, percent: bool = False) -> str:
    """Words for a paired difference that are true whatever the seeds gave.

    Returns:
        ``"A is ahead by 0.012 ± 0.004"`` when :meth:`PairedDifference.is_clear`
        (``k`` standard errors, every seed agrees), otherwise ``"no clear
        difference (A - B = +0.003 ± 0.005)"``; the ± is one standard error over
        the seeds.
    """
    def fmt(x: float, signed: bool = False) -> str:
        if percent:
            return f"{100 * x:{'+' if signed else ''}.{max(digits - 2, 0)}f} points"
        return f"{x:{'+' if signed else ''}.{digits}f}{unit}"

    se = fmt(difference.se) if difference.n > 1 else "n/a"
    if difference.n > 1 and difference.is_clear(k):
        leader, gap = (difference.a, difference.mean) if difference.mean > 0 \
            else (difference.b, -difference.mean)
        return (f"{leader} is ahead by {fmt(gap)} ± {se} "
                f"(one standard error over {difference.n} seeds)")
    return (f"no clear difference ({difference.a} − {difference.b} = "
            f"{fmt(difference.mean, signed=True)} ± {se} over {difference.n} seeds)")
