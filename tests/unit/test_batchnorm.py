"""The NumPy BN forward pass against Keras, parameter counts, the latency helper."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from course_utils import (
    BatchNormResult,
    ParameterCount,
    batch_norm_forward,
    batch_norm_per_batch,
    batches_containing,
    layer_norm_forward,
    measure_inference_latency,
    parameter_counts,
)


def _keras_bn(x, axis, rng, momentum=0.99, epsilon=1e-3):
    layer = keras.layers.BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon)
    layer.build(x.shape)
    n = x.shape[axis]
    params = [rng.normal(1, 0.3, n), rng.normal(0, 0.5, n), rng.normal(0, 1, n),
              rng.uniform(0.3, 3, n)]
    layer.set_weights([p.astype("float32") for p in params])
    return layer, params


@pytest.mark.parametrize("shape, axis", [((32, 6), -1), ((16, 4, 5), -1), ((16, 4, 5), 1),
                                         ((8, 3, 4, 5), 2), ((8, 3, 4, 5), -3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_training_and_inference_match_keras(shape, axis, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(3, 2, shape).astype("float32")
    layer, (gamma, beta, mean, var) = _keras_bn(x, axis, rng, momentum=0.9, epsilon=1e-2)
    ours = batch_norm_forward(x, gamma, beta, mean, var, training=True, axis=axis,
                              momentum=0.9, epsilon=1e-2)
    theirs = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(ours.outputs, theirs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean, layer.moving_mean.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_variance, layer.moving_variance.numpy(),
                               rtol=1e-5, atol=1e-5)
    # Inference with the updated moving averages.
    later = batch_norm_forward(x[::-1] * 0.5, gamma, beta, ours.moving_mean,
                               ours.moving_variance, training=False, axis=axis, epsilon=1e-2)
    theirs = keras.ops.convert_to_numpy(layer(x[::-1] * 0.5, training=False))
    np.testing.assert_allclose(later.outputs, theirs, rtol=1e-5, atol=1e-5)


def test_defaults_are_keras_defaults_and_the_variance_is_biased():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (5, 3))
    layer = keras.layers.BatchNormalization()
    expected = keras.ops.convert_to_numpy(layer(x.astype("float32"), training=True))
    result = batch_norm_forward(x, training=True)
    np.testing.assert_allclose(result.outputs, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(result.variance, x.var(axis=0, ddof=0), rtol=1e-12)
    # Known values: moving stats start at 0 and 1, momentum 0.99.
    np.testing.assert_allclose(result.moving_mean, 0.01 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.moving_variance, 0.99 + 0.01 * x.var(axis=0), rtol=1e-12)
    # Four steps by hand, epsilon 1e-3.
    by_hand = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3)
    np.testing.assert_allclose(result.outputs, by_hand, rtol=1e-12)


def test_training_output_is_standardized_and_inference_leaves_stats_alone():
    rng = np.random.default_rng(4)
    x = rng.normal(5, 10, (1000, 4))
    result = batch_norm_forward(x, training=True, epsilon=1e-8)
    np.testing.assert_allclose(result.outputs.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(result.outputs.std(axis=0), 1, rtol=1e-6)
    mean, var = np.arange(4.0), np.full(4, 2.0)
    inference = batch_norm_forward(x, moving_mean=mean, moving_variance=var, training=False)
    assert isinstance(inference, BatchNormResult)
    np.testing.assert_array_equal(inference.moving_mean, mean)
    np.testing.assert_array_equal(inference.moving_variance, var)
    np.testing.assert_allclose(inference.outputs, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-12)


def test_arguments_are_not_modified():
    rng = np.random.default_rng(5)
    x, gamma, beta = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(1, 2, 3)
    copies = [a.copy() for a in (x, gamma, beta, mean, var)]
    result = batch_norm_forward(x, gamma, beta, mean, var, training=True)
    result.moving_mean[:] = 0
    for original, copy in zip((x, gamma, beta, mean, var), copies):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("kwargs, match", [
    ({"x": np.zeros(3)}, r"rank >= 2.*shape=\(3,\)"),
    ({"x": np.zeros((0, 3))}, r"non-empty.*shape=\(0, 3\)"),
    ({"axis": 0}, r"not the batch axis.*axis=0"),
    ({"axis": 2}, r"axis=2"),
    ({"gamma": np.ones(4)}, r"`gamma` of shape \(3,\).*shape=\(4,\)"),
    ({"moving_variance": np.ones((3, 1))}, r"`moving_variance`.*shape=\(3, 1\)"),
    ({"momentum": 1.5}, r"momentum=1.5"),
    ({"epsilon": 0.0}, r"epsilon=0.0"),
])
def test_bad_input_raises_clear_error(kwargs, match):
    arguments = {"x": np.ones((4, 3)), "training": True, **kwargs}
    with pytest.raises(ValueError, match=match):
        batch_norm_forward(**arguments)


def _classic_model(scale=True, center=True):
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.BatchNormalization(scale=scale, center=center),
        keras.layers.Dense(300, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_parameter_counts_of_the_classic_model():
    model = _classic_model()
    counts = parameter_counts(model)
    assert all(isinstance(c, ParameterCount) for c in counts)
    assert [c.kind for c in counts] == ["BatchNormalization", "Dense"] * 3
    assert counts[0].total == 4 * 784 == 3136
    assert (counts[0].trainable, counts[0].non_trainable) == (2 * 784, 2 * 784)
    assert counts[0].variables == {"gamma": (784, True), "beta": (784, True),
                                   "moving_mean": (784, False),
                                   "moving_variance": (784, False)}
    assert counts[1].total == 784 * 300 + 300
    assert sum(c.total for c in counts) == model.count_params()
    assert sum(c.non_trainable for c in counts) == 2 * (784 + 300 + 100)


def test_parameter_counts_follow_config_and_freezing():
    model = _classic_model(scale=False)
    model.layers[2].trainable = False
    counts = parameter_counts(model)
    assert counts[0].variables == {"beta": (784, True), "moving_mean": (784, False),
                                   "moving_variance": (784, False)}
    assert (counts[2].trainable, counts[2].non_trainable) == (0, 1200)
    assert sum(c.total for c in counts) == model.count_params()


def test_parameter_counts_errors():
    with pytest.raises(TypeError, match="Received: ndarray"):
        parameter_counts(np.zeros(3))
    with pytest.raises(ValueError, match="unbuilt"):
        parameter_counts(keras.Sequential([keras.layers.Dense(3)]))


class _Sleep(keras.layers.Layer):
    """An identity layer that takes 20 ms per eager call: a known latency."""

    def call(self, x):
        time.sleep(0.02)
        return x


def test_measure_inference_latency():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    x = np.ones((3, 4), dtype="float32")
    before = [w.copy() for w in model.get_weights()]
    for method in ("call", "predict_on_batch"):
        seconds = measure_inference_latency(model, x, repeats=5, warmup=1, method=method)
        assert isinstance(seconds, float) and 0 < seconds < 5
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    sleeper = keras.Sequential([keras.Input(shape=(4,)), _Sleep(), keras.layers.Dense(2)])
    seconds = measure_inference_latency(sleeper, x, repeats=3, warmup=1, method="call")
    assert 0.02 <= seconds < 1.0, f"a 20 ms sleep inside the model measured {seconds} s"
    with pytest.raises(ValueError, match="method='predict'"):
        measure_inference_latency(model, x, method="predict")
    with pytest.raises(ValueError, match="repeats=0"):
        measure_inference_latency(model, x, repeats=0)


# Layer normalization, and BN's batch dependence (issue 19's cures for ch04).
@pytest.mark.parametrize("shape, axis", [((16, 7), -1), ((6, 4, 5), -1), ((6, 4, 5), 1)])
def test_layer_norm_matches_keras(shape, axis):
    rng = np.random.default_rng(4)
    x = rng.normal(2, 3, shape).astype("float32")
    n = shape[axis]
    gamma, beta = rng.normal(1, 0.3, n), rng.normal(0, 0.5, n)
    layer = keras.layers.LayerNormalization(axis=axis)
    layer.build(shape)
    layer.set_weights([gamma.astype("float32"), beta.astype("float32")])
    expected = keras.ops.convert_to_numpy(layer(x))
    ours = layer_norm_forward(x, gamma, beta, axis=axis, epsilon=layer.epsilon)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_layer_norm_known_values_and_independence_from_batch_mates():
    x = np.array([[1.0, 2.0, 3.0], [10.0, 0.0, -10.0]])
    # Known values: sample 0 has mean 2 and biased variance 2/3.
    expected_0 = (x[0] - 2.0) / np.sqrt(2.0 / 3.0 + 1e-3)
    out = layer_norm_forward(x)
    np.testing.assert_allclose(out[0], expected_0, rtol=1e-12)
    np.testing.assert_allclose(layer_norm_forward(x[:1]), out[:1], rtol=1e-12)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)


def test_layer_norm_errors_and_no_mutation():
    x = np.ones((3, 4))
    gamma = np.ones(4)
    layer_norm_forward(x, gamma)
    np.testing.assert_array_equal(gamma, np.ones(4))
    with pytest.raises(ValueError, match="batch axis"):
        layer_norm_forward(x, axis=0)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        layer_norm_forward(x, np.ones(3))
    with pytest.raises(ValueError, match="epsilon"):
        layer_norm_forward(x, epsilon=0.0)


def test_batches_containing_puts_the_probe_first_and_draws_from_the_pool():
    rng = np.random.default_rng(5)
    pool = rng.normal(size=(50, 3))
    probe = np.array([9.0, 9.0, 9.0])
    batches = batches_containing(probe, pool, batch_size=8, n_batches=20, seed=0)
    assert batches.shape == (20, 8, 3)
    np.testing.assert_array_equal(batches[:, 0], np.broadcast_to(probe, (20, 3)))
    for batch in batches:
        rows = [np.flatnonzero((pool == mate).all(axis=1)) for mate in batch[1:]]
        assert all(len(r) == 1 for r in rows)                 # every mate is from the pool
        assert len({int(r[0]) for r in rows}) == 7             # without replacement
    np.testing.assert_array_equal(batches, batches_containing(probe, pool, batch_size=8,
                                                              n_batches=20, seed=0))
    with pytest.raises(ValueError, match="batch_size"):
        batches_containing(probe, pool, batch_size=52, n_batches=2, seed=0)
    with pytest.raises(ValueError, match="probe of shape"):
        batches_containing(pool, pool, batch_size=2, n_batches=2, seed=0)


def test_batch_norm_per_batch_matches_the_forward_pass_and_keras():
    rng = np.random.default_rng(6)
    batches = rng.normal(1, 2, (5, 16, 4))
    ours = batch_norm_per_batch(batches)
    for batch, out in zip(batches, ours):
        np.testing.assert_allclose(out, batch_norm_forward(batch, training=True).outputs,
                                   rtol=1e-12, atol=1e-12)
    # Keras: one layer call with the batches side by side as features.
    side_by_side = batches.transpose(1, 0, 2).reshape(16, -1).astype("float32")
    layer = keras.layers.BatchNormalization()
    theirs = keras.ops.convert_to_numpy(layer(side_by_side, training=True))
    np.testing.assert_allclose(ours, theirs.reshape(16, 5, 4).transpose(1, 0, 2),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="n_batches, batch_size, features"):
        batch_norm_per_batch(batches[0])


def test_a_batch_of_one_gives_beta_for_every_input():
    layer = keras.layers.BatchNormalization()
    layer.build((None, 3))
    beta = np.array([0.5, -1.0, 2.0], dtype="float32")
    layer.set_weights([np.full(3, 2.0, "float32"), beta, np.zeros(3, "float32"),
                       np.ones(3, "float32")])
    for x in np.random.default_rng(7).normal(0, 5, (4, 1, 3)).astype("float32"):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=True))[0],
                                      beta)
        np.testing.assert_array_equal(batch_norm_per_batch(x[None])[0, 0], np.zeros(3))
