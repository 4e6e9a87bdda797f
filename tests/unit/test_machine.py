"""course_utils.machine_description: the hardware named in the book's prose."""

from __future__ import annotations

import os

import pytest

from course_utils import machine_description

INTEL = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R)   Gold 6230 CPU @ 2.10GHz
processor\t: 1
model name\t: Intel(R) Xeon(R)   Gold 6230 CPU @ 2.10GHz
"""
ARM = """processor\t: 0
BogoMIPS\t: 108.00
Hardware\t: BCM2835
"""


def test_names_core_count_and_model():
    assert machine_description(INTEL, cores=2) == "2-core Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"
    assert machine_description(ARM, cores=4) == "4-core BCM2835"


def test_unknown_model_still_names_the_cores():
    assert machine_description("", cores=8) == "8-core CPU"


def test_defaults_describe_this_machine():
    text = machine_description()
    assert text.startswith(f"{os.cpu_count()}-core ")
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            first = next((line for line in f if line.startswith("model name")), None)
        if first is not None:
            assert " ".join(first.split(":", 1)[1].split()) in text


@pytest.mark.parametrize("cores", [0, -1, 2.0, True, "2"])
def test_bad_core_count_is_a_clear_error(cores):
    with pytest.raises(ValueError, match="cores must be a positive integer, got"):
        machine_description(INTEL, cores=cores)
