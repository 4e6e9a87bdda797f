"""Chapter 5, gradient clipping: the three clipping rules and a gradient-logging fit."""
