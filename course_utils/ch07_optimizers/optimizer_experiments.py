"""Experiments with the optimizers of chapter 7: the same steps in Keras, 2D
test functions and trajectories, the Hessian's size, and a helper that trains
the same Keras model once per optimizer.

The optimizers are the NumPy ones of :mod:`course_utils.ch07_optimizers.optimizers` (one
common ``step`` interface) for the 2D landscapes, and any
``keras.optimizers`` instance for the Fashion-MNIST comparison.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from course_utils.ch07_optimizers.optimizer_base import NumpyOptimizer, _as_arrays
from course_utils.core.plotting import PALETTE
from course_utils.core.validation import check_integer

__all__ = [
    "run_steps",
    "keras_reference_steps",
    "hessian_bytes",
    "TestFunction",
    "ill_conditioned_quadratic",
    "rosenbrock",
    "run_trajectory",
    "plot_trajectories",
    "OptimizerRun",
    "train_with_optimizers",
    "plot_optimizer_runs",
    "average_runs",
    "paired_rows",
]

_LINESTYLES = ("-", "--", "-.", ":")


def run_steps(optimizer: NumpyOptimizer, params: Sequence[np.ndarray],
              grads_sequence: Iterable[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Applies a sequence of gradient lists with ``optimizer.step``.

    Returns:
        The parameters after the last step (new arrays).
    """
    params = _as_arrays("params", params)
    for grads in grads_sequence:
        params = optimizer.step(params, grads)
    return params


def keras_reference_steps(keras_optimizer, params: Sequence[np.ndarray],
                          grads_sequence: Iterable[Sequence[np.ndarray]],
                          dtype: str = "float64") -> list[np.ndarray]:
    """Applies the same gradients with a Keras optimizer, as a reference.

    Args:
        keras_optimizer: a new ``keras.optimizers.Optimizer`` (not yet built).
        params: initial parameters (copied into ``keras.Variable`` objects).
        grads_sequence: one list of gradients per step.
        dtype: dtype of the variables; ``"float64"`` makes the comparison
            limited by Keras' float32 learning-rate variable, about 1e-7.

    Returns:
        The parameters after the last step, as NumPy arrays.
    """
    import keras

    variables = [keras.Variable(np.array(p, dtype=dtype)) for p in
                 _as_arrays("params", params)]
    for grads in grads_sequence:
        grads = _as_arrays("grads", grads)
        keras_optimizer.apply_gradients(
            [(keras.ops.convert_to_tensor(g.astype(dtype)), v)
             for g, v in zip(grads, variables)])
    return [np.array(v.numpy()) for v in variables]


def hessian_bytes(n_params: int, bytes_per_entry: int = 4) -> int:
    """Memory needed to store the full Hessian of ``n_params`` parameters.

    The Hessian has ``n_params**2`` entries (float32: 4 bytes each).

    Raises:
        ValueError: if ``n_params`` or ``bytes_per_entry`` is not a positive
            whole number.
    """
    n_params = check_integer("n_params", n_params, 1)
    return n_params ** 2 * check_integer("bytes_per_entry", bytes_per_entry, 1)


@dataclasses.dataclass(frozen=True)
class TestFunction:
    """A differentiable function of two variables with a known minimum.

    Attributes:
        name: a label for figures.
        value: ``f(points)`` for an array of shape ``(..., 2)``, returns ``(...)``.
        gradient: ``grad f(point)`` for an array of shape ``(..., 2)``.
        minimum: the minimizer, shape ``(2,)``.
        start: a default starting point, shape ``(2,)``.
        xlim, ylim: plotting window.
    """

    __test__ = False  # not a pytest test class

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray], np.ndarray]
    minimum: np.ndarray
    start: np.ndarray
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def __call__(self, points) -> np.ndarray:
        return self.value(_points(points))


def _points(points) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim == 0 or points.shape[-1] != 2:
        raise ValueError("Expected points of shape (..., 2). "
                         f"Received: shape={points.shape}")
    return points


def ill_conditioned_quadratic(condition_number: float = 20.0,
                              angle_degrees: float = 0.0) -> TestFunction:
    """The bowl ``f(x) = 1/2 x^T A x`` whose Hessian ``A`` has eigenvalues
    ``1`` and ``condition_number``, rotated by ``angle_degrees``.

    Raises:
        ValueError: if ``condition_number`` < 1.
    """
    if not np.isfinite(condition_number) or condition_number < 1:
        raise ValueError("`condition_number` must be a finite number >= 1. "
                         f"Received: condition_number={condition_number!r}")
    angle = np.deg2rad(angle_degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    A = rotation @ np.diag([1.0, float(condition_number)]) @ rotation.T

    def value(p):
        p = _points(p)
        return 0.5 * np.einsum("...i,ij,...j->...", p, A, p)

    def gradient(p):
        return _points(p) @ A.T

    return TestFunction(
        name=f"quadratic (condition number {condition_number:g})",
        value=value, gradient=gradient, minimum=np.zeros(2),
        start=rotation @ np.array([-4.5, 1.5]), xlim=(-5.0, 5.0), ylim=(-2.5, 2.5))


def rosenbrock(a: float = 1.0, b: float = 100.0) -> TestFunction:
    """Rosenbrock's banana valley ``(a - x)^2 + b (y - x^2)^2``, minimum ``(a, a^2)``."""

    def value(p):
        p = _points(p)
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def gradient(p):
        p = _points(p)
        x, y = p[..., 0], p[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)],
                        axis=-1)

    return TestFunction(
        name="Rosenbrock", value=value, gradient=gradient,
        minimum=np.array([a, a**2]), start=np.array([-1.5, 2.0]),
        xlim=(-2.0, 2.0), ylim=(-1.0, 3.0))


def run_trajectory(optimizer: NumpyOptimizer, function: TestFunction,
                   start: Sequence[float] | None = None,
                   n_steps: int = 200) -> np.ndarray:
    """Runs an optimizer on a 2D test function from ``start``.

    A copy of the optimizer is reset and used, so the argument keeps its
    state. The run stops early if the point becomes non-finite.

    Returns:
        The visited points, shape ``(n + 1, 2)`` with ``n <= n_steps``.

    Raises:
        TypeError: if ``optimizer`` is not a :class:`NumpyOptimizer`.
        ValueError: if ``start`` is not two numbers or ``n_steps`` < 1.
    """
    if not isinstance(optimizer, NumpyOptimizer):
        raise TypeError("`optimizer` must be a course_utils NumpyOptimizer. "
                        f"Received: a {type(optimizer).__name__}")
    n_steps = check_integer("n_steps", n_steps, 1)
    point = np.array(function.start if start is None else start, dtype=np.float64)
    if point.shape != (2,):
        raise ValueError(f"Expected a start point of shape (2,). Received: shape={point.shape}")
    opt = copy.deepcopy(optimizer)
    opt.reset()
    points = [point]
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by length
        for _ in range(n_steps):
            point = opt.step(point, function.gradient(point))
            if not np.all(np.isfinite(point)):
                break
            points.append(point)
    return np.array(points)


def plot_trajectories(function: TestFunction, trajectories: Mapping[str, np.ndarray],
                      ax: plt.Axes | None = None, *, n_levels: int = 25) -> plt.Axes:
    """Draws trajectories over log-spaced contour lines of ``function``.

    Each path is a line with a large dot at its last point; the minimum is a
    black star.

    Returns:
        The axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    xs = np.linspace(*function.xlim, 300)
    ys = np.linspace(*function.ylim, 300)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    values = function(grid) - function(function.minimum)
    levels = np.geomspace(max(values.max() * 1e-5, 1e-6), values.max(), n_levels)
    ax.contour(xs, ys, values, levels=levels, colors="0.75", linewidths=0.6)
    for i, (label, path) in enumerate(trajectories.items()):
        path = np.asarray(path)
        color = PALETTE[i % len(PALETTE)]
        ax.plot(path[:, 0], path[:, 1], color=color,
                linestyle=_LINESTYLES[(i // len(PALETTE)) % len(_LINESTYLES)],
                marker=".", markersize=2.5, linewidth=1.2, label=label)
        # Where the run ended: paths often overlap, their end points rarely do.
        ax.plot(*path[-1], marker="o", markersize=7, color=color,
                markeredgecolor="white", linestyle="none", zorder=3)
    ax.plot(*function.minimum, marker="*", color="black", markersize=11, linestyle="none",
            zorder=4)
    ax.set_xlim(*function.xlim)
    ax.set_ylim(*function.ylim)
    ax.set_title(function.name)
    return ax


@dataclasses.dataclass(frozen=True)
class OptimizerRun:
    """One training run: ``history`` is Keras' ``history.history``."""

    history: dict[str, list[float]]
    seconds_per_epoch: float
    n_params: int

    @property
    def final_val_accuracy(self) -> float:
        return float(self.history["val_accuracy"][-1])


def train_with_optimizers(build_model: Callable[[], object],
                          optimizers: Mapping[str, Callable[[], object]],
                          data, *, epochs: int = 5, batch_size: int = 64,
                          seed: int = 42,
                          steps_per_execution: int = 1) -> dict[str, OptimizerRun]:
    """Trains the same model (same initial weights and batches) per optimizer.

    Args:
        build_model: returns a new, uncompiled Keras model for 10 classes.
        optimizers: label -> function returning a new Keras optimizer.
        data: a :class:`course_utils.FashionMNIST` (its train and valid splits).
        epochs, batch_size: passed to ``fit``.
        seed: set with ``keras.utils.set_random_seed`` before each run.
        steps_per_execution: passed to ``compile``; more than 1 runs several
            batches per call and saves Python overhead on small models.

    Returns:
        label -> :class:`OptimizerRun`. The time per epoch is the median over
        epochs after the first (which includes tracing), or the first if
        there is only one.

    Raises:
        ValueError: if ``optimizers`` is empty or ``epochs`` < 1.
    """
    import keras

    from course_utils.core.callbacks import EpochTimer

    if not optimizers:
        raise ValueError("`optimizers` is empty: pass at least one label -> factory.")
    epochs = check_integer("epochs", epochs, 1)
    runs = {}
    for label, make_optimizer in optimizers.items():
        keras.utils.set_random_seed(seed)
        model = build_model()
        model.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=steps_per_execution)
        timer = EpochTimer()
        history = model.fit(data.X_train, data.y_train, epochs=epochs,
                            batch_size=batch_size, validation_data=data.valid,
                            callbacks=[timer], verbose=0)
        runs[label] = OptimizerRun(
            history={k: [float(x) for x in v] for k, v in history.history.items()},
            seconds_per_epoch=timer.steady_seconds, n_params=model.count_params())
    return runs


def plot_optimizer_runs(runs: Mapping[str, OptimizerRun],
                        metrics: Sequence[str] = ("loss", "val_accuracy")) -> np.ndarray:
    """One panel per metric, one line per optimizer.

    Returns:
        The array of axes.
    """
    if not runs:
        raise ValueError("`runs` is empty.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.6),
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (label, run) in enumerate(runs.items()):
            if metric not in run.history:
                raise ValueError(f"Metric {metric!r} is not in the history of {label!r}. "
                                 f"Available: {sorted(run.history)}")
            values = run.history[metric]
            ax.plot(np.arange(1, len(values) + 1), values, color=PALETTE[i % len(PALETTE)],
                    linestyle=_LINESTYLES[(i // len(PALETTE)) % len(_LINESTYLES)],
                    marker="o", markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
    axes[0, -1].legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return axes[0]


def average_runs(runs: Sequence[OptimizerRun]) -> OptimizerRun:
    """The mean of several runs (one per seed), epoch by epoch, for plotting.

    Raises:
        ValueError: if ``runs`` is empty or their histories differ in metrics
            or number of epochs.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("Expected at least one OptimizerRun to average.")
    keys = runs[0].history.keys()
    for run in runs:
        if run.history.keys() != keys or any(len(run.history[k]) != len(runs[0].history[k])
                                             for k in keys):
            raise ValueError("Runs to average need the same metrics and epochs. Received: "
                             f"{sorted(keys)} and {sorted(run.history)}")
    return OptimizerRun(
        history={k: [float(x) for x in np.mean([run.history[k] for run in runs], axis=0)]
                 for k in keys},
        seconds_per_epoch=float(np.mean([run.seconds_per_epoch for run in runs])),
        n_params=runs[0].n_params)


def paired_rows(results, baseline: str, metric: str | None = None,
                digits: int = 3) -> list[list[str]]:
    """Rows for :func:`course_utils.show_table`, one per configuration.

    ``results`` is a :class:`course_utils.SeedResults`; each row is ``[config,
    mean ± std, paired difference from baseline ± SE, smallest to largest
    difference]`` (``"-"`` for the baseline itself).
    """
    if baseline not in results.configs:
        raise KeyError(f"Unknown baseline {baseline!r}. Known: {results.configs}")
    rows = []
    for config in results.configs:
        mean, std = results.mean(config, metric), results.std(config, metric)
        row = [config, f"{mean:.{digits}f} ± {std:.{digits}f}", "-", "-"]
        if config != baseline:
            diff = results.difference(config, baseline, metric)
            row[2:] = [f"{diff.mean:+.{digits}f} ± {diff.se:.{digits}f}",
                       f"{diff.smallest:+.{digits}f} to {diff.largest:+.{digits}f}"]
        rows.append(row)
    return rows
