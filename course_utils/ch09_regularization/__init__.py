"""Chapter 9, regularization: MC dropout, calibration and weight statistics."""
