"""Chapter 9: what L1, L2 and max-norm regularization do to the weights.

:func:`weight_sparsity`, :func:`weight_norm`, :func:`kernel_norms` and
:func:`l1_l2_penalty` measure the kernels of a model (read with
:func:`kernel_weights`) or a list of arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

__all__ = [
    "kernel_weights",
    "weight_sparsity",
    "weight_norm",
    "kernel_norms",
    "l1_l2_penalty",
]


def kernel_weights(model_or_weights) -> list[np.ndarray]:
    """The kernels (weight matrices, no biases) of a model, as NumPy arrays.

    Args:
        model_or_weights: a Keras model or layer (its variables named
            ``kernel``), or a sequence of arrays, returned as copies.

    Returns:
        A list of arrays.

    Raises:
        TypeError: for anything else.
        ValueError: if there is no kernel.
    """
    if isinstance(model_or_weights, keras.layers.Layer):
        kernels = [w.numpy() for w in model_or_weights.weights
                   if w.name == "kernel"]
    elif isinstance(model_or_weights, (list, tuple)):
        kernels = [np.array(w, dtype=np.float64) for w in model_or_weights]
    else:
        raise TypeError("Expected a Keras model or layer, or a list of arrays. "
                        f"Received: {type(model_or_weights).__name__}")
    if not kernels:
        raise ValueError("Expected at least one kernel. Received none (is the model built?)")
    return kernels


def weight_sparsity(model_or_weights, threshold: float = 1e-3) -> float:
    """Fraction of kernel entries with ``|w| < threshold`` (the near-zero weights).

    Args:
        model_or_weights: as in :func:`kernel_weights`.
        threshold: the magnitude below which a weight counts as zero.

    Returns:
        A fraction between 0 and 1 over all kernel entries.
    """
    if not threshold > 0:
        raise ValueError(f"Expected a positive threshold. Received: {threshold!r}")
    flat = np.concatenate([k.ravel() for k in kernel_weights(model_or_weights)])
    return float(np.mean(np.abs(flat) < threshold))


def weight_norm(model_or_weights) -> float:
    """Euclidean norm of all kernel entries together, ``sqrt(sum w^2)``."""
    flat = np.concatenate([k.ravel() for k in kernel_weights(model_or_weights)])
    return float(np.sqrt(np.sum(np.square(flat, dtype=np.float64))))


def kernel_norms(kernel_or_layer, axis: int = 0) -> np.ndarray:
    """Norms of a kernel's weight vectors, the quantity max-norm bounds.

    For a dense kernel of shape ``(n_in, n_out)`` and ``axis=0`` (the
    default of ``keras.constraints.MaxNorm``), entry ``j`` is the norm of
    the incoming weights of unit ``j``.

    Args:
        kernel_or_layer: a kernel array or a layer with a ``kernel``.
        axis: the axis (or axes) summed over.

    Returns:
        The norms, shape of the kernel without ``axis``.
    """
    if isinstance(kernel_or_layer, keras.layers.Layer):
        if not hasattr(kernel_or_layer, "kernel"):
            raise ValueError(f"Expected a layer with a kernel. Received: "
                             f"{type(kernel_or_layer).__name__} {kernel_or_layer.name!r}")
        kernel = np.asarray(kernel_or_layer.kernel.numpy(), dtype=np.float64)
    else:
        kernel = np.asarray(kernel_or_layer, dtype=np.float64)
    if kernel.ndim < 2:
        raise ValueError(f"Expected a kernel with 2 or more axes. Received: shape={kernel.shape}")
    return np.sqrt(np.sum(np.square(kernel, dtype=np.float64), axis=axis))


def l1_l2_penalty(weights: Sequence[np.ndarray] | np.ndarray, l1: float = 0.0,
                  l2: float = 0.0) -> float:
    """The penalty ``l1 * sum |w| + l2 * sum w^2`` over one or several arrays.

    This is what ``keras.regularizers.L1L2(l1, l2)`` adds to the loss for
    each regularized kernel (note: no factor 1/2 in front of the L2 term).
    """
    if l1 < 0 or l2 < 0:
        raise ValueError(f"Expected non-negative l1 and l2. Received: l1={l1}, l2={l2}")
    if isinstance(weights, np.ndarray):
        weights = [weights]
    flat = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in weights])
    return float(l1 * np.abs(flat).sum() + l2 * np.square(flat).sum())
