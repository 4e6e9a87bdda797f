"""Chapter 1, unstable gradients: per-layer activation and gradient statistics."""
