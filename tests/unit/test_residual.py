"""The residual MLP against a NumPy forward pass, and its gradients at depth."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import block_gradient_norms, residual_mlp


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_forward(model, X, residual):
    """The forward pass the docstring describes, from the model's weights, in float64."""
    def weights(name):
        kernel, bias = model.get_layer(name).get_weights()
        return kernel.astype(np.float64), bias.astype(np.float64)

    W, b = weights("stem")
    a = X.astype(np.float64) @ W + b
    block = 1
    while any(layer.name == f"block_{block}" for layer in model.layers):
        W, b = weights(f"block_{block}")
        h = _sigmoid(a) @ W + b
        a = a + h if residual else h
        block += 1
    W, b = weights("head")
    logits = _sigmoid(a) @ W + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


@pytest.mark.parametrize("residual", [False, True])
def test_forward_pass_matches_numpy(residual):
    model = residual_mlp(4, 6, residual=residual, n_inputs=5, n_classes=3, seed=0)
    rng = np.random.default_rng(1)
    for layer in model.layers:  # non-zero biases, so that adding them is tested too
        if layer.weights:
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.5, bias.shape).astype("float32")])
    X = rng.normal(size=(8, 5)).astype("float32")
    np.testing.assert_allclose(model(X).numpy(), _numpy_forward(model, X, residual),
                               rtol=1e-4, atol=1e-6)


def test_structure_and_seed():
    plain = residual_mlp(3, 4, residual=False, seed=2)
    skip = residual_mlp(3, 4, residual=True, seed=2)
    dense = [layer.name for layer in skip.layers if isinstance(layer, keras.layers.Dense)]
    assert dense == ["stem", "block_1", "block_2", "block_3", "head"]
    assert sum(isinstance(layer, keras.layers.Add) for layer in skip.layers) == 3
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    # Same seed, same weights: the two versions differ only in the skips.
    for a, b in zip(plain.get_weights(), skip.get_weights()):
        np.testing.assert_array_equal(a, b)
    # A fresh initializer per layer: the block kernels are not copies.
    assert not np.array_equal(skip.get_layer("block_1").kernel.numpy(),
                              skip.get_layer("block_2").kernel.numpy())
    made = residual_mlp(2, 4, kernel_initializer=lambda: keras.initializers.Constant(0.5))
    np.testing.assert_array_equal(made.get_layer("block_2").kernel.numpy(), 0.5)


def test_skips_carry_the_gradient_to_the_bottom():
    # 30 sigmoid blocks: without skips each block multiplies the gradient by
    # at most about 1/4, so the bottom block gets under 1e-10 of the top's;
    # with skips the identity path keeps them within a factor of 10.
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(64, 784)).astype("float32")
    y = rng.integers(0, 10, size=64)
    plain = block_gradient_norms(residual_mlp(30, 32, residual=False, seed=0), X, y)
    skip = block_gradient_norms(residual_mlp(30, 32, residual=True, seed=0), X, y)
    assert plain.shape == skip.shape == (30,)
    assert 0 < plain[0] < 1e-10 * plain[-1]
    assert 0.1 < skip[0] / skip[-1] < 10


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 0, "width": 4}, "depth"),
    ({"depth": 2, "width": 2.5}, "width"),
    ({"depth": 2, "width": 4, "n_classes": True}, "n_classes"),
    ({"depth": 2, "width": 4, "activation": "sigmoidal"}, "activation"),
])
def test_bad_arguments_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        residual_mlp(**kwargs)


def test_block_gradient_norms_needs_blocks():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="block_1"):
        block_gradient_norms(model, np.zeros((2, 3)), np.zeros(2, dtype=int))
