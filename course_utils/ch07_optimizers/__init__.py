"""Chapter 7, optimizers: NumPy optimizers checked against Keras, and their experiments."""
