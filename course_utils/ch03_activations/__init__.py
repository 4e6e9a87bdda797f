"""Chapter 3, activation functions: NumPy references, custom Keras layers, their analysis."""
