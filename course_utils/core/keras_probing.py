"""Reading what happens inside a Keras model, without changing the model.

Chapter 1's activation statistics read the *outputs* of chosen layers,
chapter 3's dead-unit counter their *inputs*. Both go through
:func:`layer_probe`, which handles Sequential models that have no ``Input``
(run layer by layer) and functional models (one probe model), always in
inference mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from course_utils.core.validation import check_batch

__all__ = ["probe_batch", "layer_probe"]


def probe_batch(X: Any, model: keras.Model) -> np.ndarray:
    """A non-empty float32 batch for ``model``, which is built for it if needed.

    Raises:
        ValueError: if ``X`` has fewer than 2 axes or no sample.
    """
    X = check_batch(X, np.float32)
    if not model.built:
        model.build((None, *X.shape[1:]))
    return X


def layer_probe(model: keras.Model, layers: Sequence[keras.layers.Layer], *,
                which: str = "output") -> Callable[[np.ndarray], list[np.ndarray]]:
    """A function ``batch -> [values of each layer]``, as float64 arrays.

    Args:
        model: a built Sequential or functional model; it is not changed.
        layers: layers of ``model``, in any order.
        which: ``"output"`` for what each layer returns, ``"input"`` for
            what it receives.

    Returns:
        A function that runs a batch through the model in inference mode and
        returns one array per layer of ``layers``, in that order.

    Raises:
        ValueError: for ``which`` other than ``"input"`` or ``"output"``.
    """
    if which not in ("input", "output"):
        raise ValueError(f'Expected which="input" or "output". Received: which={which!r}')
    if isinstance(model, keras.Sequential):
        wanted = {id(layer) for layer in layers}

        def run_sequential(X) -> list[np.ndarray]:
            # Layer by layer: works for Sequential models without an Input.
            found, x = {}, keras.ops.convert_to_tensor(X)
            for layer in model.layers:
                if which == "input" and id(layer) in wanted:
                    found[id(layer)] = keras.ops.convert_to_numpy(x).astype(np.float64)
                x = layer(x, training=False)
                if which == "output" and id(layer) in wanted:
                    found[id(layer)] = keras.ops.convert_to_numpy(x).astype(np.float64)
            return [found[id(layer)] for layer in layers]

        return run_sequential
    model_inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(model_inputs, [getattr(layer, which) for layer in layers])

    def run_functional(X) -> list[np.ndarray]:
        result = probe(X, training=False)
        result = result if isinstance(result, (list, tuple)) else [result]
        return [keras.ops.convert_to_numpy(r).astype(np.float64) for r in result]

    return run_functional
