"""A profile is bound to its issuer: the record, the migration of old caches, the one send check (pure)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from ticktick_signon.core import issuers
from ticktick_signon.core.issuers import UNRECORDED_LOCAL, Issuer
from ticktick_signon.core.records import Cache, PendingSignon, Profile, Token
from ticktick_signon.errors import IssuerMismatch

TICKTICK = Issuer.at("https://ticktick.com")
DIDA = Issuer.at("https://dida365.com")
SANDBOX = Issuer.at("http://127.0.0.1:8765/")
TOKEN = {"accessToken": "t", "tokenType": "bearer", "scope": "s", "expiresAt": 5}


@pytest.mark.parametrize(
    ("url", "wire"),
    [
        (
            "https://ticktick.com",
            {"kind": "ticktick", "url": "https://ticktick.com", "local": False, "name": "TickTick"},
        ),
        (
            "HTTPS://Dida365.com:443/",
            {"kind": "dida365", "url": "https://dida365.com", "local": False, "name": "Dida365"},
        ),
        (
            "http://127.0.0.1:8765/",
            {"kind": "custom", "url": "http://127.0.0.1:8765", "local": True, "name": "the sandbox"},
        ),
        ("http://[::1]:9/", {"kind": "custom", "url": "http://[::1]:9", "local": True, "name": "the sandbox"}),
        (
            "https://Proxy.Example/tt/",
            {"kind": "custom", "url": "https://proxy.example/tt", "local": False, "name": "proxy.example"},
        ),
    ],
)
def test_an_issuer_is_its_normalized_url_and_says_what_it_is(url: str, wire: dict[str, object]) -> None:
    assert Issuer.at(url).to_wire() == wire


def test_a_local_issuer_of_unrecorded_address() -> None:
    assert UNRECORDED_LOCAL.to_wire() == {"kind": "custom", "url": None, "local": True, "name": "the sandbox"}


class TestMigration:
    """Caches written before issuers were recorded: the issuer is derived once, on read."""

    def test_a_sandbox_profile_is_a_local_issuer_of_unknown_address(self) -> None:
        old = Profile.from_json({"clientId": "c", "token": TOKEN, "sandbox": True})
        assert old.issuer == UNRECORDED_LOCAL and old.sandbox

    def test_a_dida365_token_is_dida365s_and_any_other_ticktick(self) -> None:
        assert Profile.from_json({"region": "dida365", "token": TOKEN}).issuer == DIDA
        assert Profile.from_json({"region": "ticktick", "token": TOKEN}).issuer == TICKTICK
        assert Profile.from_json({"token": TOKEN}).issuer == TICKTICK
        assert Profile.from_json({"clientId": "c", "clientSecret": "s"}).issuer == TICKTICK  # a secret is bound too

    def test_a_profile_with_nothing_an_issuer_gave_has_none(self) -> None:
        assert Profile.from_json({"clientId": "c", "redirectUrl": "http://127.0.0.1:8080/"}).issuer is None

    def test_a_recorded_issuer_wins_and_the_sandbox_mark_follows_it(self) -> None:
        assert Profile.from_json({"token": TOKEN, "issuer": "http://127.0.0.1:8765", "region": "dida365"}).issuer == (
            SANDBOX
        )
        assert Profile.from_json({"token": TOKEN, "issuer": "https://ticktick.com", "sandbox": True}).sandbox is False

    def test_the_new_form_is_written_with_the_mark_older_versions_read(self) -> None:
        assert Profile(client_id="c", issuer=SANDBOX).to_json() == {
            "clientId": "c",
            "issuer": "http://127.0.0.1:8765",
            "sandbox": True,
        }
        assert Profile(client_id="c", issuer=TICKTICK).to_json() == {"clientId": "c", "issuer": "https://ticktick.com"}
        assert Profile(client_id="c", issuer=UNRECORDED_LOCAL).to_json() == {"clientId": "c", "sandbox": True}
        for profile in (Profile(client_id="c", issuer=SANDBOX), Profile(client_id="c", issuer=UNRECORDED_LOCAL)):
            assert Profile.from_json(profile.to_json()) == profile

    def test_an_issuer_that_is_no_url_makes_the_cache_unusable(self) -> None:
        with pytest.raises(ValueError, match=r"profiles\.default\.issuer"):
            Cache.from_json({"profiles": {"default": {"issuer": 7}}})
        with pytest.raises(ValueError, match=r"profiles\.default\.issuer"):
            Cache.from_json({"profiles": {"default": {"issuer": "file:///etc"}}})


class TestTheOneCheck:
    def test_the_same_issuer_is_accepted_in_any_spelling(self) -> None:
        issuers.check_send(TICKTICK, Issuer.at("https://TickTick.com/"), "token", "default")
        issuers.check_send(None, SANDBOX, "token", "default")  # nothing recorded: nothing to protect

    @pytest.mark.parametrize(
        ("owner", "destination"),
        [
            (TICKTICK, SANDBOX),
            (TICKTICK, DIDA),
            (DIDA, TICKTICK),
            (SANDBOX, TICKTICK),
            (SANDBOX, Issuer.at("http://127.0.0.1:9999")),
            (TICKTICK, Issuer.at("https://proxy.example")),
            (UNRECORDED_LOCAL, TICKTICK),
        ],
    )
    def test_anything_else_is_refused_naming_both_providers(self, owner: Issuer, destination: Issuer) -> None:
        with pytest.raises(IssuerMismatch) as caught:
            issuers.check_send(owner, destination, "client secret", "work")
        error = caught.value
        assert error.code == -32010 and error.exit_code == 11
        assert error.data == {
            "kind": "issuerMismatch",
            "profile": "work",
            "issuer": owner.to_wire(),
            "provider": destination.to_wire(),
        }
        assert owner.name in error.message and destination.name in error.message
        assert str(destination.url) in error.message and "client secret" in error.message

    def test_an_unrecorded_local_issuer_accepts_any_local_provider(self) -> None:
        # The sandbox's port changes on every run; what it issued is good for no remote provider.
        issuers.check_send(UNRECORDED_LOCAL, SANDBOX, "token", "sandbox")


class TestUnknownMembers:
    """D16: a newer version's members survive this version's writes, where their part is not rebuilt."""

    DOC: ClassVar[dict[str, Any]] = {
        "version": 1,
        "newTop": {"a": 1},
        "profiles": {
            "a": {"clientId": "c", "newProfile": [1], "token": {**TOKEN, "refreshToken": "r"}},
            "b": {"clientId": "d"},
        },
        "pendingSignons": {
            "st": {
                "state": "st",
                "profile": "a",
                "clientId": "c",
                "clientSecret": "s",
                "redirectUrl": "http://127.0.0.1:8080/",
                "region": "ticktick",
                "authBase": "https://ticktick.com",
                "expiresAt": 9,
                "newPending": True,
            }
        },
    }

    def test_untouched_parts_keep_them(self) -> None:
        cache = Cache.from_json(self.DOC)
        written = cache.with_profile("b", Profile(client_id="e")).to_json()
        assert written["newTop"] == {"a": 1}
        assert written["profiles"]["a"]["newProfile"] == [1]
        assert written["profiles"]["a"]["token"]["refreshToken"] == "r"
        assert written["pendingSignons"]["st"]["newPending"] is True

    def test_an_edited_profile_keeps_its_own_and_a_rebuilt_part_has_none(self) -> None:
        cache = Cache.from_json(self.DOC)
        edited = dataclasses.replace(cache.profile("a"), token=None)
        assert cache.with_profile("a", edited).to_json()["profiles"]["a"] == {
            "clientId": "c",
            "newProfile": [1],
            "issuer": "https://ticktick.com",
        }
        rebuilt = Profile(client_id="c", token=Token("t2", "bearer", "s", 6))
        assert cache.with_profile("a", rebuilt).to_json()["profiles"]["a"] == {
            "clientId": "c",
            "token": {"accessToken": "t2", "tokenType": "bearer", "scope": "s", "expiresAt": 6},
        }

    def test_this_versions_members_win_over_extras_and_secrets_stay_out_of_repr(self) -> None:
        cache = Cache.from_json(self.DOC)
        assert "refreshToken" not in repr(cache) and "'r'" not in repr(cache)
        pending = PendingSignon("st", "a", "c", "s", "u", "ticktick", "https://ticktick.com", 9, extra={"state": "x"})
        assert pending.to_json()["state"] == "st"
