"""``check_alpha``: every value that is not a number in [0, 1] is one UsageError, whatever its type."""

from __future__ import annotations

import pytest

from adain.errors import UsageError
from adain.ops.mixing import check_alpha


@pytest.mark.parametrize("value", [0, 0.25, 1, "0.5", True])
def test_alpha_in_range_is_a_float(value):
    assert check_alpha(value) == float(value)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), float("inf"), "0.5x", "", None, [0.5], object()])
def test_anything_else_is_one_usage_error(value):
    with pytest.raises(UsageError, match="alpha"):
        check_alpha(value)


def test_the_message_names_the_option_as_the_caller_calls_it():
    with pytest.raises(UsageError, match=r"^--alpha must be in \[0, 1\], got 2$"):
        check_alpha(2, "--alpha")
    with pytest.raises(UsageError, match=r"^alpha must be a number in \[0, 1\], got 'x'$"):
        check_alpha("x")
