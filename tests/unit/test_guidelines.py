"""TimeBudget: stops fit after the budget, counted from the start of training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import EpochTimings, TimeBudget, time_epochs


class _FakeClock:
    """Advances by `step` seconds at every reading."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _tiny_model() -> keras.Model:
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data(n: int = 40):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 2)).astype("float32")


def test_stops_after_the_batch_that_spends_the_budget():
    # The clock advances 1 s per reading: the start reads 1, batch k reads 1 + k.
    # With a 5 s budget, batch 5 sees elapsed = 5 and stops training.
    X, y = _data(40)
    budget = TimeBudget(5, clock=_FakeClock(1.0))
    history = _tiny_model().fit(X, y, batch_size=4, epochs=50, verbose=0, callbacks=[budget])
    assert budget.batches == 5
    assert budget.stopped_early
    assert budget.elapsed == pytest.approx(5.0)
    assert len(history.history["loss"]) == 1  # stopped inside the first epoch (10 batches)


def test_does_not_stop_a_run_that_fits_in_the_budget():
    X, y = _data(40)
    budget = TimeBudget(1000, clock=_FakeClock(1.0))
    history = _tiny_model().fit(X, y, batch_size=10, epochs=3, verbose=0, callbacks=[budget])
    assert not budget.stopped_early
    assert budget.batches == 12 and len(history.history["loss"]) == 3


def test_the_clock_restarts_with_every_fit():
    X, y = _data(8)
    model, budget = _tiny_model(), TimeBudget(2.5, clock=_FakeClock(1.0))
    model.fit(X, y, batch_size=4, epochs=5, verbose=0, callbacks=[budget])
    assert budget.stopped_early and budget.batches == 3
    model.fit(X, y, batch_size=8, epochs=1, verbose=0, callbacks=[budget])
    assert not budget.stopped_early and budget.batches == 1


def test_real_clock_stops_a_long_run():
    X, y = _data(64)
    budget = TimeBudget(0.3)
    history = _tiny_model().fit(X, y, batch_size=8, epochs=100_000, verbose=0,
                                callbacks=[budget])
    assert budget.stopped_early and budget.elapsed >= 0.3
    assert len(history.history["loss"]) < 100_000


@pytest.mark.parametrize("seconds, error", [
    (0, ValueError), (-1.0, ValueError), (float("inf"), ValueError), (float("nan"), ValueError),
    ("30", TypeError), (True, TypeError), (None, TypeError),
])
def test_rejects_a_budget_that_is_not_a_positive_number(seconds, error):
    with pytest.raises(error, match="Received"):
        TimeBudget(seconds)


def test_config_round_trip():
    budget = TimeBudget(12.5)
    assert TimeBudget(**budget.get_config()).seconds == 12.5


def test_time_epochs_interleaves_rounds_and_skips_warmup():
    X, y = _data()
    models = {"a": _tiny_model(), "b": _tiny_model()}
    order = []
    for name, model in models.items():
        original = model.fit

        def fit(*args, _name=name, _original=original, **kwargs):
            order.append(_name)
            return _original(*args, **kwargs)

        model.fit = fit
    clock, cpu_clock = _FakeClock(1.0), _FakeClock(0.5)
    timings = time_epochs(models, X, y, repeats=3, warmup=2, batch_size=8,
                          clock=clock, cpu_clock=cpu_clock)
    # two warm-up epochs each, then rounds a-b, b-a, a-b
    assert order == ["a", "a", "b", "b", "a", "b", "b", "a", "a", "b"]
    for name in models:
        np.testing.assert_allclose(timings.wall[name], [1.0, 1.0, 1.0])
        np.testing.assert_allclose(timings.cpu[name], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(timings.ratios("a", "b"), [1.0, 1.0, 1.0])
    assert all(int(m.optimizer.iterations.numpy()) == 5 * 5 for m in models.values())


def test_time_epochs_measures_a_real_difference():
    X, y = _data()
    models = {"fast": _tiny_model(), "slow": _tiny_model()}
    clock_values = iter(np.cumsum([0.0, 1.0, 0.0, 3.0, 0.0, 3.0, 0.0, 1.0]))
    timings = time_epochs(models, X, y, repeats=2, warmup=0, batch_size=8,
                          clock=lambda: float(next(clock_values)))
    np.testing.assert_allclose(timings.wall["fast"], [1.0, 1.0])
    np.testing.assert_allclose(timings.wall["slow"], [3.0, 3.0])
    np.testing.assert_allclose(timings.ratios("slow", "fast"), [3.0, 3.0])


@pytest.mark.parametrize("kwargs, message", [
    ({"repeats": 0}, "repeats"), ({"repeats": 1.5}, "repeats"), ({"warmup": -1}, "warmup")])
def test_time_epochs_rejects_bad_counts(kwargs, message):
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        time_epochs({"a": _tiny_model()}, X, y, **kwargs)


def test_time_epochs_rejects_empty_and_uncompiled():
    X, y = _data()
    with pytest.raises(ValueError, match="at least one model"):
        time_epochs({}, X, y)
    raw = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="compiled"):
        time_epochs({"raw": raw}, X, y)


def test_epoch_timings_ratios_rejects_unknown():
    timings = EpochTimings({"a": np.ones(2)}, {"a": np.ones(2)})
    with pytest.raises(KeyError, match="Unknown model"):
        timings.ratios("a", "b")
    with pytest.raises(ValueError, match="kind"):
        timings.ratios("a", "a", kind="gpu")
