"""Fans and variance rules against Keras, and the propagation experiment against theory.

Sampling tolerance: the sample variance of ``n`` independent draws from a
distribution with variance ``v`` and kurtosis ``k`` has standard error
``v * sqrt((k - 1) / n)``. The tests accept 6 standard errors (a false alarm
about once in 5e8 runs, for any seed).
"""

from __future__ import annotations

import math
import warnings

import keras
import matplotlib
import numpy as np
import pytest
from keras.src.initializers.random_initializers import compute_fans

from course_utils import (
    ACTIVATION_SCHEMES,
    INIT_SCHEMES,
    PROPAGATION_ACTIVATIONS,
    PROPAGATION_DERIVATIVES,
    TRUNCATED_NORMAL_STD,
    Fans,
    distinct_units,
    kernel_fans,
    plot_propagation,
    propagate_signal,
    propagate_std,
    scheme_for_activation,
    scheme_std,
    scheme_variance,
    truncated_normal_stddev,
    uniform_limit,
    variance_scaling,
)

matplotlib.use("Agg")

SHAPES = [(784, 300), (300, 10), (7, 5), (3, 64, 32), (3, 3, 64, 128), (5, 5, 1, 32),
          (3, 3, 3, 16, 8), (1, 1, 256, 64)]
KERAS_NAMES = {  # name -> (scheme, distribution)
    "glorot_uniform": ("glorot", "uniform"), "glorot_normal": ("glorot", "truncated_normal"),
    "he_uniform": ("he", "uniform"), "he_normal": ("he", "truncated_normal"),
    "lecun_uniform": ("lecun", "uniform"), "lecun_normal": ("lecun", "truncated_normal"),
}


def _truncated_moments(b=2.0):
    """E[Z^2] and E[Z^4] of N(0, 1) restricted to [-b, b] (independent closed form)."""
    phi = math.exp(-b * b / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(b / math.sqrt(2))
    return 1 - 2 * b * phi / mass, 3 - 2 * (b ** 3 + 3 * b) * phi / mass


def _kurtosis(distribution):
    if distribution == "uniform":
        return 1.8
    if distribution == "untruncated_normal":
        return 3.0
    m2, m4 = _truncated_moments()
    return m4 / m2 ** 2


# --- fans ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_keras_compute_fans(shape):
    fans = kernel_fans(shape)
    assert isinstance(fans, Fans)
    assert (fans.fan_in, fans.fan_out) == compute_fans(shape)
    assert fans.receptive_field == int(np.prod(shape[:-2]))
    assert fans.fan_avg == (fans.fan_in + fans.fan_out) / 2
    assert all(type(v) is int for v in fans)


def test_fans_of_real_layers_include_the_receptive_field():
    dense = keras.layers.Dense(30)
    dense.build((None, 20))
    conv = keras.layers.Conv2D(8, kernel_size=(3, 5))
    conv.build((None, 28, 28, 4))
    conv1d = keras.layers.Conv1D(6, kernel_size=7)
    conv1d.build((None, 50, 2))
    assert kernel_fans(dense.kernel.shape) == (20, 30, 1)
    assert kernel_fans(conv.kernel.shape) == (3 * 5 * 4, 3 * 5 * 8, 15)
    assert kernel_fans(conv1d.kernel.shape) == (7 * 2, 7 * 6, 7)


def test_keras_uses_the_receptive_field_when_sampling():
    # A uniform fan_in initializer's limit is sqrt(3 / fan_in): its samples
    # reach it only if fan_in counts the 3 x 3 receptive field.
    shape = (3, 3, 32, 64)
    init = keras.initializers.VarianceScaling(1.0, "fan_in", "uniform", seed=1)
    w = np.abs(np.asarray(init(shape)))
    limit = math.sqrt(3.0 / kernel_fans(shape).fan_in)
    assert w.max() <= limit * (1 + 1e-6)
    assert w.max() > 0.999 * limit


@pytest.mark.parametrize("bad", [(10,), (), (0, 5), (3, -1), (3.0, 4), (True, 3), "ab",
                                 None, 7, [[3, 3]]])
def test_fans_reject_bad_shapes(bad):
    with pytest.raises(ValueError, match="Expected a kernel shape.*Received: shape="):
        kernel_fans(bad)


def test_fans_accept_numpy_ints_and_lists_without_modifying_them():
    shape = [np.int64(3), np.int64(3), 4, 8]
    assert kernel_fans(shape) == (36, 72, 9)
    assert shape == [3, 3, 4, 8]


# --- variance rules --------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(784, 300), (3, 3, 64, 128)])
def test_variance_rules_known_values(shape):
    fan_in, fan_out = compute_fans(shape)
    assert scheme_variance("glorot", shape) == pytest.approx(2 / (fan_in + fan_out), rel=1e-15)
    assert scheme_variance("he", shape) == pytest.approx(2 / fan_in, rel=1e-15)
    assert scheme_variance("lecun", shape) == pytest.approx(1 / fan_in, rel=1e-15)
    assert uniform_limit("glorot", shape) == pytest.approx(math.sqrt(6 / (fan_in + fan_out)))
    assert uniform_limit("he", shape) == pytest.approx(math.sqrt(6 / fan_in))
    assert scheme_std("he", shape) == pytest.approx(math.sqrt(2 / fan_in))
    assert truncated_normal_stddev("lecun", shape) == pytest.approx(
        math.sqrt(1 / fan_in) / 0.87962566103423978, rel=1e-14)


@pytest.mark.parametrize("name", sorted(KERAS_NAMES))
def test_keras_names_map_to_their_scheme(name):
    scheme, _ = KERAS_NAMES[name]
    for spelling in (name, name.upper(), name.replace("_", "")):
        assert scheme_variance(spelling, (20, 30)) == scheme_variance(scheme, (20, 30))


def test_truncated_normal_constant_matches_keras_and_monte_carlo():
    assert TRUNCATED_NORMAL_STD == pytest.approx(0.87962566103423978, rel=1e-15)
    z = np.random.default_rng(0).standard_normal(4_000_000)
    z = z[np.abs(z) <= 2]
    m2, m4 = _truncated_moments()
    tolerance = 6 * m2 * math.sqrt((m4 / m2 ** 2 - 1) / z.size)
    assert abs(z.var() - TRUNCATED_NORMAL_STD ** 2) < tolerance


@pytest.mark.parametrize("name", sorted(KERAS_NAMES))
@pytest.mark.parametrize("shape", [(600, 400), (3, 3, 128, 256)])
def test_sampled_keras_initializers_have_the_rule_variance(name, shape):
    scheme, distribution = KERAS_NAMES[name]
    init = type(keras.initializers.get(name))(seed=7)  # the class Keras maps the name to
    scale, mode = INIT_SCHEMES[scheme]
    assert isinstance(init, keras.initializers.VarianceScaling)
    assert (init.scale, init.mode, init.distribution) == (scale, mode, distribution)
    w = np.asarray(init(shape), dtype=np.float64).ravel()
    variance = scheme_variance(scheme, shape)
    tolerance = 6 * variance * math.sqrt((_kurtosis(distribution) - 1) / w.size)
    assert abs(w.var() - variance) < tolerance, (w.var(), variance, tolerance)
    assert abs(w.mean()) < 6 * math.sqrt(variance / w.size)
    bound = (uniform_limit(scheme, shape) if distribution == "uniform"
             else 2 * truncated_normal_stddev(scheme, shape))
    assert np.abs(w).max() <= bound * (1 + 1e-6)  # never beyond the bound...
    assert np.abs(w).max() > 0.99 * bound  # ...and the samples do reach it


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("scheme", sorted(INIT_SCHEMES))
def test_variance_scaling_equivalent_samples_the_rule(scheme, distribution):
    shape = (500, 700)
    init = variance_scaling(scheme, distribution, seed=3)
    assert isinstance(init, keras.initializers.VarianceScaling)
    assert init.get_config()["distribution"] == distribution
    w = np.asarray(init(shape), dtype=np.float64)
    variance = scheme_variance(scheme, shape)
    tolerance = 6 * variance * math.sqrt((_kurtosis(distribution) - 1) / w.size)
    assert abs(w.var() - variance) < tolerance


def test_untruncated_normal_goes_beyond_two_std():
    w = np.asarray(variance_scaling("he", "untruncated_normal", seed=0)((400, 400)))
    assert np.abs(w).max() > 3 * scheme_std("he", (400, 400))


@pytest.mark.parametrize("bad", ["xavier", "", None, 2, "he_normall"])
def test_unknown_schemes_are_rejected(bad):
    with pytest.raises(ValueError, match="Expected an initialization scheme.*Received"):
        scheme_variance(bad, (3, 4))
    with pytest.raises(ValueError, match="Received: scheme="):
        variance_scaling(bad)


def test_unknown_distribution_is_rejected():
    with pytest.raises(ValueError, match="Received: distribution='normal_ish'"):
        variance_scaling("he", "normal_ish")


# --- activations -> schemes ------------------------------------------------------------

@pytest.mark.parametrize("activation, scheme", [
    (None, "glorot"), ("linear", "glorot"), ("tanh", "glorot"), ("sigmoid", "glorot"),
    ("softmax", "glorot"), ("relu", "he"), ("leaky_relu", "he"), ("elu", "he"),
    ("gelu", "he"), ("swish", "he"), ("silu", "he"), ("mish", "he"), ("SELU", "lecun"),
    ("selu", "lecun")])
def test_scheme_for_activation(activation, scheme):
    assert scheme_for_activation(activation) == scheme


def test_every_listed_activation_has_one_scheme():
    listed = [a for acts in ACTIVATION_SCHEMES.values() for a in acts]
    assert len(listed) == len(set(listed))
    assert set(ACTIVATION_SCHEMES) == set(INIT_SCHEMES)


@pytest.mark.parametrize("bad", ["relu2", "", 3, keras.activations.relu])
def test_unknown_activation_is_rejected(bad):
    with pytest.raises(ValueError, match="Expected an activation name.*Received"):
        scheme_for_activation(bad)


# --- symmetry --------------------------------------------------------------------------

def test_distinct_units():
    rng = np.random.default_rng(0)
    assert distinct_units(np.full((5, 4), 0.3)) == 1
    assert distinct_units(np.zeros((5, 4))) == 1
    assert distinct_units(rng.normal(size=(5, 4))) == 4
    kernel = rng.normal(size=(6, 3))
    kernel = np.concatenate([kernel, kernel[:, :2] + 1e-9], axis=1)  # two near-copies
    before = kernel.copy()
    assert distinct_units(kernel) == 3
    assert distinct_units(kernel, atol=0.0) == 5
    assert np.array_equal(kernel, before)
    layer = keras.layers.Dense(4, kernel_initializer="ones")
    layer.build((None, 3))
    assert distinct_units(layer.kernel) == 1


@pytest.mark.parametrize("bad", [np.ones(3), np.ones((2, 2, 2)), np.ones((0, 3))])
def test_distinct_units_rejects_bad_kernels(bad):
    with pytest.raises(ValueError, match="Expected a non-empty 2D Dense kernel"):
        distinct_units(bad)
    with pytest.raises(ValueError, match="Received: atol=-1"):
        distinct_units(np.ones((2, 2)), atol=-1)


# --- propagation -----------------------------------------------------------------------

def _gaussian_std(f, variance):
    """Std of f(z), z ~ N(0, variance), by the trapezoid rule on +-12 std (kinks are fine)."""
    z = np.linspace(-12, 12, 240_001) * math.sqrt(variance)
    density = np.exp(-z ** 2 / (2 * variance)) / math.sqrt(2 * math.pi * variance)
    values = f(z)
    mean = np.trapezoid(values * density, z)
    return math.sqrt(np.trapezoid(values ** 2 * density, z) - mean ** 2)


@pytest.mark.parametrize("activation, init", [("relu", "he"), ("tanh", "glorot"),
                                              ("selu", "lecun"), ("elu", "he"),
                                              ("sigmoid", "glorot"), ("tanh", 0.1)])
def test_first_layer_std_matches_gaussian_theory(activation, init):
    width = 400
    stds = propagate_std(activation, init, depth=3, width=width, n_samples=2000, seed=5)
    assert stds.shape == (3,) and stds.dtype == np.float64
    # Inputs N(0, 1) of size width: pre-activations have variance width * Var(W).
    w_var = init ** 2 if isinstance(init, float) else scheme_variance(init, (width, width))
    expected = _gaussian_std(PROPAGATION_ACTIVATIONS[activation], width * w_var)
    assert stds[0] == pytest.approx(expected, rel=0.03)
    if activation == "relu":
        assert expected == pytest.approx(math.sqrt(1 - 1 / math.pi), rel=1e-7)


def test_relu_with_glorot_halves_the_variance_each_layer():
    stds = propagate_std("relu", "glorot", depth=30, width=400, n_samples=500, seed=1)
    per_layer = np.exp(np.mean(np.diff(np.log(stds))))
    assert per_layer == pytest.approx(math.sqrt(0.5), abs=0.03)


def test_selu_with_lecun_self_normalizes():
    stds = propagate_std("selu", "lecun", depth=40, width=400, n_samples=500, seed=2)
    assert np.all((stds > 0.8) & (stds < 1.25))


def test_propagation_is_reproducible_and_overflows_quietly():
    a = propagate_std("tanh", "he", depth=5, width=50, n_samples=20, seed=4)
    b = propagate_std("tanh", "he", depth=5, width=50, n_samples=20, seed=4)
    c = propagate_std("tanh", "he", depth=5, width=50, n_samples=20, seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exploded = propagate_std("linear", 1e6, depth=40, width=100, n_samples=10)
    assert np.isinf(exploded[-1]) and np.all(np.isfinite(exploded[:5]))


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="gelu2", init="he"), "Received: activation='gelu2'"),
    (dict(activation="relu", init="xavier"), "Received: scheme='xavier'"),
    (dict(activation="relu", init=-1.0), "Received: init=-1.0"),
    (dict(activation="relu", init=True), "Received: init=True"),
    (dict(activation="relu", init="he", depth=0), "Received: depth=0"),
    (dict(activation="relu", init="he", width=2.5), "Received: width=2.5"),
])
def test_propagation_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        propagate_std(**kwargs)


def test_plot_propagation():
    stds = {"a": np.array([1.0, 0.5, 0.25]), "b": np.array([1.0, np.inf, np.inf])}
    ax = plot_propagation(stds, title="t")
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), stds["a"])
    matplotlib.pyplot.close("all")


_TF_ACTIVATIONS = {"linear": "linear", "tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu",
                   "elu": "elu", "selu": "selu",
                   "leaky_relu": lambda z: keras.activations.leaky_relu(z, negative_slope=0.2)}


@pytest.mark.parametrize("activation", sorted(PROPAGATION_ACTIVATIONS))
def test_backward_pass_matches_tensorflow_autodiff(activation):
    import tensorflow as tf

    assert set(PROPAGATION_DERIVATIVES) == set(PROPAGATION_ACTIVATIONS)
    depth, width, n, seed, std = 4, 6, 5, 3, 0.7
    result = propagate_signal(activation, std, depth=depth, width=width, n_samples=n, seed=seed)
    np.testing.assert_array_equal(
        result.forward, propagate_std(activation, std, depth=depth, width=width, n_samples=n,
                                      seed=seed))
    # The same draws, in the documented order: inputs, the kernels, the top gradient.
    rng = np.random.default_rng(seed)
    a = tf.constant(rng.standard_normal((n, width)))
    kernels = [tf.constant(rng.normal(0.0, std, size=(width, width))) for _ in range(depth)]
    g = tf.constant(rng.standard_normal((n, width)))
    f = keras.activations.get(_TF_ACTIVATIONS[activation]) \
        if isinstance(_TF_ACTIVATIONS[activation], str) else _TF_ACTIVATIONS[activation]
    with tf.GradientTape() as tape:
        zs = []
        for W in kernels:
            z = a @ W
            tape.watch(z)
            zs.append(z)
            a = f(z)
        loss = tf.reduce_sum(a * g)  # dLoss/d(last activations) = g
    deltas = tape.gradient(loss, zs)
    expected = [float(np.std(d.numpy())) for d in deltas]
    np.testing.assert_allclose(result.backward, expected, rtol=1e-6)


def test_backward_pass_keeps_or_halves_the_gradient_as_theory_says():
    # ReLU: He keeps the gradient's second moment (factor 2 * 1/2 per layer);
    # Glorot halves it, a factor sqrt(1/2) on the std per layer.
    he = propagate_signal("relu", "he", depth=30, width=400, n_samples=500, seed=1).backward
    glorot = propagate_signal("relu", "glorot", depth=30, width=400, n_samples=500,
                              seed=1).backward
    assert abs(math.log10(he[0] / he[-1])) < 0.5
    per_layer = np.exp(np.mean(np.diff(np.log(glorot[::-1]))))
    assert per_layer == pytest.approx(math.sqrt(0.5), abs=0.03)


def test_backward_pass_overflows_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = propagate_signal("linear", 1e6, depth=40, width=100, n_samples=10)
    assert np.isinf(result.backward[0]) and np.all(np.isfinite(result.backward[-5:]))
