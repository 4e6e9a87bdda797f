"""What every NumPy optimizer of chapter 7 shares: state, input checks, Keras twin.

:class:`NumpyOptimizer` keeps the per-parameter state (the ``slots``),
checks the parameters and gradients of each step, and builds the matching
``keras.optimizers`` instance. The nine optimizers themselves, and the
registry that names them, are in :mod:`course_utils.ch07_optimizers.optimizers`, which
re-exports :class:`NumpyOptimizer`: import it from there or from
``course_utils``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.core.validation import check_number

__all__ = ["NumpyOptimizer"]


def _as_arrays(name: str, values: Any) -> list[np.ndarray]:
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"`{name}` must be a list or tuple of arrays (or one NumPy "
                        f"array). Received: a {type(values).__name__}")
    arrays = []
    for i, value in enumerate(values):
        try:
            array = np.array(value, dtype=np.float64)  # always a copy
        except (TypeError, ValueError):
            raise TypeError(f"`{name}[{i}]` must be a numeric array. Received: a "
                            f"{type(value).__name__}") from None
        arrays.append(array)
    return arrays


class NumpyOptimizer:
    """Base class: state handling and input checks shared by all optimizers.

    Subclasses set ``slot_names`` (the per-parameter state) and implement
    ``_update(i, theta, g, t)``, which returns the new value of parameter
    ``i`` at step ``t`` (1 for the first step) and updates ``self.slots``.

    Attributes:
        learning_rate: the step size :math:`\\eta`.
        iterations: the number of steps taken so far.
        slots: slot name -> list of arrays, one per parameter (empty before
            the first step).
    """

    slot_names: tuple[str, ...] = ()
    keras_name = ""

    def __init__(self, learning_rate: float):
        self.learning_rate = check_number("learning_rate", learning_rate, 0.0,
                                           low_inclusive=False)
        self.reset()

    def reset(self) -> None:
        """Forgets the state: the next ``step`` starts from scratch."""
        self.iterations = 0
        self.slots: dict[str, list[np.ndarray]] = {}
        self._shapes: tuple[tuple[int, ...], ...] | None = None

    def _initial_slot(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape)

    def _begin_step(self, t: int) -> None:
        """Hook run once per step before the parameters are updated."""

    def _update(self, i: int, theta: np.ndarray, g: np.ndarray, t: int) -> np.ndarray:
        raise NotImplementedError

    def step(self, params, grads):
        """Takes one optimization step.

        Args:
            params: a list or tuple of arrays (the parameters), or one array.
            grads: the gradients, with the same structure and shapes.

        Returns:
            The updated parameters as new float64 arrays: a list, or one
            array if ``params`` was one array. The inputs are not modified.

        Raises:
            TypeError: if the inputs are not arrays or lists of arrays.
            ValueError: if the shapes of ``grads`` and ``params`` differ, or
                differ from those of the first step (call ``reset()`` first).
        """
        single = isinstance(params, np.ndarray)
        if single != isinstance(grads, np.ndarray):
            raise TypeError("`params` and `grads` must both be arrays or both be "
                            f"lists. Received: {type(params).__name__} and "
                            f"{type(grads).__name__}")
        params = _as_arrays("params", [params] if single else params)
        grads = _as_arrays("grads", [grads] if single else grads)
        shapes = tuple(p.shape for p in params)
        grad_shapes = tuple(g.shape for g in grads)
        if shapes != grad_shapes:
            raise ValueError("Expected one gradient per parameter with the same "
                             f"shape. Received: parameter shapes {list(shapes)}, "
                             f"gradient shapes {list(grad_shapes)}")
        if self._shapes is None:
            self._shapes = shapes
            self.slots = {name: [self._initial_slot(name, s) for s in shapes]
                          for name in self.slot_names}
        elif shapes != self._shapes:
            raise ValueError(f"This optimizer was built for parameter shapes "
                             f"{list(self._shapes)}. Received: {list(shapes)}. "
                             "Call reset() before using it on other parameters.")
        t = self.iterations + 1
        self._begin_step(t)
        new = [self._update(i, p, g, t) for i, (p, g) in enumerate(zip(params, grads))]
        self.iterations = t
        return new[0] if single else new

    def get_config(self) -> dict[str, float]:
        """The hyperparameters, as keyword arguments of the Keras class."""
        return {"learning_rate": self.learning_rate}

    def to_keras(self):
        """A fresh ``keras.optimizers`` instance with the same hyperparameters."""
        import keras

        return getattr(keras.optimizers, self.keras_name)(**self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
