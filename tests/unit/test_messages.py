"""Pure units: params of each method, the JSON-RPC envelope, and the cache records."""

from __future__ import annotations

import pytest

from ticktick_signon.core import messages
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.records import Cache, PendingSignon, Profile, Token
from ticktick_signon.errors import LEAVES, InvalidParams, InvalidRequest


def test_absent_params_give_defaults() -> None:
    assert messages.parse_start(None) == messages.StartParams("default", None, None, None, None, True)
    assert messages.parse_get_token(None) == messages.GetTokenParams("default", 0)
    assert messages.parse_profile(None) == messages.ProfileParams("default")
    assert messages.parse_sign_out(None) == messages.SignOutParams("default", False)


def test_complete_by_name_and_by_position() -> None:
    url = "http://127.0.0.1:8080/?state=s&code=c"
    assert messages.parse_complete({"redirectUrl": url}) == messages.CompleteParams(url, None)
    assert messages.parse_complete([url]) == messages.CompleteParams(url, None)
    assert messages.parse_complete({"redirectUrl": url, "profile": "w"}).profile == "w"


@pytest.mark.parametrize(
    ("parse", "params", "field"),
    [
        (messages.parse_complete, None, "redirectUrl"),
        (messages.parse_complete, {}, "redirectUrl"),
        (messages.parse_complete, {"redirectUrl": 5}, "redirectUrl"),
        (messages.parse_complete, [], "params"),
        (messages.parse_complete, ["a", "b"], "params"),
        (messages.parse_start, {"clientId": 5}, "clientId"),
        (messages.parse_start, {"listen": "yes"}, "listen"),
        (messages.parse_start, {"region": "mars"}, "region"),
        (messages.parse_start, ["positional"], "params"),
        (messages.parse_get_token, {"minValidSeconds": -1}, "minValidSeconds"),
        (messages.parse_get_token, {"minValidSeconds": "60"}, "minValidSeconds"),
        (messages.parse_get_token, {"minValidSeconds": 1.5}, "minValidSeconds"),
        (messages.parse_get_token, {"profile": "../etc"}, "profile"),
        (messages.parse_get_token, {"profile": ""}, None),
        (messages.parse_sign_out, {"forget": 1}, "forget"),
    ],
)
def test_wrong_types_are_invalid_params(parse, params, field) -> None:
    if field is None:  # an empty profile string means the default, not an error
        assert parse(params).profile == "default"
        return
    with pytest.raises(InvalidParams) as caught:
        parse(params)
    assert caught.value.data["field"] == field
    assert caught.value.code == -32602


def test_missing_redirect_url_lists_it() -> None:
    with pytest.raises(InvalidParams) as caught:
        messages.parse_complete({})
    assert caught.value.data["missing"] == ["redirectUrl"]


class TestEnvelope:
    def test_request_notification_response(self) -> None:
        assert messages.parse_envelope({"jsonrpc": "2.0", "id": 1, "method": "getToken"}) == messages.Envelope(
            "getToken", 1, None, True
        )
        assert messages.parse_envelope({"jsonrpc": "2.0", "method": "x", "params": []}).is_request is False
        assert messages.parse_envelope({"jsonrpc": "2.0", "id": "a", "result": 1}).method is None

    @pytest.mark.parametrize(
        ("obj", "reply_id"),
        [
            ([], None),
            ("text", None),
            ({"id": 3, "method": "getToken"}, 3),
            ({"jsonrpc": "1.0", "id": 3, "method": "getToken"}, 3),
            ({"jsonrpc": "2.0", "id": True, "method": "getToken"}, None),
            ({"jsonrpc": "2.0", "id": [1], "method": "getToken"}, None),
            ({"jsonrpc": "2.0", "id": 4, "method": 5}, 4),
            ({"jsonrpc": "2.0", "id": 4, "method": "getToken", "params": "x"}, 4),
        ],
    )
    def test_invalid_envelopes(self, obj: object, reply_id: object) -> None:
        with pytest.raises(InvalidRequest) as caught:
            messages.parse_envelope(obj)
        assert caught.value.data.get("id") == reply_id


def test_every_error_leaf_has_a_distinct_code_and_kind() -> None:
    codes = [leaf.code for leaf in LEAVES]
    kinds = [leaf.kind for leaf in LEAVES]
    assert len(set(codes)) == len(codes) and len(set(kinds)) == len(kinds)
    for leaf in LEAVES:
        error = leaf("Do something.", extra=1)
        assert error.to_dict() == {
            "code": leaf.code,
            "message": "Do something.",
            "data": {"kind": leaf.kind, "extra": 1},
        }


BASE = "https://ticktick.com"


class TestRecords:
    def test_cache_round_trips_through_json(self) -> None:
        cache = Cache(
            profiles={
                "default": Profile(
                    "id", "sec", "http://127.0.0.1:8080/", "ticktick", Token("t", "bearer", "s", 5), Issuer.at(BASE)
                )
            },
            pending={
                "st": PendingSignon(
                    "st", "default", "id", "sec", "http://127.0.0.1:8080/", "ticktick", "https://ticktick.com", 9
                )
            },
        )
        assert Cache.from_json(cache.to_json()) == cache

    @pytest.mark.parametrize(
        "doc",
        [
            [],
            {"version": 99},
            {"profiles": []},
            {"profiles": {"a": {"clientId": 5}}},
            {"profiles": {"a": {"token": {"accessToken": "t"}}}},
            {"profiles": {"a": {"token": {"accessToken": "t", "tokenType": "b", "scope": "s", "expiresAt": "soon"}}}},
            {"pendingSignons": {"s": {"state": "s"}}},
        ],
    )
    def test_wrong_shapes_raise_value_error(self, doc: object) -> None:
        with pytest.raises(ValueError):
            Cache.from_json(doc)

    def test_empty_profile_is_dropped(self) -> None:
        cache = Cache().with_profile("a", Profile(client_id="x")).with_profile("a", Profile())
        assert cache.profiles == {}
