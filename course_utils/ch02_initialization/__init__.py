"""Chapter 2, weight initialization: variance-scaling schemes and how a signal propagates."""
