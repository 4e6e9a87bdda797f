"""group_norm_forward against Keras' GroupNormalization and its two special cases."""

import keras
import numpy as np
import pytest

from course_utils import group_norm_forward, layer_norm_forward


def _images(shape=(5, 4, 3, 8), seed=0):
    return np.random.default_rng(seed).normal(1.5, 2.0, shape)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_matches_keras_group_normalization(groups):
    x = _images()
    rng = np.random.default_rng(1)
    gamma, beta = rng.normal(1, 0.3, 8), rng.normal(0, 0.5, 8)
    layer = keras.layers.GroupNormalization(groups=groups)
    layer.build(x.shape)
    layer.set_weights([gamma.astype("float32"), beta.astype("float32")])
    expected = keras.ops.convert_to_numpy(layer(x.astype("float32")))
    ours = group_norm_forward(x, groups, gamma, beta, epsilon=layer.epsilon)
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


def test_one_group_is_layer_normalization_over_the_whole_example():
    x = _images()
    flat = x.reshape(len(x), -1)
    expected = layer_norm_forward(flat, epsilon=1e-5).reshape(x.shape)
    np.testing.assert_allclose(group_norm_forward(x, 1, epsilon=1e-5), expected, rtol=1e-12)


def test_one_group_per_channel_normalizes_each_channel_of_each_example():
    x = _images()
    out = group_norm_forward(x, groups=8, epsilon=1e-12)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, rtol=1e-9)


def test_an_example_ignores_its_batch_mates_and_the_input_is_untouched():
    x = _images()
    copy = x.copy()
    together = group_norm_forward(x, 4)
    alone = group_norm_forward(x[2:3], 4)
    np.testing.assert_array_equal(x, copy)
    np.testing.assert_allclose(alone[0], together[2], rtol=1e-12)


@pytest.mark.parametrize("x, groups, message", [
    (np.zeros((2, 3, 6)), 4, "divides the 6 channels"),
    (np.zeros(6), 2, "non-empty channels-last batch"),
    (np.zeros((0, 4)), 2, "non-empty channels-last batch"),
    (np.zeros((2, 4)), 0, "groups"),
    (np.zeros((2, 4)), 2.0, "groups"),
])
def test_bad_inputs_are_explained(x, groups, message):
    with pytest.raises(ValueError, match=message):
        group_norm_forward(x, groups)


def test_a_gamma_of_the_wrong_length_is_explained():
    with pytest.raises(ValueError, match="gamma"):
        group_norm_forward(np.zeros((2, 4)), 2, gamma=np.ones(3))
