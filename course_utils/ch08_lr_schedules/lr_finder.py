"""The learning rate a run actually uses, and the learning-rate finder.

:class:`LearningRateRecorder` logs, at every training step, the rate the
optimizer applied: the value of its rate variable when a callback sets it,
or the schedule evaluated at that step when ``learning_rate`` is a
``LearningRateSchedule``. :func:`check_rates_used` turns that log into a
check that a schedule really did what it was meant to.
:func:`find_learning_rate` grows the rate exponentially over one epoch,
records the loss, and puts the model and its optimizer back as they were.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "current_learning_rate",
    "LearningRateRecorder",
    "check_rates_used",
    "LRFinderResult",
    "find_learning_rate",
    "plot_lr_finder",
]

_Schedule = keras.optimizers.schedules.LearningRateSchedule


def current_learning_rate(optimizer: keras.optimizers.Optimizer, step: int | None = None) -> float:
    """The learning rate the optimizer applies at ``step``.

    Args:
        optimizer: a Keras optimizer.
        step: the 0-based optimizer step; defaults to ``optimizer.iterations``,
            the step about to be taken. Only used with a schedule: a fixed
            rate is the same at every step until something assigns it.

    Returns:
        The rate as a Python float.
    """
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"Expected a Keras optimizer. Received: {type(optimizer).__name__}")
    if isinstance(optimizer._learning_rate, _Schedule):
        step = int(optimizer.iterations.numpy()) if step is None else int(step)
        return float(optimizer._learning_rate(step))
    return float(optimizer.learning_rate)


def _current_momentum(optimizer, step: int) -> float:
    if hasattr(optimizer, "current_momentum"):  # ScheduledMomentumSGD
        return float(optimizer.current_momentum(step))
    return float(getattr(optimizer, "momentum", math.nan))


class LearningRateRecorder(keras.callbacks.Callback):
    """Records the learning rate (and momentum) used by every training step.

    Works whether the rate is a variable set by a callback
    (``LearningRateScheduler``, ``ReduceLROnPlateau``) or a
    ``LearningRateSchedule`` object.
    It reads the rate after each step, so it sees what a callback set before
    the step, wherever it sits in the callback list. After ``fit``,
    ``recorder.steps``, ``recorder.rates`` and ``recorder.momenta`` are arrays
    with one entry per step (``momenta`` is NaN for optimizers without one).
    """

    def __init__(self):
        super().__init__()
        self._steps: list[int] = []
        self._rates: list[float] = []
        self._momenta: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        optimizer = self.model.optimizer
        step = int(optimizer.iterations.numpy()) - 1  # the step just taken
        self._steps.append(step)
        self._rates.append(current_learning_rate(optimizer, step))
        self._momenta.append(_current_momentum(optimizer, step))

    @property
    def steps(self) -> np.ndarray:
        return np.array(self._steps, dtype=int)

    @property
    def rates(self) -> np.ndarray:
        return np.array(self._rates, dtype=float)

    @property
    def momenta(self) -> np.ndarray:
        return np.array(self._momenta, dtype=float)


def check_rates_used(rates: Sequence[float], expected_values: Sequence[float], *,
                     rtol: float = 1e-5) -> dict[float, int]:
    """Checks that every planned rate was really used for at least one step.

    A piecewise constant schedule whose boundaries lie beyond the last step
    (boundaries in epochs instead of steps, a wrong batch size) keeps its
    first rate for the whole run, silently. This check makes that an error.

    Args:
        rates: the recorded rate of each step (``LearningRateRecorder.rates``).
        expected_values: the rates the schedule was meant to go through.
        rtol: the relative tolerance (rates are float32 in the optimizer).

    Returns:
        Each expected value -> the first step that used it.

    Raises:
        ValueError: naming the values that no step used.
    """
    recorded = np.array(rates, dtype=np.float64).ravel()
    if recorded.size == 0:
        raise ValueError("Expected the recorded rates of at least one step. Received none: "
                         "was the LearningRateRecorder passed to fit()?")
    first, missing = {}, []
    for value in expected_values:
        hits = np.flatnonzero(np.isclose(recorded, value, rtol=rtol, atol=0.0))
        if hits.size:
            first[float(value)] = int(hits[0])
        else:
            missing.append(float(value))
    if missing:
        raise ValueError(
            f"The schedule's rates {missing} were never used in the {recorded.size} "
            f"training steps (the rates used went from {recorded[0]:.4g} to "
            f"{recorded[-1]:.4g}). A boundary probably lies beyond the end of training: "
            "schedule objects count optimizer steps (batches), not epochs.")
    return first


@dataclasses.dataclass(frozen=True)
class LRFinderResult:
    """What :func:`find_learning_rate` measured.

    Attributes:
        rates: the rate of each step, growing exponentially.
        losses: the batch loss at each step, smoothed (bias-corrected EMA).
        raw_losses: the unsmoothed batch losses.
        best_rate: the rate at the smallest smoothed loss.
        suggested_rate: ``best_rate / 10``.
    """

    rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    best_rate: float
    suggested_rate: float


class _ExponentialRamp(keras.callbacks.Callback):
    def __init__(self, min_rate, factor, n_steps, stop_factor, smoothing):
        super().__init__()
        self.min_rate, self.factor, self.n_steps = min_rate, factor, n_steps
        self.stop_factor, self.smoothing = stop_factor, smoothing
        self.rates, self.raw, self.smooth = [], [], []
        self._mean_before, self._avg, self._batch_in_epoch = 0.0, 0.0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._mean_before, self._batch_in_epoch = 0.0, 0

    def on_train_batch_begin(self, batch, logs=None):
        rate = self.min_rate * self.factor ** len(self.rates)
        self.model.optimizer.learning_rate.assign(rate)
        self.rates.append(rate)

    def on_train_batch_end(self, batch, logs=None):
        # Keras 3 logs the running mean of the epoch; recover this batch's loss.
        k = self._batch_in_epoch
        mean = float(logs["loss"])
        loss = (k + 1) * mean - k * self._mean_before
        self._mean_before, self._batch_in_epoch = mean, k + 1
        self.raw.append(loss)
        beta = self.smoothing
        self._avg = beta * self._avg + (1 - beta) * loss
        self.smooth.append(self._avg / (1 - beta ** len(self.raw)))
        smoothed = self.smooth[-1]
        if not math.isfinite(smoothed) or smoothed > self.stop_factor * min(self.smooth):
            self.model.stop_training = True


def find_learning_rate(model: keras.Model, X, y, *, min_rate: float = 1e-5,
                       max_rate: float = 10.0, epochs: int = 1, batch_size: int = 32,
                       stop_factor: float = 4.0, smoothing: float = 0.9,
                       shuffle: bool = True) -> LRFinderResult:
    """The learning-rate finder: grow the rate exponentially and watch the loss.

    Trains the compiled ``model`` for ``epochs`` epochs while the rate goes
    from ``min_rate`` to ``max_rate`` geometrically, one step at a time, and
    stops early once the smoothed loss exceeds ``stop_factor`` times its
    minimum. Afterwards the model's weights, the optimizer's rate and all of
    the optimizer's variables (step count, momentum, moments) are restored.

    Args:
        model: a compiled model whose optimizer has a fixed (float) rate.
        X: training inputs.
        y: training targets.
        min_rate: the first rate.
        max_rate: the last rate.
        epochs: the number of epochs the ramp lasts.
        batch_size: the batch size.
        stop_factor: stop when the smoothed loss exceeds this times its minimum.
        smoothing: the EMA coefficient of the loss curve, in [0, 1).
        shuffle: shuffle the training data, as ``fit`` does by default.

    Returns:
        An :class:`LRFinderResult`.

    Raises:
        ValueError: for an uncompiled model, a scheduled rate or bad bounds.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("Expected a compiled model. Received a model without an optimizer: "
                         "call model.compile(...) first.")
    if isinstance(optimizer._learning_rate, _Schedule):
        raise ValueError("Expected an optimizer with a fixed learning rate. Received one "
                         f"with the schedule {type(optimizer._learning_rate).__name__}: the "
                         "finder must set the rate itself.")
    if not (0 < min_rate < max_rate and math.isfinite(max_rate)):
        raise ValueError("Expected 0 < min_rate < max_rate. Received: "
                         f"min_rate={min_rate!r}, max_rate={max_rate!r}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"Expected `smoothing` in [0, 1). Received: smoothing={smoothing!r}")
    n_steps = epochs * math.ceil(len(X) / batch_size)
    if n_steps < 2:
        raise ValueError(f"Expected at least 2 training steps. Received: {len(X)} samples, "
                         f"batch_size={batch_size}, epochs={epochs}")
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    weights = model.get_weights()
    state = [np.array(v.numpy(), copy=True) for v in optimizer.variables]
    ramp = _ExponentialRamp(min_rate, (max_rate / min_rate) ** (1 / (n_steps - 1)), n_steps,
                            stop_factor, smoothing)
    try:
        model.fit(X, y, epochs=epochs, batch_size=batch_size, callbacks=[ramp], verbose=0,
                  shuffle=shuffle)
    finally:
        model.set_weights(weights)
        for variable, value in zip(optimizer.variables, state):
            variable.assign(value)
        model.stop_training = False
    rates = np.array(ramp.rates[:len(ramp.raw)])
    losses = np.array(ramp.smooth)
    finite = np.isfinite(losses)
    best = float(rates[finite][np.argmin(losses[finite])]) if finite.any() else float(rates[0])
    return LRFinderResult(rates=rates, losses=losses, raw_losses=np.array(ramp.raw),
                          best_rate=best, suggested_rate=best / 10)


def plot_lr_finder(result: LRFinderResult, ax: plt.Axes | None = None) -> plt.Axes:
    """Plots the finder's loss against the rate on a log axis, with its pick.

    Args:
        result: the output of :func:`find_learning_rate`.
        ax: the axes to draw on; a new one by default.

    Returns:
        The axes.
    """
    if not isinstance(result, LRFinderResult):
        raise TypeError(f"Expected an LRFinderResult. Received: {type(result).__name__}")
    if ax is None:
        _, ax = plt.subplots()
    ax.semilogx(result.rates, result.raw_losses, alpha=0.3, label="batch loss")
    ax.semilogx(result.rates, result.losses, label="smoothed")
    ax.axvline(result.best_rate, color="grey", linestyle=":", label="lowest loss")
    ax.axvline(result.suggested_rate, color="black", linestyle="--", label="suggested rate")
    finite = result.losses[np.isfinite(result.losses)]
    if finite.size:
        ax.set_ylim(0.9 * finite.min(), min(finite.max(), 3 * finite[0]) * 1.05)
    ax.set(xlabel="learning rate (log scale)", ylabel="training loss")
    ax.legend(fontsize="small")
    return ax
