"""TICKTICK_SIGNON_HTTP_TIMEOUT: only a finite, bounded number of seconds is taken."""

from __future__ import annotations

import logging

import pytest

from ticktick_signon.upstream.http import (
    DEFAULT_TIMEOUT_SECONDS,
    ENV_HTTP_TIMEOUT,
    MAX_TIMEOUT_SECONDS,
    timeout_from_env,
)


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "nan", "inf", "-inf", "1e10", "1e300", "601", ""])
def test_unusable_values_fall_back_to_the_default_with_a_warning(raw: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ticktick_signon.upstream.http"):
        assert timeout_from_env({ENV_HTTP_TIMEOUT: raw}) == DEFAULT_TIMEOUT_SECONDS
    assert ENV_HTTP_TIMEOUT in caplog.text


@pytest.mark.parametrize("raw, expected", [("1", 1.0), ("0.5", 0.5), ("600", MAX_TIMEOUT_SECONDS), (" 30 ", 30.0)])
def test_usable_values_are_taken_silently(raw: str, expected: float, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert timeout_from_env({ENV_HTTP_TIMEOUT: raw}) == expected
    assert not caplog.records


def test_unset_is_the_default() -> None:
    assert timeout_from_env({}) == DEFAULT_TIMEOUT_SECONDS
