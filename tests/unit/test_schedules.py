"""Schedule formulas against Keras' own schedules and callbacks, and 1cycle in Keras."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

from course_utils import (
    OneCycleSchedule,
    ScheduledMomentumSGD,
    cosine_decay_with_warmup,
    exponential_decay,
    one_cycle,
    piecewise_constant,
    plateau_rates,
    plot_schedules,
    power_decay,
)

matplotlib.use("Agg")

STEPS = np.array([0, 1, 7, 50, 99, 100, 101, 250, 1000, 5000])
schedules = keras.optimizers.schedules


def keras_values(schedule, steps=STEPS):
    return np.array([float(schedule(int(s))) for s in steps])


# Keras evaluates schedules in float32: compare with rtol 1e-5.
@pytest.mark.parametrize("eta0,s", [(0.1, 100), (0.02, 7)])
def test_power_decay_matches_inverse_time_decay(eta0, s):
    expected = keras_values(schedules.InverseTimeDecay(eta0, decay_steps=s, decay_rate=1.0))
    np.testing.assert_allclose(power_decay(STEPS, eta0, s), expected, rtol=1e-5)


def test_power_decay_known_values():
    # After decay_steps the rate is divided by 2 ** power; after 3 * decay_steps by 4 ** power.
    np.testing.assert_allclose(power_decay([0, 10, 30], 0.4, 10, power=0.5),
                               [0.4, 0.4 / np.sqrt(2), 0.2], rtol=1e-12)


@pytest.mark.parametrize("eta0,s,r", [(0.1, 100, 0.1), (0.01, 30, 0.5)])
def test_exponential_decay_matches_keras(eta0, s, r):
    expected = keras_values(schedules.ExponentialDecay(eta0, decay_steps=s, decay_rate=r))
    # atol: float32 underflows to 0 where the exact rate is 1e-51.
    np.testing.assert_allclose(exponential_decay(STEPS, eta0, s, r), expected, rtol=1e-5,
                               atol=1e-30)
    np.testing.assert_allclose(exponential_decay([0, s, 2 * s], eta0, s, r),
                               [eta0, eta0 * r, eta0 * r * r], rtol=1e-12)


def test_piecewise_constant_matches_keras_at_the_boundaries():
    boundaries, values = [50, 100, 250], [0.1, 0.05, 0.01, 0.001]
    expected = keras_values(schedules.PiecewiseConstantDecay(boundaries, values))
    np.testing.assert_allclose(piecewise_constant(STEPS, boundaries, values), expected,
                               rtol=1e-6)
    # Keras' rule: the boundary step itself still uses the earlier value.
    np.testing.assert_array_equal(piecewise_constant([50, 51], boundaries, values), [0.1, 0.05])


@pytest.mark.parametrize("warmup_steps,alpha", [(0, 0.0), (100, 0.0), (100, 0.1), (7, 0.05)])
def test_cosine_decay_with_warmup_matches_keras(warmup_steps, alpha):
    kwargs = dict(decay_steps=900, alpha=alpha)
    if warmup_steps:
        kwargs.update(warmup_target=0.1, warmup_steps=warmup_steps)
        schedule = schedules.CosineDecay(0.0, **kwargs)
        ours = cosine_decay_with_warmup(STEPS, 0.0, 0.1, warmup_steps, 900, alpha)
    else:
        schedule = schedules.CosineDecay(0.1, **kwargs)
        ours = cosine_decay_with_warmup(STEPS, 0.1, 0.1, 0, 900, alpha)
    np.testing.assert_allclose(ours, keras_values(schedule), rtol=1e-5, atol=1e-8)


def test_cosine_known_values():
    values = cosine_decay_with_warmup([0, 50, 100, 550, 1000, 2000], 0.0, 0.2, 100, 900)
    np.testing.assert_allclose(values, [0.0, 0.1, 0.2, 0.1, 0.0, 0.0], atol=1e-12)


def test_one_cycle_key_steps():
    steps = [0, 45, 90, 95, 100, 200, 22.5]
    expected = [0.01, 0.1, 0.01, 0.01 + 0.5 * (1e-4 - 0.01), 1e-4, 1e-4, 0.055]
    np.testing.assert_allclose(one_cycle(steps, 100, 0.01, 0.1, 1e-4), expected, rtol=1e-12)
    # Momentum goes the other way: down to the peak value, then back up.
    momentum = one_cycle([0, 45, 90, 100], 100, 0.95, 0.85, 0.95)
    np.testing.assert_allclose(momentum, [0.95, 0.85, 0.95, 0.95], rtol=1e-12)
    # peak_fraction = 0.5: no final phase, the cycle ends at the final value.
    np.testing.assert_allclose(one_cycle([0, 50, 75, 100], 100, 0.1, 1.0, 0.0, 0.5),
                               [0.1, 1.0, 0.5, 0.0], rtol=1e-12)


@pytest.mark.parametrize("peak_fraction", [0.3, 0.45, 0.5])
def test_one_cycle_schedule_matches_numpy(peak_fraction):
    schedule = OneCycleSchedule(200, 0.5, initial_rate=0.02, final_rate=1e-4,
                                peak_fraction=peak_fraction)
    steps = np.arange(0, 260, 3)
    np.testing.assert_allclose(keras_values(schedule, steps),
                               one_cycle(steps, 200, 0.02, 0.5, 1e-4, peak_fraction),
                               rtol=1e-5, atol=1e-9)
    defaults = OneCycleSchedule(10, 1.0)
    assert (defaults.initial_rate, defaults.final_rate) == (0.1, 0.001)


def _reference_plateau(values, lr, patience, factor, min_delta, min_lr):
    """Drives Keras' own ReduceLROnPlateau with a given validation history."""
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", mode="min",
                                                 factor=factor, patience=patience,
                                                 min_delta=min_delta, min_lr=min_lr)
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, value in enumerate(values):
        logs = {"val_loss": value}
        callback.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])  # the rate used during that epoch
    return np.array(rates)


# Keras' ReduceLROnPlateau calls np.array on a variable, which NumPy 2 flags.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("patience,min_delta,min_lr", [(2, 1e-4, 0.0), (3, 0.01, 1e-3),
                                                       (0, 0.0, 0.0)])
def test_plateau_rates_match_reduce_lr_on_plateau(seed, patience, min_delta, min_lr):
    rng = np.random.default_rng(seed)
    # A noisy, flattening validation loss.
    values = 1.0 / np.sqrt(1 + np.arange(40)) + rng.normal(0, 0.02, 40)
    ours = plateau_rates(values, 0.1, factor=0.5, patience=patience, min_delta=min_delta,
                         min_rate=min_lr)
    expected = _reference_plateau(values, 0.1, patience, 0.5, min_delta, min_lr)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    assert ours[-1] < ours[0]  # the test exercises at least one reduction


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(5, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def test_scheduled_momentum_sgd_follows_the_numpy_update():
    lr = OneCycleSchedule(10, 0.3, initial_rate=0.03, final_rate=0.001)
    momentum = OneCycleSchedule(10, 0.5, initial_rate=0.95, final_rate=0.95)
    optimizer = ScheduledMomentumSGD(learning_rate=lr, momentum=momentum)
    w = keras.Variable(np.array([1.0, -2.0, 0.5], dtype="float32"))
    w_ref, velocity = np.array([1.0, -2.0, 0.5]), np.zeros(3)
    rng = np.random.default_rng(0)
    for step in range(12):
        g = rng.normal(size=3)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, "float32"), w)])
        eta = one_cycle(step, 10, 0.03, 0.3, 0.001)
        beta = one_cycle(step, 10, 0.95, 0.5, 0.95)
        velocity = beta * velocity - eta * g
        w_ref = w_ref + velocity
        np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-5, atol=1e-6)


def test_scheduled_momentum_sgd_with_a_float_is_plain_sgd():
    X, y = _data()
    results = []
    for optimizer in (ScheduledMomentumSGD(0.1, momentum=0.8, nesterov=True),
                      keras.optimizers.SGD(0.1, momentum=0.8, nesterov=True)):
        model = _model()
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        model.fit(X, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_assigning_sgd_momentum_during_fit_has_no_effect():
    """The reason ScheduledMomentumSGD exists: SGD bakes its momentum in at trace time."""

    class ZeroMomentumAfterFirstStep(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.momentum = 0.9 if batch == 0 else 0.0

    X, y = _data()
    weights = {}
    for label, callbacks in [("assigned", [ZeroMomentumAfterFirstStep()]), ("constant", [])]:
        model = _model()
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        model.fit(X, y, epochs=1, batch_size=16, shuffle=False, verbose=0,
                  callbacks=callbacks)
        weights[label] = model.get_weights()
    for a, b in zip(weights["assigned"], weights["constant"]):
        np.testing.assert_array_equal(a, b)


# Keras' saving code calls np.array on variables, which NumPy 2 flags.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_one_cycle_model_saves_and_loads(tmp_path):
    X, y = _data()
    lr = OneCycleSchedule(16, 0.2)
    optimizer = ScheduledMomentumSGD(lr, momentum=OneCycleSchedule(16, 0.85, initial_rate=0.95,
                                                                   final_rate=0.95))
    model = _model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path / "one_cycle.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer) is ScheduledMomentumSGD
    assert isinstance(loaded.optimizer.momentum_schedule, OneCycleSchedule)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations.numpy()) == 8
    # Both continue from step 8 with the same rates, momenta and velocities.
    model.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_inputs_are_not_modified():
    steps = np.array([0.0, 10.0, 20.0])
    boundaries, values = [5, 15], [1.0, 0.5, 0.1]
    for f in (lambda: power_decay(steps, 0.1, 10), lambda: one_cycle(steps, 20, 0.1, 1, 0),
              lambda: piecewise_constant(steps, boundaries, values)):
        f()
    np.testing.assert_array_equal(steps, [0.0, 10.0, 20.0])
    assert boundaries == [5, 15] and values == [1.0, 0.5, 0.1]


@pytest.mark.parametrize("call,match", [
    (lambda: power_decay([1], 0.1, 0), "decay_steps"),
    (lambda: exponential_decay([1], -0.1, 10), "initial_rate"),
    (lambda: exponential_decay([-1], 0.1, 10), "non-negative"),
    (lambda: power_decay("abc", 0.1, 10), "step"),
    (lambda: piecewise_constant([1], [5, 10], [0.1, 0.01]), "one more value"),
    (lambda: piecewise_constant([1], [10, 5], [0.1, 0.01, 0.001]), "increasing"),
    (lambda: one_cycle([1], 100, 0.1, 1.0, 0.0, peak_fraction=0.7), "peak_fraction"),
    (lambda: OneCycleSchedule(0, 0.1), "total_steps"),
    (lambda: plateau_rates([1.0], 0.1, factor=1.5), "factor"),
    (lambda: ScheduledMomentumSGD(0.1, momentum="high"), "momentum"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_plot_schedules():
    ax = plot_schedules({"exponential": exponential_decay(np.arange(50), 0.1, 10),
                         "1cycle": one_cycle(np.arange(50), 50, 0.01, 0.1, 1e-4)})
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="empty"):
        plot_schedules({})
    matplotlib.pyplot.close("all")
