"""Chapter 6, transfer learning: the two tasks, cloning with weights, freezing layers."""
