"""Nine optimizers from scratch in NumPy, written the way Keras 3 computes them.

Every optimizer has the same interface::

    opt = MomentumOptimizer(learning_rate=0.01, momentum=0.9)
    params = opt.step(params, grads)     # a list of arrays in, a new list out

``step`` never modifies its arguments: it returns new arrays and keeps its
own state (the ``slots``: velocities, accumulators, moment estimates). Each
class follows the update rule of the matching ``keras.optimizers`` class line
by line (``keras/src/optimizers/*.py`` in Keras 3.15), so that
``opt.to_keras()`` applied to the same gradients gives the same parameters;
the unit tests check this for every class. Where Keras departs from the
textbook form of a rule, the class docstring says how.

The module needs only NumPy; Keras is imported when ``to_keras`` is called.
The Keras reference runs are in :mod:`course_utils.optimizer_experiments`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "NumpyOptimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "NesterovOptimizer",
    "AdaGradOptimizer",
    "RMSPropOptimizer",
    "AdamOptimizer",
    "AdaMaxOptimizer",
    "NadamOptimizer",
    "AdamWOptimizer",
    "OPTIMIZER_CLASSES",
    "make_optimizer",
]


def _check_number(name: str, value: Any, low: float, high: float = math.inf, *,
                  low_inclusive: bool = True, high_inclusive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r} "
                        f"of type {type(value).__name__}")
    value = float(value)
    above = value >= low if low_inclusive else value > low
    below = value <= high if high_inclusive else value < high
    if not (math.isfinite(value) and above and below):
        interval = (("[" if low_inclusive else "(") + f"{low:g}, {high:g}"
                    + ("]" if high_inclusive else ")"))
        raise ValueError(f"`{name}` must be in {interval}. Received: {name}={value!r}")
    return value


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
        self.learning_rate = _check_number("learning_rate", learning_rate, 0.0,
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


class GradientDescentOptimizer(NumpyOptimizer):
    """Plain gradient descent: ``theta <- theta - eta * g`` (Keras ``SGD``)."""

    keras_name = "SGD"

    def __init__(self, learning_rate: float = 0.01):
        super().__init__(learning_rate)

    def _update(self, i, theta, g, t):
        return theta - self.learning_rate * g


class MomentumOptimizer(NumpyOptimizer):
    """Momentum (Polyak's heavy ball), as ``SGD(momentum=beta)``.

    ``m <- beta * m - eta * g``; ``theta <- theta + m``. The momentum
    ``beta`` acts as friction: 0 is full friction (plain gradient descent),
    values near 1 let the velocity build up to ``eta / (1 - beta)`` times the
    gradient.
    """

    slot_names = ("momentum",)
    keras_name = "SGD"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9):
        super().__init__(learning_rate)
        self.momentum = _check_number("momentum", momentum, 0.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}

    def _update(self, i, theta, g, t):
        m = self.momentum * self.slots["momentum"][i] - self.learning_rate * g
        self.slots["momentum"][i] = m
        return theta + m

    def to_keras(self):
        import keras

        return keras.optimizers.SGD(**self.get_config(), nesterov=False)


class NesterovOptimizer(MomentumOptimizer):
    """Nesterov accelerated gradient, as ``SGD(momentum=beta, nesterov=True)``.

    The textbook rule measures the gradient at the look-ahead point,
    ``m <- beta * m - eta * grad(theta + beta * m)``, ``theta <- theta + m``.
    Keras stores the look-ahead point itself, ``phi = theta + beta * m``, as
    the parameter, so the gradient it receives is already taken there:
    ``m <- beta * m - eta * g``; ``phi <- phi + beta * m - eta * g``.
    Both produce the same sequence of points (shifted by ``beta * m``).
    """

    def _update(self, i, theta, g, t):
        m = self.momentum * self.slots["momentum"][i] - self.learning_rate * g
        self.slots["momentum"][i] = m
        return theta + self.momentum * m - self.learning_rate * g

    def to_keras(self):
        import keras

        return keras.optimizers.SGD(**self.get_config(), nesterov=True)


class AdaGradOptimizer(NumpyOptimizer):
    """AdaGrad, as ``keras.optimizers.Adagrad``.

    ``s <- s + g**2``; ``theta <- theta - eta * g / sqrt(s + eps)``. Keras
    starts the accumulator at ``initial_accumulator_value = 0.1`` (not 0) and
    puts ``eps`` inside the square root.
    """

    slot_names = ("accumulator",)
    keras_name = "Adagrad"

    def __init__(self, learning_rate: float = 0.001,
                 initial_accumulator_value: float = 0.1, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = _check_number(
            "initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}

    def _initial_slot(self, name, shape):
        return np.full(shape, self.initial_accumulator_value)

    def _update(self, i, theta, g, t):
        s = self.slots["accumulator"][i] + g**2
        self.slots["accumulator"][i] = s
        return theta - self.learning_rate * g / np.sqrt(s + self.epsilon)


class RMSPropOptimizer(NumpyOptimizer):
    """RMSProp, as ``keras.optimizers.RMSprop`` (without momentum or centering).

    ``s <- rho * s + (1 - rho) * g**2``; ``theta <- theta - eta * g /
    sqrt(s + eps)``, with ``eps`` inside the square root and ``rho = 0.9``.
    """

    slot_names = ("velocity",)
    keras_name = "RMSprop"

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.rho = _check_number("rho", rho, 0.0, 1.0)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

    def _update(self, i, theta, g, t):
        s = self.rho * self.slots["velocity"][i] + (1 - self.rho) * g**2
        self.slots["velocity"][i] = s
        return theta - self.learning_rate * g / np.sqrt(s + self.epsilon)


class AdamOptimizer(NumpyOptimizer):
    """Adam with bias correction, as ``keras.optimizers.Adam``.

    ``m <- beta_1 m + (1 - beta_1) g``, ``v <- beta_2 v + (1 - beta_2) g**2``.
    Keras folds both bias corrections into the step size,
    ``alpha_t = eta * sqrt(1 - beta_2**t) / (1 - beta_1**t)``, and updates
    ``theta <- theta - alpha_t * m / (sqrt(v) + eps)``. That equals the
    textbook ``eta * m_hat / (sqrt(v_hat) + eps')`` with
    ``eps' = eps / sqrt(1 - beta_2**t)``; the default ``eps`` is 1e-7.
    """

    slot_names = ("m", "v")
    keras_name = "Adam"

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta_1 = _check_number("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_number("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _moments(self, i, g):
        m = self.beta_1 * self.slots["m"][i] + (1 - self.beta_1) * g
        v = self.beta_2 * self.slots["v"][i] + (1 - self.beta_2) * g**2
        self.slots["m"][i], self.slots["v"][i] = m, v
        return m, v

    def _update(self, i, theta, g, t):
        m, v = self._moments(i, g)
        alpha = (self.learning_rate * np.sqrt(1 - self.beta_2**t)
                 / (1 - self.beta_1**t))
        return theta - alpha * m / (np.sqrt(v) + self.epsilon)


class AdaMaxOptimizer(AdamOptimizer):
    """AdaMax, Adam with the infinity norm, as ``keras.optimizers.Adamax``.

    ``m`` as in Adam; ``u <- max(beta_2 * u, |g|)``; ``theta <- theta - eta *
    m / ((1 - beta_1**t) * (u + eps))``. ``u`` needs no bias correction; Keras
    adds ``eps`` to it.
    """

    slot_names = ("m", "u")
    keras_name = "Adamax"

    def _update(self, i, theta, g, t):
        m = self.beta_1 * self.slots["m"][i] + (1 - self.beta_1) * g
        u = np.maximum(self.beta_2 * self.slots["u"][i], np.abs(g))
        self.slots["m"][i], self.slots["u"][i] = m, u
        return theta - self.learning_rate * m / ((1 - self.beta_1**t) * (u + self.epsilon))


class NadamOptimizer(AdamOptimizer):
    """Nadam (Adam with Nesterov momentum), as ``keras.optimizers.Nadam``.

    Keras follows Dozat's schedule of momentum coefficients,
    ``mu_t = beta_1 * (1 - 0.5 * 0.96**t)``, and keeps their running product
    (the "momentum cache") ``P_t = mu_1 ... mu_t``. With ``m`` and ``v`` as
    in Adam, ``m_hat = mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g /
    (1 - P_t)``, ``v_hat = v / (1 - beta_2**t)`` and ``theta <- theta - eta *
    m_hat / (sqrt(v_hat) + eps)``.
    """

    keras_name = "Nadam"

    def reset(self) -> None:
        super().reset()
        self.momentum_cache = 1.0

    def _mu(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _begin_step(self, t):
        self.momentum_cache *= self._mu(t)

    def _update(self, i, theta, g, t):
        m, v = self._moments(i, g)
        mu_t, mu_next = self._mu(t), self._mu(t + 1)
        m_hat = (mu_next * m / (1 - self.momentum_cache * mu_next)
                 + (1 - mu_t) * g / (1 - self.momentum_cache))
        v_hat = v / (1 - self.beta_2**t)
        return theta - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


class AdamWOptimizer(AdamOptimizer):
    """AdamW: Adam with decoupled weight decay, as ``keras.optimizers.AdamW``.

    Before the Adam step, every parameter shrinks by the factor
    ``1 - eta * weight_decay``: ``theta <- theta - eta * lambda * theta``.
    Keras (like PyTorch) multiplies the decay by the learning rate; the paper
    multiplies it by the schedule factor only. The decay never passes through
    Adam's normalization, unlike an L2 term added to the loss.
    """

    keras_name = "AdamW"

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = _check_number("weight_decay", weight_decay, 0.0)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}

    def _update(self, i, theta, g, t):
        theta = theta - self.learning_rate * self.weight_decay * theta
        return super()._update(i, theta, g, t)


#: The nine optimizers of the chapter, by the short name used in figures.
OPTIMIZER_CLASSES: dict[str, type[NumpyOptimizer]] = {
    "GD": GradientDescentOptimizer,
    "Momentum": MomentumOptimizer,
    "Nesterov": NesterovOptimizer,
    "AdaGrad": AdaGradOptimizer,
    "RMSProp": RMSPropOptimizer,
    "Adam": AdamOptimizer,
    "AdaMax": AdaMaxOptimizer,
    "Nadam": NadamOptimizer,
    "AdamW": AdamWOptimizer,
}


def make_optimizer(name: str, **hyperparameters: float) -> NumpyOptimizer:
    """Creates one of the nine optimizers by its short name.

    Args:
        name: a key of :data:`OPTIMIZER_CLASSES` (``"GD"``, ``"Momentum"``,
            ``"Nesterov"``, ``"AdaGrad"``, ``"RMSProp"``, ``"Adam"``,
            ``"AdaMax"``, ``"Nadam"``, ``"AdamW"``).
        **hyperparameters: keyword arguments of that class.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in OPTIMIZER_CLASSES:
        raise ValueError(f"Unknown optimizer. Expected one of "
                         f"{list(OPTIMIZER_CLASSES)}. Received: name={name!r}")
    return OPTIMIZER_CLASSES[name](**hyperparameters)
