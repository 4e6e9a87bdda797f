"""Activation functions: NumPy references vs Keras, finite differences and the papers.

Tolerances: float64 NumPy vs float32 Keras agree to rtol 1e-5 / atol 1e-6
(float32 has about 7 significant digits); analytic derivatives vs central
differences with h = 1e-5 agree to atol 1e-7 away from kinks (the error is
O(h^2) plus rounding of order 1e-16 / h); the SELU constants solved from the
fixed-point conditions agree with the published ones to rtol 1e-12.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import (
    REFERENCE_ACTIVATIONS,
    SELU_ALPHA,
    SELU_SCALE,
    EpochTimer,
    Mish,
    RReLU,
    Swish,
    dead_unit_fraction,
    derivative_jump,
    elu,
    elu_derivative,
    gaussian_expectation,
    gelu,
    gelu_derivative,
    is_monotonic,
    leaky_relu,
    leaky_relu_derivative,
    minimize_scalar,
    mish,
    numerical_derivative,
    relu,
    rrelu,
    selu,
    selu_moments,
    solve_selu_parameters,
    swish,
    swish_derivative,
)

# Grid without the kink at 0 (finite differences straddling a kink are wrong
# by construction) and with large |z| to exercise overflow handling.
Z = np.concatenate([np.linspace(-8, -1e-3, 400), np.linspace(1e-3, 8, 400),
                    [-50.0, -20.0, 20.0, 50.0]])


def _keras(fn, z, **kwargs):
    return keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(z, "float32"), **kwargs))


KERAS_EQUIVALENTS = [
    ("relu", lambda z: _keras(keras.activations.relu, z)),
    ("leaky_relu", lambda z: _keras(keras.activations.leaky_relu, z, negative_slope=0.01)),
    ("elu", lambda z: _keras(keras.activations.elu, z)),
    ("selu", lambda z: _keras(keras.activations.selu, z)),
    ("gelu", lambda z: _keras(keras.activations.gelu, z, approximate=False)),
    ("gelu_tanh", lambda z: _keras(keras.activations.gelu, z, approximate=True)),
    ("swish", lambda z: _keras(keras.activations.silu, z)),
    ("mish", lambda z: _keras(keras.activations.mish, z)),
]


@pytest.mark.parametrize("name,keras_fn", KERAS_EQUIVALENTS, ids=[k for k, _ in KERAS_EQUIVALENTS])
def test_reference_matches_keras(name, keras_fn):
    f, _ = REFERENCE_ACTIVATIONS[name]
    np.testing.assert_allclose(f(Z), keras_fn(Z), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(REFERENCE_ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    f, df = REFERENCE_ACTIVATIONS[name]
    np.testing.assert_allclose(df(Z), numerical_derivative(f, Z, h=1e-5), atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "gelu", "swish", "mish"])
def test_derivative_matches_keras_autodiff(name):
    import tensorflow as tf
    f_keras = {"relu": keras.activations.relu, "elu": keras.activations.elu,
               "selu": keras.activations.selu, "mish": keras.activations.mish,
               "swish": keras.activations.silu,
               "gelu": lambda z: keras.activations.gelu(z, approximate=False),
               "leaky_relu": lambda z: keras.activations.leaky_relu(z, negative_slope=0.01)}
    # float64 for the tape; rtol 1e-5 because TF's float64 erf (inside GELU) is
    # accurate to about 1e-6 relative, not to machine precision.
    z = tf.constant(Z[:-4], dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = f_keras[name](z)
    grad = tape.gradient(y, z).numpy()
    np.testing.assert_allclose(REFERENCE_ACTIVATIONS[name][1](Z[:-4]), grad, rtol=1e-5,
                               atol=1e-9)


def test_known_values():
    # Hand-computed: elu(-1) = e^-1 - 1; selu(1) = scale; gelu(1) = Phi(1) = 0.8413447...
    np.testing.assert_allclose(elu(-1.0), np.exp(-1) - 1, rtol=1e-15)
    np.testing.assert_allclose(elu(-1.0, alpha=2.0), 2 * (np.exp(-1) - 1), rtol=1e-15)
    np.testing.assert_allclose(selu(1.0), SELU_SCALE, rtol=1e-15)
    np.testing.assert_allclose(gelu(1.0), 0.8413447460685429, rtol=1e-12)
    np.testing.assert_allclose(swish(2.0, beta=0.0), 1.0, rtol=1e-15)  # beta 0: z / 2
    np.testing.assert_allclose(gelu(1.0, "sigmoid"), swish(1.0, beta=1.702), rtol=1e-15)
    np.testing.assert_allclose(leaky_relu([-2.0, 3.0], alpha=0.2), [-0.4, 3.0])
    assert relu(-1e300) == 0 and np.isfinite(mish(-1e3)) and np.isfinite(swish(-1e3))


def test_derivatives_at_kink_are_left_derivatives():
    assert leaky_relu_derivative(0.0, alpha=0.2) == 0.2
    assert elu_derivative(0.0, alpha=0.5) == 0.5


def test_prelu_style_per_unit_slopes_broadcast():
    z = np.array([[-1.0, -2.0, 3.0]])
    np.testing.assert_allclose(leaky_relu(z, alpha=np.array([0.1, 0.2, 0.3])),
                               [[-0.1, -0.4, 3.0]])


def test_rrelu_training_slopes_in_range_and_inference_uses_mean():
    z = -np.ones(10_000)
    out = rrelu(z, 0.1, 0.3, training=True, rng=np.random.default_rng(0))
    slopes = -out
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005  # 5 standard errors of a U(0.1, 0.3) mean
    np.testing.assert_allclose(rrelu(z, 0.1, 0.3), -0.2 * np.ones(10_000))
    np.testing.assert_allclose(rrelu([2.0], training=True), [2.0])


def test_gelu_minimum_and_monotonicity():
    z_min, f_min = minimize_scalar(gelu, -3.0, 0.0)
    # At the minimum, d/dz [z Phi(z)] = Phi(z) + z phi(z) = 0.
    assert abs(gelu_derivative(z_min)) < 1e-8
    np.testing.assert_allclose([z_min, f_min], [-0.7518, -0.1700], atol=1e-4)
    non_monotonic = {name for name, (f, _) in REFERENCE_ACTIVATIONS.items()
                     if not is_monotonic(f)}
    assert non_monotonic == {"gelu", "gelu_tanh", "gelu_sigmoid", "swish", "mish"}


def test_derivative_jump_detects_kinks():
    assert derivative_jump(REFERENCE_ACTIVATIONS["relu"][0]) == pytest.approx(1.0, abs=1e-8)
    assert derivative_jump(lambda z: leaky_relu(z, 0.2)) == pytest.approx(0.8, abs=1e-8)
    # ELU with alpha = 1 has a continuous slope but a jump of -1 in curvature.
    assert abs(derivative_jump(elu)) < 1e-8
    assert derivative_jump(elu, order=2) == pytest.approx(-1.0, abs=1e-5)
    assert derivative_jump(selu) == pytest.approx(SELU_SCALE * (1 - SELU_ALPHA), abs=1e-8)
    for smooth in (gelu, swish, mish):
        assert abs(derivative_jump(smooth)) < 1e-8
        assert abs(derivative_jump(smooth, order=2)) < 1e-6


def test_gaussian_expectation_known_moments():
    np.testing.assert_allclose(gaussian_expectation(lambda z: z**2, 1.0, 2.0), 5.0, rtol=1e-12)
    np.testing.assert_allclose(gaussian_expectation(relu), 1 / np.sqrt(2 * np.pi), rtol=1e-12)


def test_selu_constants_from_fixed_point_conditions():
    alpha, scale = solve_selu_parameters()
    np.testing.assert_allclose([alpha, scale], [SELU_ALPHA, SELU_SCALE], rtol=1e-12)
    mean, var = selu_moments(alpha, scale)
    assert abs(mean) < 1e-12 and abs(var - 1) < 1e-12
    mean, var = selu_moments(1.0, 1.0)  # plain ELU is not self-normalizing
    assert mean > 0.1 and var < 0.9


@pytest.mark.parametrize("bad", ["1.0", None, {"a": 1}])
def test_bad_inputs_raise_clear_errors(bad):
    with pytest.raises(TypeError, match="Expected `z` to be a number"):
        relu(bad)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="alpha"):
        elu([1.0], alpha=-1)
    with pytest.raises(ValueError, match="approximation"):
        gelu([1.0], approximation="erf")
    with pytest.raises(ValueError, match="lower <= upper"):
        rrelu([1.0], 0.5, 0.1)
    with pytest.raises(ValueError, match="low < high"):
        minimize_scalar(gelu, 1.0, -1.0)
    with pytest.raises(ValueError, match="order"):
        derivative_jump(relu, order=3)


def test_inputs_are_not_modified():
    z = np.linspace(-3, 3, 11)
    before = z.copy()
    for f, df in REFERENCE_ACTIVATIONS.values():
        f(z), df(z)
    rrelu(z, training=True)
    np.testing.assert_array_equal(z, before)


# --------------------------------------------------------------------------
# Keras layers


def test_mish_layer_matches_reference_and_keras():
    out = keras.ops.convert_to_numpy(Mish()(Z.astype("float32")))
    np.testing.assert_allclose(out, mish(Z), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, _keras(keras.activations.mish, Z), rtol=1e-6, atol=1e-7)


def test_swish_layer_beta_is_learnable():
    layer = Swish(beta=1.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(Z.astype("float32"))),
                               swish(Z, 1.5), rtol=1e-5, atol=1e-6)
    assert [w.name for w in layer.trainable_weights] == ["beta"]
    frozen = Swish(trainable_beta=False)
    frozen.build((None, 3))
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 1

    # d output / d beta = z^2 s (1 - s): one step of gradient descent changes beta.
    import tensorflow as tf
    z = tf.constant([[-1.0, 0.5, 2.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(z))
    grad = float(tape.gradient(y, layer.beta))
    s = 1 / (1 + np.exp(-1.5 * z.numpy()))
    np.testing.assert_allclose(grad, np.sum(z.numpy() ** 2 * s * (1 - s)), rtol=1e-5)


def test_swish_with_beta_one_is_silu():
    out = keras.ops.convert_to_numpy(Swish(beta=1.0)(Z.astype("float32")))
    np.testing.assert_allclose(out, _keras(keras.activations.silu, Z), rtol=1e-6, atol=1e-7)


def test_swish_derivative_in_beta_matches_finite_differences():
    # The beta-derivative the layer learns through, checked against NumPy.
    beta, h = 1.3, 1e-6
    numeric = (swish(Z, beta + h) - swish(Z, beta - h)) / (2 * h)
    s = 1 / (1 + np.exp(-beta * Z))
    np.testing.assert_allclose(numeric, Z**2 * s * (1 - s), atol=1e-7)
    np.testing.assert_allclose(swish_derivative(Z, beta),
                               numerical_derivative(lambda z: swish(z, beta), Z), atol=1e-7)


def test_rrelu_layer_training_vs_inference():
    layer = RReLU(lower=0.1, upper=0.3, seed=1)
    z = -np.ones((200, 50), dtype="float32")
    inference = keras.ops.convert_to_numpy(layer(z))
    np.testing.assert_allclose(inference, -0.2, rtol=1e-6)
    slopes = -keras.ops.convert_to_numpy(layer(z, training=True))
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert slopes.std() > 0.05  # U(0.1, 0.3) has std 0.0577
    assert abs(slopes.mean() - 0.2) < 0.003  # 10,000 draws: standard error 0.0006
    again = -keras.ops.convert_to_numpy(layer(z, training=True))
    assert not np.allclose(slopes, again)  # fresh slopes at every call
    positive = np.abs(z)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(positive, training=True)),
                                  positive)
    assert layer.mean_slope == pytest.approx(0.2)


@pytest.mark.parametrize("kwargs", [{"lower": 0.5, "upper": 0.1}, {"lower": -0.1},
                                    {"upper": "0.3"}])
def test_rrelu_rejects_bad_ranges(kwargs):
    with pytest.raises(ValueError, match="lower <= upper"):
        RReLU(**kwargs)


def test_swish_rejects_bad_beta():
    with pytest.raises(ValueError, match="finite number"):
        Swish(beta=float("nan"))


def test_layers_save_and_load_in_keras_format(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(6,)),
        keras.layers.Dense(8), Mish(),
        keras.layers.Dense(8), Swish(beta=0.7),
        keras.layers.Dense(8), RReLU(0.05, 0.25, seed=3),
        keras.layers.Dense(2),
    ])
    model.get_layer(index=3).beta.assign(1.9)  # as if training had moved it
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    X = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6, atol=1e-6)
    kinds = [type(layer).__name__ for layer in loaded.layers]
    assert kinds[1::2] == ["Mish", "Swish", "RReLU"]
    assert float(loaded.layers[3].beta) == pytest.approx(1.9)
    assert loaded.layers[5].get_config()["lower"] == 0.05
    assert loaded.layers[5].get_config()["upper"] == 0.25


def _model_with_known_dead_units(functional):
    # Hidden layer of 4 units: units 0 and 2 have weights and bias that make
    # z <= 0 for any input in [0, 1]^3; units 1 and 3 fire on some inputs.
    W = np.array([[-1.0, 1.0, -0.5, 0.0], [-1.0, 0.0, -0.5, 1.0], [-1.0, 0.0, -0.5, 0.0]])
    b = np.array([-0.1, 0.0, 0.0, -0.5])
    if functional:
        inputs = keras.Input(shape=(3,))
        h = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
        outputs = keras.layers.Dense(2, name="out")(h)
        model = keras.Model(inputs, outputs)
    else:
        model = keras.Sequential([keras.Input(shape=(3,)),
                                  keras.layers.Dense(4, name="hidden"),
                                  keras.layers.LeakyReLU(negative_slope=0.2),
                                  keras.layers.Dense(2, name="out")])
    model.get_layer("hidden").set_weights([W.astype("float32"), b.astype("float32")])
    return model


@pytest.mark.parametrize("functional", [False, True])
def test_dead_unit_fraction_matches_numpy(functional):
    model = _model_with_known_dead_units(functional)
    X = np.random.default_rng(0).uniform(size=(500, 3))
    X_before = X.copy()
    result = dead_unit_fraction(model, X, batch_size=64)
    assert list(result) == ["hidden"]
    W, b = model.get_layer("hidden").get_weights()
    expected = np.mean(np.all(X @ W + b <= 0, axis=0))
    assert expected == 0.5
    assert result["hidden"] == expected
    np.testing.assert_array_equal(X, X_before)


def test_dead_unit_fraction_errors():
    model = _model_with_known_dead_units(False)
    with pytest.raises(ValueError, match="Unknown layer names"):
        dead_unit_fraction(model, np.zeros((4, 3)), layer_names=["nope"])
    with pytest.raises(ValueError, match="Expected Dense layers"):
        dead_unit_fraction(model, np.zeros((4, 3)), layer_names=[model.layers[1].name])
    with pytest.raises(ValueError, match="non-empty batch"):
        dead_unit_fraction(model, np.zeros((0, 3)))
    only_output = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="at least one hidden Dense layer"):
        dead_unit_fraction(only_output, np.zeros((4, 3)))


def test_epoch_timer_records_each_epoch():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    timer = EpochTimer()
    with pytest.raises(ValueError, match="No epoch"):
        timer.steady_seconds  # noqa: B018
    model.fit(np.zeros((8, 3)), np.zeros(8), epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3 and all(s > 0 for s in timer.seconds)
    assert timer.steady_seconds == pytest.approx(np.median(timer.seconds[1:]))


def test_rrelu_trains_inside_fit_and_predicts_deterministically():
    # fit() runs the layer in a compiled graph with an unknown batch size.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, 64)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8),
                              RReLU(seed=0), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(X, y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    np.testing.assert_array_equal(model.predict(X, verbose=0), model.predict(X, verbose=0))
