"""Watching the global gradient norm during an ordinary ``model.fit``.

``fit`` hides the gradients. :class:`GradientNormModel` wraps any Keras model
with a ``train_step`` that does what Keras' own does (forward pass, loss,
gradients, ``optimizer.apply``, metrics) and also reports the global L2 norm
of the gradients, *before* the optimizer clips them, as ``gradient_norm`` in
the logs of every batch. :class:`GradientNormRecorder` is the callback that
collects them::

    monitored = GradientNormModel(model)
    monitored.compile(optimizer=keras.optimizers.Adam(global_clipnorm=1.0), loss=...)
    recorder = GradientNormRecorder()
    monitored.fit(X, y, callbacks=[recorder])
    recorder.norms            # one global norm per training step
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["GradientNormModel", "GradientNormRecorder", "GRADIENT_NORM_KEY"]

GRADIENT_NORM_KEY = "gradient_norm"


@keras.saving.register_keras_serializable(package="course_utils")
class GradientNormModel(keras.Model):
    """A model whose ``fit`` also logs the global gradient norm of each step.

    The wrapped model's layers and weights are used as they are (not
    copied): training the wrapper trains ``model``. The update of each step
    is the one ``model.fit`` would make with the same optimizer, including
    its clipping; the logged norm is the one before clipping (and, under a
    loss-scaling optimizer, after unscaling).

    Args:
        model: the Keras model to train and monitor.
        **kwargs: passed to ``keras.Model`` (e.g. ``name``).

    Raises:
        TypeError: if ``model`` is not a Keras model.
    """

    def __init__(self, model: keras.Model, **kwargs):
        if not isinstance(model, keras.Model):
            raise TypeError(f"Expected a Keras model to wrap. Received: {type(model).__name__}")
        super().__init__(**kwargs)
        self.inner = model

    def call(self, inputs, training=None):
        return self.inner(inputs, training=training)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
            scaled_loss = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        self.optimizer.apply(gradients, variables)
        norm = tf.linalg.global_norm(gradients)
        if scaled_loss is not loss:  # a LossScaleOptimizer: report the true gradients' norm
            norm = norm * tf.cast(loss, norm.dtype) / tf.cast(scaled_loss, norm.dtype)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=tf.shape(x)[0])
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs[GRADIENT_NORM_KEY] = norm
        return logs

    def get_config(self):
        return {"name": self.name, "model": keras.saving.serialize_keras_object(self.inner)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        model = keras.saving.deserialize_keras_object(config.pop("model"))
        return cls(model, **config)


class GradientNormRecorder(keras.callbacks.Callback):
    """Collects the ``gradient_norm`` that :class:`GradientNormModel` logs per batch.

    Attributes:
        norms: a NumPy array with one global gradient norm per training step
            of the last ``fit`` (reset when a new ``fit`` starts).
    """

    def __init__(self):
        super().__init__()
        self._norms: list[float] = []

    @property
    def norms(self) -> np.ndarray:
        return np.array(self._norms, dtype=np.float64)

    def on_train_begin(self, logs=None):
        self._norms = []

    def on_train_batch_end(self, batch, logs=None):
        if not logs or GRADIENT_NORM_KEY not in logs:
            raise KeyError(f"No {GRADIENT_NORM_KEY!r} in the batch logs: wrap the model in "
                           f"GradientNormModel before compile and fit. Received logs: "
                           f"{sorted(logs or {})}")
        self._norms.append(float(logs[GRADIENT_NORM_KEY]))
