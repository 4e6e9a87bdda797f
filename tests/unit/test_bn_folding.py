"""Folding BN into Dense layers: the formulas, whole models, and the layouts it refuses."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import (
    BatchNormFoldingError,
    batch_norm_forward,
    bn_affine,
    fold_batch_norm,
    fold_into_next,
    fold_into_previous,
)

layers = keras.layers
_numpy = keras.ops.convert_to_numpy


def _bn_params(rng, n):
    return (rng.normal(1, 0.3, n), rng.normal(0, 0.5, n), rng.normal(0, 1, n),
            rng.uniform(0.2, 3, n))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fold_into_previous_equals_dense_then_bn(seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.normal(size=(20, 5)), rng.normal(size=(5, 4)), rng.normal(size=4)
    gamma, beta, mean, var = _bn_params(rng, 4)
    reference = batch_norm_forward(x @ W + b, gamma, beta, mean, var, training=False,
                                   epsilon=0.01).outputs
    W2, b2 = fold_into_previous(W, b, gamma, beta, mean, var, epsilon=0.01)
    np.testing.assert_allclose(x @ W2 + b2, reference, rtol=1e-10, atol=1e-12)
    # Without a bias (use_bias=False before BN).
    W3, b3 = fold_into_previous(W, None, gamma, beta, mean, var, epsilon=0.01)
    reference = batch_norm_forward(x @ W, gamma, beta, mean, var, training=False,
                                   epsilon=0.01).outputs
    np.testing.assert_allclose(x @ W3 + b3, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fold_into_next_equals_bn_then_dense(seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.normal(size=(20, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    gamma, beta, mean, var = _bn_params(rng, 5)
    reference = batch_norm_forward(x, gamma, beta, mean, var, training=False).outputs @ W + b
    W2, b2 = fold_into_next(gamma, beta, mean, var, W, b)
    np.testing.assert_allclose(x @ W2 + b2, reference, rtol=1e-10, atol=1e-12)


def test_bn_affine_known_values_and_errors():
    scale, shift = bn_affine([2.0], [1.0], [3.0], [3.0], epsilon=1.0)
    np.testing.assert_allclose(scale, [1.0])   # 2 / sqrt(3 + 1)
    np.testing.assert_allclose(shift, [-2.0])  # 1 - 1 * 3
    with pytest.raises(ValueError, match=r"`beta` of shape \(2,\).*shape=\(3,\)"):
        bn_affine(np.ones(2), np.ones(3), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="variance \\+ epsilon > 0"):
        bn_affine([1.0], [0.0], [0.0], [-1.0])
    with pytest.raises(ValueError, match=r"shape \(4,\), one per unit.*shape=\(3,\)"):
        fold_into_previous(np.ones((2, 4)), None, *[np.ones(3)] * 4)
    with pytest.raises(ValueError, match=r"one per input.*shape=\(4,\)"):
        fold_into_next(*[np.ones(4)] * 4, np.ones((2, 3)), None)
    with pytest.raises(ValueError, match=r"2D Dense kernel.*shape=\(2,\)"):
        fold_into_next(*[np.ones(2)] * 4, np.ones(2), None)


def _randomize_bn(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = _bn_params(rng, layer.moving_mean.shape[0])
            weights = ([gamma] if layer.scale else []) + ([beta] if layer.center else [])
            layer.set_weights(weights + [mean, var])
    return model


def _after_activation():
    return keras.Sequential([
        keras.Input(shape=(12,)), layers.BatchNormalization(),
        layers.Dense(8, activation="relu"), layers.BatchNormalization(),
        layers.Dense(6, activation="elu"), layers.BatchNormalization(),
        layers.Dense(3, activation="softmax")], name="after")


def _before_activation():
    return keras.Sequential([
        keras.Input(shape=(12,)), layers.BatchNormalization(epsilon=0.01),
        layers.Dense(8, use_bias=False), layers.BatchNormalization(scale=False),
        layers.Activation("relu"),
        layers.Dense(6, use_bias=False), layers.BatchNormalization(center=False),
        layers.Activation("tanh"), layers.Dropout(0.3),
        layers.Dense(3, activation="softmax")], name="before")


@pytest.mark.parametrize("build", [_after_activation, _before_activation])
@pytest.mark.parametrize("merge", [True, False])
def test_fold_batch_norm_gives_the_same_predictions(build, merge):
    model = _randomize_bn(build(), seed=7)
    x = np.random.default_rng(8).normal(2, 3, (50, 12)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    n_layers = len(model.layers)
    folded = fold_batch_norm(model, merge_activations=merge)
    assert isinstance(folded, keras.Sequential) and folded is not model
    assert not any(isinstance(layer, layers.BatchNormalization) for layer in folded.layers)
    assert [type(layer).__name__ for layer in folded.layers].count("Dense") == 3
    np.testing.assert_allclose(_numpy(folded(x)), _numpy(model(x, training=False)),
                               rtol=1e-5, atol=1e-6)
    # The trained model is untouched: same layers, same weights, still usable.
    assert len(model.layers) == n_layers
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not set(map(id, folded.weights)) & set(map(id, model.weights))


def test_merging_activations_removes_activation_layers():
    folded = fold_batch_norm(_randomize_bn(_before_activation(), 1))
    assert [type(layer).__name__ for layer in folded.layers] == [
        "Dense", "Dense", "Dropout", "Dense"]
    assert [layer.activation.__name__ for layer in folded.layers
            if isinstance(layer, layers.Dense)] == ["relu", "tanh", "softmax"]
    kept = fold_batch_norm(_randomize_bn(_before_activation(), 1), merge_activations=False)
    assert [type(layer).__name__ for layer in kept.layers].count("Activation") == 2


def test_a_model_without_bn_is_copied():
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="relu"),
                              layers.Dense(2)])
    folded = fold_batch_norm(model)
    x = np.ones((2, 4), dtype="float32")
    np.testing.assert_allclose(_numpy(folded(x)), _numpy(model(x)), rtol=1e-6)
    assert folded.count_params() == model.count_params()


@pytest.mark.parametrize("stack, match", [
    ([layers.Dense(4, activation="relu", name="d0"), layers.BatchNormalization(name="bn_last")],
     r"'bn_last' \(after Dense 'd0'.*the last layer\).*nonlinearity"),
    ([layers.Dense(4), layers.Activation("relu"), layers.BatchNormalization(name="bn_act"),
      layers.Dropout(0.1, name="drop")],
     r"'bn_act' \(after Activation .*followed by Dropout 'drop'\)"),
    ([layers.BatchNormalization(name="bn_first"), layers.Activation("relu"), layers.Dense(2)],
     r"'bn_first' \(first, followed by Activation"),
])
def test_layouts_that_cannot_be_folded_raise_naming_the_layer(stack, match):
    model = keras.Sequential([keras.Input(shape=(5,))] + stack)
    with pytest.raises(BatchNormFoldingError, match=match):
        fold_batch_norm(model)


def test_bn_on_another_axis_is_refused():
    model = keras.Sequential([keras.Input(shape=(4, 6)),
                              layers.BatchNormalization(axis=1, name="bn_axis1"),
                              layers.Dense(3)])
    with pytest.raises(BatchNormFoldingError, match=r"'bn_axis1'.*axis 1.*Expected axis=-1"):
        fold_batch_norm(model)


def test_bn_on_the_last_axis_of_3d_inputs_folds():
    model = _randomize_bn(keras.Sequential([
        keras.Input(shape=(4, 6)), layers.Dense(5), layers.BatchNormalization(),
        layers.Activation("relu"), layers.BatchNormalization(), layers.Dense(2)]), 3)
    x = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32")
    np.testing.assert_allclose(_numpy(fold_batch_norm(model)(x)), _numpy(model(x, training=False)),
                               rtol=1e-5, atol=1e-6)


def test_not_a_sequential_model():
    inputs = keras.Input(shape=(3,))
    functional = keras.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(TypeError, match="Expected a keras.Sequential model. Received: Functional"):
        fold_batch_norm(functional)
    with pytest.raises(ValueError, match="unbuilt"):
        fold_batch_norm(keras.Sequential([layers.Dense(2)]))
