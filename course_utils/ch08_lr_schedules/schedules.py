"""Learning-rate schedules: reference formulas in NumPy, 1cycle for Keras 3.

Each schedule is first written as a plain NumPy function of the training
step (or, for performance scheduling, of the validation history), the way
the chapter's equations read. The unit tests compare them with Keras' own
schedule objects. :class:`OneCycleSchedule` is a serializable Keras
``LearningRateSchedule``; :class:`ScheduledMomentumSGD` is SGD whose momentum
can follow a schedule too, which plain ``keras.optimizers.SGD`` cannot do
during training (its ``momentum`` is a Python float read once, when the
training step is traced).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from course_utils.core.validation import as_float_array, check_integer
from course_utils.core.validation import check_positive as _positive

__all__ = [
    "power_decay",
    "exponential_decay",
    "piecewise_constant",
    "cosine_decay_with_warmup",
    "one_cycle",
    "plateau_rates",
    "OneCycleSchedule",
    "ScheduledMomentumSGD",
    "plot_schedules",
]


def _steps(step) -> np.ndarray:
    t = as_float_array("step", step)  # a copy: never touch the caller's array
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"Expected non-negative, finite steps. Received: step={step!r:.80}")
    return t


def power_decay(step, initial_rate: float, decay_steps: float, power: float = 1.0) -> np.ndarray:
    """Power scheduling: ``initial_rate / (1 + step / decay_steps) ** power``.

    With ``power=1`` this is Keras' ``InverseTimeDecay`` with ``decay_rate=1``.

    Args:
        step: the training step(s), a number or an array.
        initial_rate: the rate at step 0.
        decay_steps: after this many steps the rate has dropped to
            ``initial_rate / 2 ** power``.
        power: the exponent.

    Returns:
        The rate at each step, a float64 array of ``step``'s shape.
    """
    t = _steps(step)
    eta0 = _positive("initial_rate", initial_rate)
    s = _positive("decay_steps", decay_steps)
    c = _positive("power", power)
    return eta0 / (1.0 + t / s) ** c


def exponential_decay(step, initial_rate: float, decay_steps: float,
                      decay_rate: float = 0.1, staircase: bool = False) -> np.ndarray:
    """Exponential scheduling: ``initial_rate * decay_rate ** (step / decay_steps)``.

    The rate is multiplied by ``decay_rate`` every ``decay_steps`` steps, as
    in Keras' ``ExponentialDecay``; with ``staircase=True`` the exponent is
    ``floor(step / decay_steps)``, so the rate drops in jumps.

    Args:
        step: the training step(s).
        initial_rate: the rate at step 0.
        decay_steps: the number of steps for one factor of ``decay_rate``.
        decay_rate: the factor, in (0, 1] for a decay.
        staircase: drop the rate in jumps, every ``decay_steps`` steps.

    Returns:
        The rate at each step, a float64 array of ``step``'s shape.
    """
    t = _steps(step)
    eta0 = _positive("initial_rate", initial_rate)
    s = _positive("decay_steps", decay_steps)
    r = _positive("decay_rate", decay_rate)
    return eta0 * r ** (np.floor(t / s) if staircase else t / s)


def piecewise_constant(step, boundaries: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """Piecewise constant scheduling, with Keras' ``PiecewiseConstantDecay`` rule.

    The rate is ``values[0]`` for ``step <= boundaries[0]``, ``values[i]`` for
    ``boundaries[i - 1] < step <= boundaries[i]``, and ``values[-1]`` after
    the last boundary.

    Args:
        step: the training step(s).
        boundaries: increasing step numbers.
        values: one more value than there are boundaries.

    Returns:
        The rate at each step, a float64 array of ``step``'s shape.
    """
    t = _steps(step)
    b = np.array(boundaries, dtype=np.float64).ravel()
    v = np.array(values, dtype=np.float64).ravel()
    if len(v) != len(b) + 1:
        raise ValueError("Expected one more value than boundaries. Received: "
                         f"{len(b)} boundaries and {len(v)} values.")
    if np.any(np.diff(b) <= 0):
        raise ValueError(f"Expected strictly increasing boundaries. Received: {list(boundaries)}")
    return v[np.searchsorted(b, t, side="left")]


def cosine_decay_with_warmup(step, initial_rate: float, warmup_target: float,
                             warmup_steps: int, decay_steps: int,
                             alpha: float = 0.0) -> np.ndarray:
    """Linear warmup, then cosine decay, as Keras' ``CosineDecay(warmup_target=...)``.

    For ``step < warmup_steps`` the rate grows linearly from ``initial_rate``
    to ``warmup_target``; then it follows
    ``warmup_target * ((1 - alpha) * (1 + cos(pi * u)) / 2 + alpha)`` with
    ``u = min(step - warmup_steps, decay_steps) / decay_steps``.

    Args:
        step: the training step(s).
        initial_rate: the rate at step 0 (often 0).
        warmup_target: the rate reached at the end of the warmup.
        warmup_steps: the length of the warmup (0 for none).
        decay_steps: the length of the cosine decay.
        alpha: the final rate as a fraction of ``warmup_target``.

    Returns:
        The rate at each step, a float64 array of ``step``'s shape.
    """
    t = _steps(step)
    eta0 = _positive("initial_rate", initial_rate, allow_zero=True)
    peak = _positive("warmup_target", warmup_target)
    w = _positive("warmup_steps", warmup_steps, allow_zero=True)
    d = _positive("decay_steps", decay_steps)
    a = _positive("alpha", alpha, allow_zero=True)
    u = np.minimum(np.maximum(t - w, 0.0), d) / d
    decayed = peak * ((1 - a) * 0.5 * (1 + np.cos(np.pi * u)) + a)
    if w == 0:
        return decayed
    return np.where(t < w, eta0 + (peak - eta0) * t / w, decayed)


def one_cycle(step, total_steps: int, initial_value: float, peak_value: float,
              final_value: float, peak_fraction: float = 0.45) -> np.ndarray:
    """The 1cycle shape: linear to a peak, back, then a final linear phase.

    With ``a = peak_fraction * total_steps``, the value goes linearly from
    ``initial_value`` to ``peak_value`` over ``[0, a]``, back to
    ``initial_value`` over ``[a, 2a]``, then to ``final_value`` at
    ``total_steps``, and stays there. For the learning rate the peak is the
    maximum; for momentum (0.95, 0.85, 0.95) it is the minimum.

    Args:
        step: the training step(s).
        total_steps: the length of the cycle (all of training).
        initial_value: the value at step 0 and at step ``2a``.
        peak_value: the value at step ``a``.
        final_value: the value at ``total_steps``.
        peak_fraction: where the peak sits, in (0, 0.5].

    Returns:
        The value at each step, a float64 array of ``step``'s shape.
    """
    t = _steps(step)
    n = _positive("total_steps", total_steps)
    for name, value in [("initial_value", initial_value), ("peak_value", peak_value),
                        ("final_value", final_value)]:
        _positive(name, value, allow_zero=True)
    if not (isinstance(peak_fraction, (int, float)) and 0 < peak_fraction <= 0.5):
        raise ValueError("Expected `peak_fraction` in (0, 0.5]. "
                         f"Received: peak_fraction={peak_fraction!r}")
    a = peak_fraction * n
    points = [0.0, a, 2 * a, n] if 2 * a < n else [0.0, a, n]
    levels = ([initial_value, peak_value, initial_value, final_value] if 2 * a < n
              else [initial_value, peak_value, final_value])
    return np.interp(t, points, np.asarray(levels, dtype=np.float64))


def plateau_rates(metric: Sequence[float], initial_rate: float, *, factor: float = 0.1,
                  patience: int = 10, min_delta: float = 1e-4,
                  min_rate: float = 0.0) -> np.ndarray:
    """Performance scheduling, as ``keras.callbacks.ReduceLROnPlateau`` (mode "min").

    After each epoch, the epoch counts as an improvement if its metric is
    below the best so far by more than ``min_delta``. After ``patience``
    epochs in a row without improvement, the rate is multiplied by
    ``factor`` (not below ``min_rate``) and the count restarts.

    Args:
        metric: the monitored value (e.g. validation loss) after each epoch.
        initial_rate: the rate of the first epoch.
        factor: the reduction factor, in (0, 1).
        patience: epochs without improvement before a reduction.
        min_delta: the smallest decrease that counts as an improvement.
        min_rate: the floor.

    Returns:
        The rate used *during* each epoch, a float64 array of ``len(metric)``.
    """
    values = np.array(metric, dtype=np.float64).ravel()
    rate = _positive("initial_rate", initial_rate)
    if not 0 < factor < 1:
        raise ValueError(f"Expected `factor` in (0, 1). Received: factor={factor!r}")
    patience = check_integer("patience", patience, 0)
    best, wait, rates = math.inf, 0, []
    for value in values:
        rates.append(rate)
        if value + abs(min_delta) < best:
            best, wait = value, 0
            continue
        wait += 1
        if wait >= patience and rate > np.float32(min_rate):
            rate, wait = max(rate * factor, min_rate), 0
    return np.array(rates)


@keras.saving.register_keras_serializable(package="course_utils")
class OneCycleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """1cycle as a Keras ``LearningRateSchedule`` (see :func:`one_cycle`).

    Pass it as ``learning_rate=`` to any optimizer; the optimizer evaluates it
    at every step inside the compiled training step. Serializable: a model
    compiled with it saves to and loads from ``.keras``.

    Args:
        total_steps: the number of optimizer steps of the whole run.
        max_rate: the peak learning rate.
        initial_rate: the rate at the start (default ``max_rate / 10``).
        final_rate: the rate at the end (default ``initial_rate / 100``).
        peak_fraction: where the peak sits, in (0, 0.5].
    """

    def __init__(self, total_steps: int, max_rate: float, initial_rate: float | None = None,
                 final_rate: float | None = None, peak_fraction: float = 0.45,
                 name: str = "OneCycleSchedule"):
        super().__init__()
        self.total_steps = int(_positive("total_steps", total_steps))
        self.max_rate = _positive("max_rate", max_rate)
        self.initial_rate = (self.max_rate / 10 if initial_rate is None
                             else _positive("initial_rate", initial_rate, allow_zero=True))
        self.final_rate = (self.initial_rate / 100 if final_rate is None
                           else _positive("final_rate", final_rate, allow_zero=True))
        one_cycle(0, self.total_steps, self.initial_rate, self.max_rate, self.final_rate,
                  peak_fraction)  # validates peak_fraction
        self.peak_fraction = float(peak_fraction)
        self.name = name

    def __call__(self, step):
        t = ops.cast(step, "float32")
        n = float(self.total_steps)
        a = self.peak_fraction * n
        lo, hi, end = self.initial_rate, self.max_rate, self.final_rate
        up = lo + (hi - lo) * ops.minimum(t, a) / a
        tail = n - 2 * a
        back = lo if tail > 0 else end  # with peak_fraction=0.5 the cycle ends at `end`
        down = hi + (back - hi) * ops.clip(t - a, 0.0, a) / a
        if tail > 0:
            last = lo + (end - lo) * ops.clip(t - 2 * a, 0.0, tail) / tail
        else:
            last = ops.cast(end, "float32") + 0.0 * t
        return ops.where(t <= a, up, ops.where(t <= 2 * a, down, last))

    def get_config(self) -> dict:
        return {"total_steps": self.total_steps, "max_rate": self.max_rate,
                "initial_rate": self.initial_rate, "final_rate": self.final_rate,
                "peak_fraction": self.peak_fraction, "name": self.name}


@keras.saving.register_keras_serializable(package="course_utils")
class ScheduledMomentumSGD(keras.optimizers.SGD):
    """SGD with momentum whose momentum may follow a schedule of the step.

    Keras' ``SGD`` reads its ``momentum`` attribute, a Python float, when
    the training step is traced; assigning a new value during ``fit`` has no
    effect. Here ``momentum`` is a float or any ``LearningRateSchedule``
    (e.g. a :class:`OneCycleSchedule` from 0.95 down to 0.85 and back),
    evaluated at ``optimizer.iterations`` inside the step, like the rate.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        momentum: a float in [0, 1] or a ``LearningRateSchedule``.
        nesterov: whether to use Nesterov momentum.
        **kwargs: the other arguments of ``keras.optimizers.SGD``.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov: bool = False,
                 name: str = "ScheduledMomentumSGD", **kwargs):
        if isinstance(momentum, dict):
            momentum = keras.optimizers.schedules.deserialize(momentum)
        if isinstance(momentum, keras.optimizers.schedules.LearningRateSchedule):
            schedule = momentum
        elif isinstance(momentum, (int, float)) and not isinstance(momentum, bool):
            schedule = None
        else:
            raise TypeError("Expected `momentum` to be a float or a LearningRateSchedule. "
                            f"Received: momentum={momentum!r:.80}")
        # The parent stores a float; a nonzero one makes it create the velocities.
        start = 0.9 if schedule is not None else float(momentum)
        super().__init__(learning_rate=learning_rate, momentum=start, nesterov=nesterov,
                         name=name, **kwargs)
        self.momentum_schedule = schedule

    def current_momentum(self, step=None):
        """The momentum at ``step`` (default: the optimizer's current step)."""
        if self.momentum_schedule is None:
            return self.momentum
        return self.momentum_schedule(self.iterations if step is None else step)

    def update_step(self, gradient, variable, learning_rate):
        if self.momentum_schedule is None:
            return super().update_step(gradient, variable, learning_rate)
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        momentum = ops.cast(self.current_momentum(), variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(m, ops.subtract(ops.multiply(m, momentum),
                                    ops.multiply(gradient, learning_rate)))
        if self.nesterov:
            self.assign_add(variable, ops.subtract(ops.multiply(m, momentum),
                                                   ops.multiply(gradient, learning_rate)))
        else:
            self.assign_add(variable, m)

    def get_config(self) -> dict:
        config = super().get_config()
        if self.momentum_schedule is not None:
            config["momentum"] = keras.optimizers.schedules.serialize(self.momentum_schedule)
        return config


def plot_schedules(curves: Mapping[str, Sequence[float]], ax: plt.Axes | None = None, *,
                   log: bool = True, xlabel: str = "step",
                   ylabel: str = "learning rate") -> plt.Axes:
    """Plots one line per schedule, the rate against the step.

    Args:
        curves: label -> the rate at steps 0, 1, 2, ...
        ax: the axes to draw on; a new one by default.
        log: use a log scale for the rate.
        xlabel: the x-axis label.
        ylabel: the y-axis label.

    Returns:
        The axes.
    """
    if not curves:
        raise ValueError("`curves` is empty: pass at least one schedule.")
    if ax is None:
        _, ax = plt.subplots()
    for label, rates in curves.items():
        rates = np.asarray(rates, dtype=float)
        ax.plot(np.arange(len(rates)), rates, label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize="small")
    return ax
