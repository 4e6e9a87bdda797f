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
The base class with the shared state handling and input checks is in
:mod:`course_utils.ch07_optimizers.optimizer_base` (re-exported here); the Keras reference
runs are in :mod:`course_utils.ch07_optimizers.optimizer_experiments`.
"""

from __future__ import annotations

import numpy as np

from course_utils.ch07_optimizers.optimizer_base import NumpyOptimizer
from course_utils.core.validation import check_number

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
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)

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
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

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
        self.rho = check_number("rho", rho, 0.0, 1.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

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
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

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
        self.weight_decay = check_number("weight_decay", weight_decay, 0.0)

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
