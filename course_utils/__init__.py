"""Helpers for the open course *Training Deep Neural Networks*.

Every chapter page and every exercise imports what it needs from here::

    from course_utils import load_fashion_mnist, use_course_style

Names are loaded lazily: ``import course_utils`` is cheap, and TensorFlow is
imported only when a helper that needs it is first used. The grading code
(``course_utils.grading``) is not part of this public API and is never
imported by it.
"""

from __future__ import annotations

import importlib
import os

# Quiet TensorFlow's C++ logs before anything imports it. Log lines on stderr
# clutter the book and can zero a test cell in nbgrader.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"

# One entry per module: the names it makes public. Each module's own
# ``__all__`` must equal its tuple here (a unit test checks that).
_PUBLIC: dict[str, tuple[str, ...]] = {
    "data": ("CLASS_NAMES", "FashionMNIST", "DataNotFoundError", "load_fashion_mnist"),
    "plotting": ("use_course_style", "plot_learning_curves", "plot_images"),
    "diagnostics": (
        "LayerStats",
        "activation_stats",
        "gradient_norms",
        "LayerStatsRecorder",
        "plot_layer_stats",
        "plot_gradient_norms",
    ),
    "initializers": (),
    "activations": (),
    "batchnorm": (),
    "clipping": (),
    "transfer": (),
    "optimizers": (),
    "schedules": (),
    "regularization": (),
}

_OWNER = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_OWNER)


def __getattr__(name: str):
    module_name = _OWNER.get(name)
    if module_name is None:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
