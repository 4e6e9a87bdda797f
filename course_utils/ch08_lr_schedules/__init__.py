"""Chapter 8, learning-rate schedules: schedule formulas, 1cycle, the learning-rate finder."""
