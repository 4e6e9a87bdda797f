"""Learning-rate schedules with restarts and steps (chapter 8, second half).

:func:`cosine_decay_restarts` writes SGDR's warm restarts (Loshchilov and
Hutter) as a NumPy function of the step, cycle by cycle, the way the
chapter's equation reads; Keras computes the same schedule in
``keras.optimizers.schedules.CosineDecayRestarts`` with a closed form for
the cycle index. :func:`restart_steps` lists where the cycles start.
The staircase form of exponential decay is
:func:`course_utils.ch08_lr_schedules.schedules.exponential_decay` with ``staircase=True``.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.ch08_lr_schedules.schedules import _positive, _steps

__all__ = ["restart_steps", "cosine_decay_restarts"]


def _cycle_arguments(first_decay_steps, t_mul) -> tuple[float, float]:
    t0 = _positive("first_decay_steps", first_decay_steps)
    mul = _positive("t_mul", t_mul)
    if mul < 1:
        raise ValueError("Expected `t_mul` >= 1 (cycles that never shrink). "
                         f"Received: t_mul={t_mul!r}")
    return t0, mul


def restart_steps(first_decay_steps: float, t_mul: float, total_steps: float) -> list[float]:
    """The steps at which the cycles of :func:`cosine_decay_restarts` start.

    Cycle ``i`` lasts ``T_i = first_decay_steps * t_mul**i`` steps and starts
    at ``S_i = T_0 + T_1 + ... + T_{i-1}``.

    Returns:
        ``[S_0 = 0, S_1, ...]``, every start up to ``total_steps`` included.
    """
    t0, mul = _cycle_arguments(first_decay_steps, t_mul)
    total = _positive("total_steps", total_steps, allow_zero=True)
    starts, start, length = [], 0.0, t0
    while start <= total:
        starts.append(start)
        start, length = start + length, length * mul
    return starts


def cosine_decay_restarts(step, initial_rate: float, first_decay_steps: float,
                          t_mul: float = 2.0, m_mul: float = 1.0,
                          alpha: float = 0.0) -> np.ndarray:
    """Cosine decay with warm restarts (SGDR), cycle by cycle.

    In cycle ``i`` (see :func:`restart_steps`), at the fraction
    ``f = (t - S_i) / T_i`` of it, the rate is
    ``initial_rate * (alpha + (1 - alpha) * m_mul**i * (1 + cos(pi f)) / 2)``:
    each cycle is ``t_mul`` times longer than the previous one and starts
    ``m_mul`` times lower, and ``alpha`` is a floor that does not shrink.

    Args:
        step: the training step(s), non-negative.
        initial_rate: the rate at step 0.
        first_decay_steps: the length ``T_0`` of the first cycle.
        t_mul: the growth factor of the cycles' lengths, >= 1.
        m_mul: the factor of the cycles' peaks, > 0.
        alpha: the floor, as a fraction of ``initial_rate``, in [0, 1].

    Returns:
        The rate at each step, a float64 array of ``step``'s shape.
    """
    t = _steps(step)
    eta0 = _positive("initial_rate", initial_rate)
    t0, mul = _cycle_arguments(first_decay_steps, t_mul)
    m = _positive("m_mul", m_mul)
    a = _positive("alpha", alpha, allow_zero=True)
    if a > 1:
        raise ValueError(f"Expected `alpha` in [0, 1]. Received: alpha={alpha!r}")
    starts = np.array(restart_steps(t0, mul, float(t.max()) if t.size else 0.0))
    cycle = np.searchsorted(starts, t, side="right") - 1  # the last start <= t
    length = t0 * mul ** cycle.astype(float)
    fraction = (t - starts[cycle]) / length
    peak = m ** cycle.astype(float)
    return eta0 * (a + (1 - a) * peak * (1 + np.cos(math.pi * fraction)) / 2)
