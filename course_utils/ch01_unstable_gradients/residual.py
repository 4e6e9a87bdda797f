"""Residual (skip) connections: a deep MLP with and without them.

:func:`residual_mlp` builds the same deep stack of narrow ``Dense`` layers in
two versions that differ only in the skip connections. Without them, block
``l`` computes ``a_l = W_l f(a_{l-1}) + b_l``, which is an ordinary MLP with
activation ``f``; with them it computes ``a_l = a_{l-1} + W_l f(a_{l-1}) +
b_l``, so the Jacobian of each block is the identity plus the plain block's
Jacobian, and the gradient has a path to the first layers that no small
factor can cut. :func:`block_gradient_norms` reads the gradient norm of each
block's kernel, to compare the bottom of the stack with the top.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

__all__ = ["residual_mlp", "block_gradient_norms"]


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected {name} to be a positive whole number. "
                         f"Received: {name}={value!r}")
    return int(value)


def residual_mlp(
    depth: int,
    width: int,
    *,
    residual: bool = True,
    activation: str = "sigmoid",
    kernel_initializer: str | Callable[[], keras.initializers.Initializer] = "glorot_uniform",
    n_inputs: int = 784,
    n_classes: int = 10,
    seed: int | None = None,
) -> keras.Model:
    """A deep MLP of ``depth`` blocks of ``width`` units, with or without skips.

    The model is: a linear ``Dense(width)`` stem named ``"stem"``; ``depth``
    blocks, block ``l`` applying the activation and then ``Dense(width)``
    (named ``"block_l"``), its output added to its input when ``residual``
    (an ``Add`` layer named ``"skip_l"``); then the activation and a
    ``Dense(n_classes, "softmax")`` head named ``"head"``. Without skips this
    is an ordinary MLP with ``depth + 1`` hidden layers of activation
    ``activation``.

    Args:
        depth: number of blocks (one ``Dense`` layer each).
        width: units per hidden layer.
        residual: add the skip connections.
        activation: a Keras activation name, applied before each block's
            ``Dense`` and before the head.
        kernel_initializer: an initializer name, or a function returning a
            fresh initializer (called once per layer: in Keras 3 one
            initializer object reused across layers gives them equal weights).
        n_inputs: input features.
        n_classes: output classes.
        seed: if given, ``keras.utils.set_random_seed(seed)`` first, so the
            weights are reproducible.

    Returns:
        An uncompiled functional ``keras.Model``.

    Raises:
        ValueError: for a size that is not a positive whole number, or an
            unknown activation.
    """
    depth = _positive_int("depth", depth)
    width = _positive_int("width", width)
    n_inputs = _positive_int("n_inputs", n_inputs)
    n_classes = _positive_int("n_classes", n_classes)
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(f"Expected a Keras activation name. Received: "
                         f"activation={activation!r}") from None
    if seed is not None:
        keras.utils.set_random_seed(int(seed))

    def initializer():
        return kernel_initializer if isinstance(kernel_initializer, str) \
            else kernel_initializer()

    inputs = keras.Input(shape=(n_inputs,))
    a = keras.layers.Dense(width, kernel_initializer=initializer(), name="stem")(inputs)
    for block in range(1, depth + 1):
        h = keras.layers.Activation(activation)(a)
        h = keras.layers.Dense(width, kernel_initializer=initializer(),
                               name=f"block_{block}")(h)
        a = keras.layers.Add(name=f"skip_{block}")([a, h]) if residual else h
    h = keras.layers.Activation(activation)(a)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="head")(h)
    return keras.Model(inputs, outputs, name="residual_mlp" if residual else "plain_mlp")


def block_gradient_norms(model: keras.Model, X, y) -> np.ndarray:
    """Norm of the loss gradient on each block's kernel, bottom block first.

    Args:
        model: a model from :func:`residual_mlp`.
        X: a batch of inputs.
        y: its integer labels.

    Returns:
        A float64 array of shape ``(depth,)``: ``‖∂L/∂W‖`` for ``block_1``,
        ..., ``block_depth`` (the stem and the head, whose kernels have other
        shapes, are left out), with the sparse categorical cross-entropy
        averaged over the batch.

    Raises:
        ValueError: if the model has no layer named ``block_1``.
    """
    from course_utils.ch01_unstable_gradients.diagnostics import gradient_norms

    names = [layer.name for layer in model.layers if layer.name.startswith("block_")]
    if "block_1" not in names:
        received = [layer.name for layer in model.layers]
        raise ValueError("Expected a model built by residual_mlp (layers named block_1, "
                         f"block_2, ...). Received layers: {received}")
    norms = gradient_norms(model, X, y, loss="sparse_categorical_crossentropy")
    return np.array([norms[f"block_{i}"] for i in range(1, len(names) + 1)], dtype=float)
