"""The shared figure style and a few plots every chapter uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["use_course_style", "plot_learning_curves", "plot_images"]

#: Colour-blind-safe palette (Okabe and Ito), used in this order by every figure.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)

_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "legend.frameon": False,
    "font.size": 10,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use_course_style() -> None:
    """Applies the course's matplotlib style to every later figure."""
    mpl.rcParams.update(_STYLE)


def plot_learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    metrics: Sequence[str] = ("loss", "accuracy"),
    *,
    validation: bool = True,
    axes: Sequence[plt.Axes] | None = None,
) -> np.ndarray:
    """Plots learning curves of several runs side by side, one panel a metric.

    Args:
        histories: run label -> ``history.history`` dict of a Keras ``fit``
            (or any mapping metric name -> values per epoch).
        metrics: the metrics to draw, one panel each.
        validation: also draw ``val_<metric>`` dashed, when present.
        axes: axes to draw on (one per metric); new ones by default.

    Returns:
        The array of axes.

    Raises:
        ValueError: if a metric is missing from every run.
    """
    if not histories:
        raise ValueError("`histories` is empty: pass at least one run.")
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4),
                               squeeze=False)
        axes = axes[0]
    axes = np.asarray(axes).ravel()
    if len(axes) != len(metrics):
        raise ValueError(
            f"Expected one axis per metric ({len(metrics)}). Received {len(axes)} axes."
        )
    for ax, metric in zip(axes, metrics):
        if not any(metric in history for history in histories.values()):
            raise ValueError(
                f"Metric {metric!r} is in no history. Available: "
                f"{sorted({k for h in histories.values() for k in h})}"
            )
        for i, (label, history) in enumerate(histories.items()):
            color = PALETTE[i % len(PALETTE)]
            if metric in history:
                epochs = np.arange(1, len(history[metric]) + 1)
                ax.plot(epochs, history[metric], color=color, label=f"{label}")
            if validation and f"val_{metric}" in history:
                values = history[f"val_{metric}"]
                ax.plot(np.arange(1, len(values) + 1), values, color=color,
                        linestyle="--", label=f"{label} (valid)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
    axes[-1].legend(fontsize="small")
    return axes


def plot_images(
    images: np.ndarray,
    labels: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    *,
    n_cols: int = 8,
) -> plt.Figure:
    """Shows a grid of grayscale images with their class names.

    Args:
        images: array of shape ``(n, height, width)``.
        labels: optional label per image.
        class_names: names indexed by label.
        n_cols: images per row.

    Returns:
        The figure.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(
            f"Expected images of shape (n, height, width). Received shape {images.shape}."
        )
    n_rows = int(np.ceil(len(images) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.2 * n_cols, 1.4 * n_rows),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="binary")
        if labels is not None:
            name = class_names[labels[i]] if class_names is not None else str(labels[i])
            ax.set_title(name, fontsize=8)
    return fig
