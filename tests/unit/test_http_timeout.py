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


@pytest.mark.parametrize(
    ("url", "who"),
    [
        ("https://ticktick.com/oauth/token", "TickTick"),
        ("https://api.ticktick.com/open/v1/project", "TickTick"),
        ("https://dida365.com/oauth/token", "Dida365"),
        ("http://127.0.0.1:8765/oauth/token", "the provider at 127.0.0.1"),
        ("https://evil-ticktick.com/oauth/token", "the provider at evil-ticktick.com"),
    ],
)
def test_a_network_error_names_the_provider_that_did_not_answer(url: str, who: str) -> None:
    """A sandbox or test provider that is down is not reported as TickTick being unreachable."""
    import httpx

    from ticktick_signon.upstream.http import network_error

    refused = network_error(httpx.ConnectError("refused"), url, 20, "try again")
    assert refused.message == f"Could not reach {who}; check your connection and try again."
    late = network_error(httpx.ReadTimeout("late"), url, 20, "try again")
    assert late.message.startswith(f"{who} did not answer in time")
