"""Warm restarts and the staircase form of exponential decay against Keras (chapter 8)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from course_utils import cosine_decay_restarts, exponential_decay, restart_steps

schedules = keras.optimizers.schedules
STEPS = np.array([0, 1, 49, 50, 99, 101, 149, 151, 299, 301, 451, 700, 1000])


def keras_values(schedule, steps=STEPS):
    return np.array([float(schedule(int(s))) for s in steps])


def test_restart_steps_known_values():
    assert restart_steps(100, 2.0, 1500) == [0.0, 100.0, 300.0, 700.0, 1500.0]
    assert restart_steps(100, 1.0, 350) == [0.0, 100.0, 200.0, 300.0]
    assert restart_steps(10, 3.0, 0) == [0.0]
    with pytest.raises(ValueError, match="t_mul"):
        restart_steps(100, 0.5, 1000)


def test_cosine_restarts_known_values():
    # First cycle: 100 steps; second: 200 steps from step 100, peak 0.5.
    values = cosine_decay_restarts([0, 50, 100, 200, 300], 1.0, 100, t_mul=2.0, m_mul=0.5)
    np.testing.assert_allclose(values, [1.0, 0.5, 0.5, 0.25, 0.25], atol=1e-12)
    # The floor alpha does not shrink with the cycles.
    floor = cosine_decay_restarts([99.999999, 299.999999], 2.0, 100, m_mul=0.5, alpha=0.1)
    np.testing.assert_allclose(floor, [0.2, 0.2], atol=1e-9)
    mid = cosine_decay_restarts(25, 1.0, 100, t_mul=1.0)
    assert float(mid) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)


@pytest.mark.parametrize("t_mul,m_mul,alpha", [(2.0, 1.0, 0.0), (2.0, 0.7, 0.01),
                                               (1.0, 0.8, 0.0), (1.5, 1.0, 0.2)])
def test_cosine_restarts_match_keras(t_mul, m_mul, alpha):
    ours = cosine_decay_restarts(STEPS, 0.1, 50, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    theirs = keras_values(schedules.CosineDecayRestarts(0.1, 50, t_mul=t_mul, m_mul=m_mul,
                                                        alpha=alpha))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_cosine_restarts_bad_inputs():
    with pytest.raises(ValueError, match="alpha"):
        cosine_decay_restarts(5, 0.1, 50, alpha=2.0)
    with pytest.raises(ValueError, match="first_decay_steps"):
        cosine_decay_restarts(5, 0.1, 0)
    with pytest.raises(ValueError, match="non-negative"):
        cosine_decay_restarts(-1, 0.1, 50)


@pytest.mark.parametrize("eta0,s,r", [(0.1, 300, 0.5), (0.02, 7, 0.9)])
def test_staircase_matches_keras_and_its_formula(eta0, s, r):
    ours = exponential_decay(STEPS, eta0, s, r, staircase=True)
    theirs = keras_values(schedules.ExponentialDecay(eta0, s, r, staircase=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(ours, eta0 * r ** (STEPS // s))
    # At the start of every stair it meets the smooth schedule.
    stairs = np.arange(0, 1000, s)
    np.testing.assert_allclose(exponential_decay(stairs, eta0, s, r, staircase=True),
                               exponential_decay(stairs, eta0, s, r))
