"""The learning-rate recorder, the boundary check and the learning-rate finder."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

from course_utils import (
    LearningRateRecorder,
    LRFinderResult,
    OneCycleSchedule,
    ScheduledMomentumSGD,
    check_rates_used,
    current_learning_rate,
    find_learning_rate,
    one_cycle,
    piecewise_constant,
    plot_lr_finder,
)

matplotlib.use("Agg")
schedules = keras.optimizers.schedules


def _data(n=96, seed=0, separable=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype("float32")
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) if separable else rng.integers(0, 3, n)
    return X, y


def _model(optimizer, seed=0, classes=3):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dense(classes, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def test_current_learning_rate_fixed_and_scheduled():
    assert current_learning_rate(keras.optimizers.SGD(0.25)) == 0.25
    optimizer = keras.optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5))
    np.testing.assert_allclose(current_learning_rate(optimizer), 0.1, rtol=1e-6)
    np.testing.assert_allclose(current_learning_rate(optimizer, step=20), 0.025, rtol=1e-6)
    with pytest.raises(TypeError, match="Keras optimizer"):
        current_learning_rate("sgd")


def test_recorder_with_a_schedule_object():
    schedule = OneCycleSchedule(12, 0.3, initial_rate=0.03, final_rate=0.001)
    model = _model(ScheduledMomentumSGD(schedule, momentum=OneCycleSchedule(
        12, 0.85, initial_rate=0.95, final_rate=0.95)))
    recorder = LearningRateRecorder()
    X, y = _data()
    history = model.fit(X, y, epochs=2, batch_size=16, verbose=0, callbacks=[recorder])
    np.testing.assert_array_equal(recorder.steps, np.arange(12))
    np.testing.assert_allclose(recorder.rates, one_cycle(np.arange(12), 12, 0.03, 0.3, 0.001),
                               rtol=1e-5)
    np.testing.assert_allclose(recorder.momenta,
                               one_cycle(np.arange(12), 12, 0.95, 0.85, 0.95), rtol=1e-5)
    assert "learning_rate" not in history.history  # Keras logs it only for LR callbacks


# Keras' LearningRateScheduler calls np.array on a variable, which NumPy 2 flags.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_recorder_with_a_callback_in_either_order():
    X, y = _data()
    def schedule(epoch):
        return 0.1 * 0.5 ** epoch
    for order in ("recorder first", "recorder last"):
        recorder = LearningRateRecorder()
        scheduler = keras.callbacks.LearningRateScheduler(schedule)
        callbacks = [recorder, scheduler] if order == "recorder first" else [scheduler, recorder]
        model = _model(keras.optimizers.SGD(1.0, momentum=0.9))
        history = model.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=callbacks)
        np.testing.assert_allclose(recorder.rates, np.repeat([0.1, 0.05, 0.025], 3), rtol=1e-6)
        np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.025],
                                   rtol=1e-6)
        np.testing.assert_allclose(recorder.momenta, 0.9)


def test_check_rates_used_catches_boundaries_beyond_training():
    X, y = _data()  # 96 samples, batch 32: 3 steps per epoch, 9 steps in all
    values = [0.1, 0.01, 0.001]
    for boundaries, ok in [([2, 5], True), ([3 * 96, 6 * 96], False)]:  # steps vs samples
        recorder = LearningRateRecorder()
        model = _model(keras.optimizers.SGD(schedules.PiecewiseConstantDecay(boundaries,
                                                                             values)))
        model.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=[recorder])
        np.testing.assert_allclose(recorder.rates,
                                   piecewise_constant(np.arange(9), boundaries, values),
                                   rtol=1e-6)
        if ok:
            assert check_rates_used(recorder.rates, values) == {0.1: 0, 0.01: 3, 0.001: 6}
        else:
            with pytest.raises(ValueError, match=r"never used in the 9 training steps"):
                check_rates_used(recorder.rates, values)
    with pytest.raises(ValueError, match="at least one step"):
        check_rates_used([], values)


def _state(model):
    return ([w.copy() for w in model.get_weights()],
            [np.array(v.numpy()) for v in model.optimizer.variables])


def test_finder_restores_weights_rate_and_optimizer_state():
    X, y = _data(n=256, separable=True)
    model = _model(keras.optimizers.SGD(0.05, momentum=0.9), classes=2)
    model.fit(X, y, epochs=1, batch_size=32, verbose=0)  # nonzero velocities, step 8
    weights, variables = _state(model)
    assert int(model.optimizer.iterations.numpy()) == 8
    result = find_learning_rate(model, X, y, min_rate=1e-4, max_rate=100.0, batch_size=8)
    after_weights, after_variables = _state(model)
    for a, b in zip(weights + variables, after_weights + after_variables):
        np.testing.assert_array_equal(a, b)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert not model.stop_training
    # The ramp is geometric from min_rate, and stopped early once the loss blew up.
    n = len(result.rates)
    assert 5 < n < 32, f"expected an early stop, got {n} of 32 steps"
    np.testing.assert_allclose(result.rates, 1e-4 * (1e6 ** (1 / 31)) ** np.arange(n),
                               rtol=1e-9)
    assert result.losses[-1] > 4 * np.nanmin(result.losses[:-1]) or not np.isfinite(
        result.losses[-1])
    assert result.suggested_rate == pytest.approx(result.best_rate / 10)
    assert 1e-3 < result.suggested_rate < 3.0


def test_finder_batch_losses_match_a_manual_evaluation():
    # The finder recovers each batch's loss from Keras' running mean of the epoch. With
    # rates too small to move the weights, batch k's loss is the initial model's loss on
    # batch k: evaluate it directly.
    X, y = _data(n=80)
    model = _model(keras.optimizers.SGD(0.1))
    result = find_learning_rate(model, X, y, min_rate=1e-9, max_rate=2e-9, batch_size=16,
                                smoothing=0.0, shuffle=False, stop_factor=1e9)
    expected = [model.evaluate(X[i:i + 16], y[i:i + 16], verbose=0) for i in range(0, 80, 16)]
    np.testing.assert_allclose(result.raw_losses, expected, rtol=1e-4)
    np.testing.assert_allclose(result.losses, result.raw_losses)  # no smoothing
    # With smoothing, the bias-corrected average of a constant sequence is that constant.
    beta, raw = 0.9, np.asarray(expected)
    ema, smoothed = 0.0, []
    for k, loss in enumerate(raw, start=1):
        ema = beta * ema + (1 - beta) * loss
        smoothed.append(ema / (1 - beta ** k))
    again = find_learning_rate(model, X, y, min_rate=1e-9, max_rate=2e-9, batch_size=16,
                               smoothing=beta, shuffle=False, stop_factor=1e9)
    np.testing.assert_allclose(again.losses, smoothed, rtol=1e-4)


def test_finder_errors():
    X, y = _data()
    keras.utils.set_random_seed(0)
    bare = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="compiled model"):
        find_learning_rate(bare, X, y)
    scheduled = _model(keras.optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5)))
    with pytest.raises(ValueError, match="fixed learning rate"):
        find_learning_rate(scheduled, X, y)
    with pytest.raises(ValueError, match="min_rate < max_rate"):
        find_learning_rate(_model(keras.optimizers.SGD(0.1)), X, y, min_rate=1.0, max_rate=0.1)


def test_plot_lr_finder():
    result = LRFinderResult(rates=np.geomspace(1e-4, 1, 20), losses=np.linspace(2, 1, 20),
                            raw_losses=np.linspace(2, 1, 20), best_rate=1.0,
                            suggested_rate=0.1)
    ax = plot_lr_finder(result)
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 4
    with pytest.raises(TypeError, match="LRFinderResult"):
        plot_lr_finder({"rates": []})
    matplotlib.pyplot.close("all")
