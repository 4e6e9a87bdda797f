"""Chapter 4: group normalization, a NumPy reference for ``keras.layers.GroupNormalization``.

Group normalization splits the channels of each example into ``groups``
groups of consecutive channels and standardizes each group over its
channels and all spatial positions, with that example's own statistics.
``groups=1`` is layer normalization over all features of an example;
``groups`` equal to the number of channels normalizes each channel of each
example alone (instance normalization). No statistic involves another
example, so the batch size does not matter and training equals inference.
"""

from __future__ import annotations

import numpy as np

from course_utils.ch04_batch_norm.batchnorm import _feature_vector
from course_utils.core.validation import check_integer

__all__ = ["group_norm_forward"]


def group_norm_forward(x, groups: int, gamma=None, beta=None, *,
                       epsilon: float = 1e-3) -> np.ndarray:
    """Group normalization of channels-last inputs, in NumPy (float64).

    For example ``i`` and group ``g`` (channels ``g*C/G`` to ``(g+1)*C/G - 1``),
    the mean and the biased variance are taken over those channels and every
    position between the batch axis and the channel axis; each value is
    standardized with them, then scaled by ``gamma`` and shifted by ``beta``
    (one value per channel), as ``keras.layers.GroupNormalization(groups)``
    does with its default ``axis=-1``.

    Args:
        x: inputs of shape ``(batch, ..., channels)``, e.g. ``(batch, H, W, C)``.
        groups: the number of groups; it must divide the number of channels.
        gamma: scale per channel, shape ``(channels,)``; ``None`` means 1.
        beta: shift per channel; ``None`` means 0.
        epsilon: added to the variance before the square root.

    Returns:
        A new float64 array of the shape of ``x``.

    Raises:
        ValueError: for an input of rank < 2 or an empty batch, a number of
            groups that does not divide the channels, a bad ``epsilon``, or a
            parameter of the wrong shape.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError("Expected a non-empty channels-last batch, e.g. (batch, height, width, "
                         f"channels). Received: shape={x.shape}")
    channels = x.shape[-1]
    groups = check_integer("groups", groups, low=1)
    if channels % groups:
        raise ValueError(f"Expected a number of groups that divides the {channels} channels. "
                         f"Received: groups={groups}")
    if not epsilon > 0:
        raise ValueError(f"Expected epsilon > 0. Received: epsilon={epsilon}")
    gamma = _feature_vector("gamma", gamma, channels, 1.0)
    beta = _feature_vector("beta", beta, channels, 0.0)
    grouped = x.reshape(*x.shape[:-1], groups, channels // groups)
    # Statistics over every axis but the batch axis and the group axis.
    axes = (*range(1, x.ndim - 1), x.ndim)
    mean = grouped.mean(axis=axes, keepdims=True)
    variance = ((grouped - mean) ** 2).mean(axis=axes, keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(variance + epsilon)).reshape(x.shape)
    return gamma * normalized + beta
