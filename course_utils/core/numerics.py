"""Constants more than one chapter computes with, defined once.

SELU's constants appear in chapter 2 (how a signal propagates through a SELU
network under LeCun initialization) and chapter 3 (SELU itself and the
fixed point they produce), so they live here rather than in either chapter.
"""

from __future__ import annotations

__all__ = ["SELU_ALPHA", "SELU_SCALE"]

#: SELU's constants as published by Klambauer et al. (2017), to 16 digits.
#: Chapter 3 solves the fixed-point equations for them again
#: (:func:`course_utils.solve_selu_parameters`) and a unit test compares.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
