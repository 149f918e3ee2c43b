"""helper/wire.py maps every field of the service's results to the protocol's camelCase member, in order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ticktick_signon.core.issuers import Issuer
from ticktick_signon.helper import wire
from ticktick_signon.imports.importer import ImportResult
from ticktick_signon.signin.results import ProfileStatus, SignOutReport, StartResult, TokenResult, VerifyResult


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


SAMPLES: list[tuple[Any, Any]] = [
    (
        wire.start_result,
        StartResult("https://ticktick.com/oauth/authorize?x", "st", "http://127.0.0.1:8080/", "p", True, 9),
    ),
    (wire.token_result, TokenResult("tok", "bearer", "tasks:read", 100, 40, "p")),
    (
        wire.status_result,
        ProfileStatus(
            "p",
            True,
            100,
            40,
            False,
            True,
            "ticktick",
            "cid",
            False,
            "/c/config.json",
            Issuer.at("https://ticktick.com"),
        ),
    ),
    (wire.status_result, ProfileStatus("p", False, None, None, False, False, None, None, False, "/c/config.json")),
    (wire.verify_result, VerifyResult("p", False, 7)),
    (wire.import_result, ImportResult("p", "pyticktick", 100, 40, True, None)),
]


@pytest.mark.parametrize(("to_wire", "result"), SAMPLES, ids=lambda v: type(v).__name__)
def test_every_field_becomes_its_camel_case_member(to_wire: Any, result: Any) -> None:
    fields = dataclasses.fields(result)
    assert list(to_wire(result).items()) == [(camel(f.name), plain(getattr(result, f.name))) for f in fields]


def plain(value: Any) -> Any:
    """A field's value as the wire carries it: an issuer as its object (getStatus's ``issuer``)."""
    return value.to_wire() if isinstance(value, Issuer) else value


def test_sign_out_says_only_whether_a_token_went() -> None:
    # The rest of the report is the CLI's to say (docs/protocol.md: signOut's result is {signedOut}).
    assert wire.sign_out_result(SignOutReport(True, False, True)) == {"signedOut": True}
    assert wire.sign_out_result(SignOutReport(False, True, True)) == {"signedOut": False}


def test_results_are_frozen() -> None:
    for _, result in SAMPLES:
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.profile = "other"
