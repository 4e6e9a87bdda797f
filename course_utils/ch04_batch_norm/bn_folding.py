"""Folding trained batch-normalization layers into neighbouring Dense layers.

At inference a BN layer is a fixed affine map per feature,
``y = gamma * (x - mu) / sigma + beta`` with ``sigma = sqrt(var + eps)``, so
it can be merged with an adjacent affine layer:

- into the *previous* Dense layer (``Dense -> BN``, the Dense without
  activation): ``W' = W * gamma / sigma`` (per column) and
  ``b' = gamma * (b - mu) / sigma + beta``;
- into the *next* Dense layer (``BN -> Dense``, e.g. a BN right after the
  input or after an activation): ``W' = W * (gamma / sigma)[:, None]`` and
  ``b' = b + (beta - gamma * mu / sigma) @ W``.

A BN after a nonlinearity cannot be folded backward through it; it is folded
forward when a Dense follows, and anything else raises an error naming it.
"""

from __future__ import annotations

import keras
import numpy as np

from course_utils.core.validation import check_vector as _vector

__all__ = [
    "BatchNormFoldingError",
    "bn_affine",
    "fold_into_previous",
    "fold_into_next",
    "fold_batch_norm",
]


class BatchNormFoldingError(ValueError):
    """A model contains a BN layer that cannot be folded into a Dense layer."""


def bn_affine(gamma, beta, mean, variance, epsilon: float = 1e-3
              ) -> tuple[np.ndarray, np.ndarray]:
    """The inference-mode BN as ``y = scale * x + shift``.

    Args:
        gamma, beta, mean, variance: per-feature vectors of one shape ``(n,)``.
        epsilon: BN's epsilon (Keras default 1e-3).

    Returns:
        ``(scale, shift)`` with ``scale = gamma / sigma`` and
        ``shift = beta - gamma * mean / sigma``, ``sigma = sqrt(variance + epsilon)``.

    Raises:
        ValueError: for vectors of different shapes or a negative ``variance + epsilon``.
    """
    gamma = _vector("gamma", gamma)
    n = gamma.shape[0]
    beta, mean, variance = (_vector(name, value, n) for name, value in
                            [("beta", beta), ("mean", mean), ("variance", variance)])
    if np.any(variance + epsilon <= 0):
        raise ValueError("Expected variance + epsilon > 0 for every feature. Received: "
                         f"min(variance + epsilon)={float(np.min(variance + epsilon))}")
    scale = gamma / np.sqrt(variance + epsilon)
    return scale, beta - scale * mean


def _kernel_and_bias(kernel, bias) -> tuple[np.ndarray, np.ndarray]:
    kernel = np.array(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(
            f"Expected a 2D Dense kernel (inputs, units). Received: shape={kernel.shape}")
    bias = np.zeros(kernel.shape[1]) if bias is None else _vector("bias", bias, kernel.shape[1])
    return kernel, bias


def fold_into_previous(kernel, bias, gamma, beta, mean, variance, epsilon: float = 1e-3
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Merges ``Dense(kernel, bias) -> BN`` into one Dense layer.

    Args:
        kernel: the Dense kernel, shape ``(n_in, n_out)``.
        bias: its bias, shape ``(n_out,)``, or ``None`` for ``use_bias=False``.
        gamma, beta, mean, variance: the BN's parameters and moving
            statistics, shape ``(n_out,)``.
        epsilon: the BN's epsilon.

    Returns:
        ``(kernel', bias')`` in float64 with ``x @ kernel' + bias'`` equal to
        BN(``x @ kernel + bias``) in inference mode.

    Raises:
        ValueError: for shapes that do not fit together.
    """
    kernel, bias = _kernel_and_bias(kernel, bias)
    if np.shape(gamma) != (kernel.shape[1],):
        raise ValueError(f"Expected BN parameters of shape ({kernel.shape[1]},), one per unit "
                         f"of the Dense layer. Received: shape={np.shape(gamma)}")
    scale, shift = bn_affine(gamma, beta, mean, variance, epsilon)
    return kernel * scale[None, :], bias * scale + shift


def fold_into_next(gamma, beta, mean, variance, kernel, bias, epsilon: float = 1e-3
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Merges ``BN -> Dense(kernel, bias)`` into one Dense layer.

    Args:
        gamma, beta, mean, variance: the BN's parameters and moving
            statistics, shape ``(n_in,)``.
        kernel: the following Dense kernel, shape ``(n_in, n_out)``.
        bias: its bias, shape ``(n_out,)``, or ``None``.
        epsilon: the BN's epsilon.

    Returns:
        ``(kernel', bias')`` in float64 with ``x @ kernel' + bias'`` equal to
        ``BN(x) @ kernel + bias`` in inference mode.

    Raises:
        ValueError: for shapes that do not fit together.
    """
    kernel, bias = _kernel_and_bias(kernel, bias)
    if np.shape(gamma) != (kernel.shape[0],):
        raise ValueError(f"Expected BN parameters of shape ({kernel.shape[0]},), one per input "
                         f"of the next Dense layer. Received: shape={np.shape(gamma)}")
    scale, shift = bn_affine(gamma, beta, mean, variance, epsilon)
    return kernel * scale[:, None], bias + shift @ kernel


def _bn_parameters(layer: keras.layers.BatchNormalization) -> tuple[np.ndarray, ...]:
    weights = list(layer.get_weights())  # [gamma], [beta], moving_mean, moving_variance
    n = weights[-1].shape[0]
    gamma = weights.pop(0) if layer.scale else np.ones(n)
    beta = weights.pop(0) if layer.center else np.zeros(n)
    return gamma, beta, weights[0], weights[1]


def _check_feature_axis(layer: keras.layers.BatchNormalization) -> None:
    try:
        rank = len(layer.input.shape)
    except (AttributeError, ValueError):  # a layer never called symbolically
        rank = None
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    if rank is not None and [a % rank for a in axes] != [rank - 1]:
        raise BatchNormFoldingError(
            f"Cannot fold BN layer {layer.name!r}: it normalizes axis {layer.axis}, but a Dense "
            f"layer mixes the last axis of its rank-{rank} input. Expected axis=-1.")


def _is_linear(layer) -> bool:
    return getattr(layer.activation, "__name__", "") == "linear"


def _copy_layer(layer):
    return type(layer).from_config(layer.get_config())


def fold_batch_norm(model: keras.Sequential, *, merge_activations: bool = True
                    ) -> keras.Sequential:
    """A new Sequential model, equivalent in inference mode, without BN layers.

    Each BN layer is folded into the Dense layer before it when that Dense
    has no activation (``Dense(use_bias=False) -> BN -> Activation``), and
    otherwise into the Dense layer right after it (a BN after the input, or
    after an activation). Other layers are copied with their weights.

    Args:
        model: a built ``keras.Sequential`` model (not modified).
        merge_activations: also merge an ``Activation`` layer that follows a
            folded ``Dense -> BN`` pair into the Dense layer.

    Returns:
        A new, uncompiled ``keras.Sequential`` whose predictions equal the
        original's ``model(x, training=False)`` up to float32 rounding.

    Raises:
        TypeError: if ``model`` is not a Sequential model.
        BatchNormFoldingError: naming the BN layer that can be folded neither
            backward (no linear Dense right before it) nor forward (no Dense
            right after it), or that normalizes another axis than the last.
    """
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"Expected a keras.Sequential model. Received: {type(model).__name__}")
    if not model.built or not model.inputs:
        raise ValueError("Expected a built Sequential model with a keras.Input. "
                         f"Received: the unbuilt model {model.name!r}")
    layers = list(model.layers)
    new_layers, pending, i = [], None, 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, keras.layers.BatchNormalization):
            _check_feature_axis(layer)
            if not isinstance(following, keras.layers.Dense):
                before = (f"after {type(layers[i - 1]).__name__} {layers[i - 1].name!r}"
                          if i else "first")
                after = (f"followed by {type(following).__name__} {following.name!r}"
                         if following is not None else "the last layer")
                raise BatchNormFoldingError(
                    f"Cannot fold BN layer {layer.name!r} ({before}, {after}): it can be folded "
                    "backward only into a Dense layer without activation right before it, or "
                    "forward into a Dense layer right after it. A BN after a nonlinearity cannot "
                    "be folded back through it.")
            pending = bn_affine(*_bn_parameters(layer), epsilon=layer.epsilon)
            i += 1
            continue
        if not isinstance(layer, keras.layers.Dense):
            copy = _copy_layer(layer)
            new_layers.append((copy, layer.get_weights()))
            i += 1
            continue
        kernel, *rest = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
        bias = rest[0] if layer.use_bias else np.zeros(kernel.shape[1])
        if pending is not None:
            scale, shift = pending
            kernel, bias = kernel * scale[:, None], bias + shift @ kernel
            pending = None
        config = layer.get_config()
        i += 1
        if isinstance(following, keras.layers.BatchNormalization) and _is_linear(layer):
            _check_feature_axis(following)
            kernel, bias = fold_into_previous(kernel, bias, *_bn_parameters(following),
                                              epsilon=following.epsilon)
            i += 1
            after = layers[i] if i < len(layers) else None
            if merge_activations and type(after) is keras.layers.Activation:
                config["activation"] = after.get_config()["activation"]
                i += 1
        config["use_bias"] = True
        dtype = keras.backend.standardize_dtype(layer.variable_dtype)
        new_layers.append((keras.layers.Dense.from_config(config),
                           [kernel.astype(dtype), bias.astype(dtype)]))
    folded = keras.Sequential([keras.Input(shape=model.inputs[0].shape[1:])]
                              + [new for new, _ in new_layers], name=f"{model.name}_folded")
    for new, weights in new_layers:
        new.set_weights(weights)
    return folded
