"""Seeds and repeated experiments: one outcome per seed is an anecdote.

Every seed the book uses goes through :func:`seed_for`, which shifts it by
``1000 * COURSE_SEED`` (the environment variable, default 0). ``make
robustness`` executes every page with ``COURSE_SEED=1`` and ``2``: a claim that
only holds for the default seeds fails there. Pages never read the
environment themselves.

:func:`run_over_seeds` trains and evaluates each configuration once per seed
and returns a :class:`SeedResults`: per configuration, the mean and spread
over seeds, and for two configurations run on the same seeds, the paired
difference with its standard error (:class:`PairedDifference`)::

    results = run_over_seeds(train_and_score, ["relu", "elu"], n_seeds=3)
    results.mean("elu"), results.std("elu")
    diff = results.difference("elu", "relu")   # elu - relu, seed by seed
    diff.mean, diff.se
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from course_utils.core.validation import check_integer

__all__ = ["COURSE_SEED_VARIABLE", "course_seed", "seed_for", "set_seed", "seed_range",
           "PairedDifference", "SeedResults", "run_over_seeds"]

COURSE_SEED_VARIABLE = "COURSE_SEED"
_SHIFT = 1000


def course_seed() -> int:
    """The course-wide seed offset from ``$COURSE_SEED`` (default 0).

    Raises:
        ValueError: if the variable is set to something that is not a
            non-negative whole number.
    """
    text = os.environ.get(COURSE_SEED_VARIABLE, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"${COURSE_SEED_VARIABLE} must be a non-negative whole number. "
                         f"Received: {text!r}")
    return value


def seed_for(base: int) -> int:
    """The seed to use for ``base``: ``base + 1000 * COURSE_SEED``.

    Args:
        base: the seed a page or experiment would use by default (for
            instance 42, or the index of a repetition).

    Returns:
        ``base`` itself when ``COURSE_SEED`` is 0 or unset.
    """
    return check_integer("base", base, 0) + _SHIFT * course_seed()


def set_seed(base: int = 42) -> None:
    """Seeds Python, NumPy and the Keras backend with :func:`seed_for` ``(base)``.

    Returns nothing, like ``keras.utils.set_random_seed``: a page's cell that
    ends with ``set_seed(42)`` shows no stray number. ``seed_for(base)`` is
    the seed used.
    """
    import keras

    keras.utils.set_random_seed(seed_for(base))


def seed_range(n: int, start: int = 0) -> list[int]:
    """``n`` distinct seeds for repeated runs: ``seed_for(start + i)``."""
    return [seed_for(start + i) for i in range(check_integer("n", n, 1))]


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """``a - b`` measured seed by seed (both runs of a pair share the seed).

    Attributes:
        a, b: the two configurations' names.
        differences: ``value(a) - value(b)`` for each seed.
    """

    a: str
    b: str
    differences: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float:
        """The mean paired difference."""
        return float(np.mean(self.differences))

    @property
    def se(self) -> float:
        """Standard error of the mean difference (sample std / sqrt(n)); nan for n=1."""
        if self.n < 2:
            return math.nan
        return float(np.std(self.differences, ddof=1) / math.sqrt(self.n))

    @property
    def smallest(self) -> float:
        return float(np.min(self.differences))

    @property
    def largest(self) -> float:
        return float(np.max(self.differences))

    def is_clear(self, k: float = 2.0) -> bool:
        """True if ``|mean| > k * se`` and every seed agrees on the sign."""
        same_sign = self.smallest > 0 or self.largest < 0
        return bool(same_sign and abs(self.mean) > k * self.se)

    def __str__(self) -> str:
        return (f"{self.a} - {self.b}: {self.mean:+.3f} ± {self.se:.3f} (SE over "
                f"{self.n} seeds; range {self.smallest:+.3f} to {self.largest:+.3f})")


@dataclasses.dataclass(frozen=True)
class SeedResults:
    """Scores of several configurations, each run with the same seeds.

    Attributes:
        seeds: the seeds, in run order.
        values: configuration -> metric -> one value per seed.
    """

    seeds: tuple[int, ...]
    values: Mapping[str, Mapping[str, tuple[float, ...]]]

    @property
    def configs(self) -> list[str]:
        return list(self.values)

    def metrics(self, config: str | None = None) -> list[str]:
        return list(self.values[config or self.configs[0]])

    def _series(self, config: str, metric: str | None) -> np.ndarray:
        if config not in self.values:
            raise KeyError(f"Unknown configuration {config!r}. Known: {self.configs}")
        per_metric = self.values[config]
        if metric is None:
            if len(per_metric) != 1:
                raise ValueError(f"{config!r} has several metrics {list(per_metric)}: "
                                 "pass metric=...")
            metric = next(iter(per_metric))
        if metric not in per_metric:
            raise KeyError(f"Unknown metric {metric!r}. Known: {list(per_metric)}")
        return np.asarray(per_metric[metric], dtype=float)

    def per_seed(self, config: str, metric: str | None = None) -> list[float]:
        return [float(v) for v in self._series(config, metric)]

    def mean(self, config: str, metric: str | None = None) -> float:
        return float(np.mean(self._series(config, metric)))

    def std(self, config: str, metric: str | None = None) -> float:
        """Sample standard deviation over seeds (ddof=1); 0 for one seed."""
        values = self._series(config, metric)
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def min(self, config: str, metric: str | None = None) -> float:
        return float(np.min(self._series(config, metric)))

    def max(self, config: str, metric: str | None = None) -> float:
        return float(np.max(self._series(config, metric)))

    def difference(self, a: str, b: str, metric: str | None = None) -> PairedDifference:
        """The paired difference ``a - b`` over the shared seeds."""
        return PairedDifference(a, b, tuple(float(v) for v in
                                            self._series(a, metric) - self._series(b, metric)))

    def summary_rows(self, metric: str | None = None,
                     digits: int = 3) -> list[list[Any]]:
        """Rows ``[config, mean ± std, min, max]`` for :func:`course_utils.show_table`."""
        return [[config,
                 f"{self.mean(config, metric):.{digits}f} ± {self.std(config, metric):.{digits}f}",
                 round(self.min(config, metric), digits), round(self.max(config, metric), digits)]
                for config in self.configs]


def run_over_seeds(experiment: Callable[[Any, int], float | Mapping[str, float]],
                   configs: Sequence[Any] | Mapping[str, Any] = ("run",),
                   n_seeds: int = 3, *, start: int = 0,
                   seed_list: Iterable[int] | None = None) -> SeedResults:
    """Runs ``experiment(config, seed)`` for every configuration and seed.

    Args:
        experiment: trains and evaluates one configuration from scratch with
            one seed; returns a number or a mapping metric name -> number.
        configs: the configurations: a sequence (each item's ``str`` is its
            name) or a mapping name -> configuration.
        n_seeds: how many seeds (from :func:`seed_range`).
        start: the first base seed.
        seed_list: explicit seeds instead (already shifted; rarely needed).

    Returns:
        A :class:`SeedResults`; every configuration ran with the same seeds,
        so :meth:`SeedResults.difference` is a paired comparison.

    Raises:
        TypeError: if the experiment returns something that is not a number.
    """
    named = dict(configs) if isinstance(configs, Mapping) else {str(c): c for c in configs}
    if not named:
        raise ValueError("Expected at least one configuration.")
    used = tuple(int(s) for s in seed_list) if seed_list is not None \
        else tuple(seed_range(n_seeds, start))
    if not used:
        raise ValueError("Expected at least one seed.")
    values: dict[str, dict[str, list[float]]] = {}
    for seed in used:
        for name, config in named.items():
            outcome = experiment(config, seed)
            outcome = outcome if isinstance(outcome, Mapping) else {"value": outcome}
            for metric, value in outcome.items():
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                    raise TypeError(f"The experiment must return numbers. Received: "
                                    f"{type(value).__name__} for {name!r}, metric {metric!r}, "
                                    f"seed {seed}")
                values.setdefault(name, {}).setdefault(metric, []).append(float(value))
    return SeedResults(used, {name: {metric: tuple(v) for metric, v in metrics.items()}
                              for name, metrics in values.items()})
