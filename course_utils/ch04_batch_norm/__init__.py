"""Chapter 4, batch normalization: the forward pass in NumPy and folding BN into Dense layers."""
