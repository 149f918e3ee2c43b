"""The params of each protocol method, checked and typed; pure (no I/O).

Each ``parse_*`` takes the raw JSON ``params`` (an object, an array, or None
when the member is absent) and returns a frozen dataclass or raises
``InvalidParams`` naming the field. Unknown members are ignored, so newer
clients can talk to older helpers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticktick_signon.core.oauth import check_region
from ticktick_signon.errors import InvalidParams, InvalidRequest

DEFAULT_PROFILE = "default"
_PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_STRING = 8192

#: The token files ``importToken`` reads (besides ``auto``); imports/formats.py has a reader for each.
IMPORT_FORMATS = ("pyticktick", "ticktick-py", "ticktick-mcp")


@dataclass(frozen=True)
class StartParams:
    profile: str
    client_id: str | None
    client_secret: str | None
    redirect_url: str | None
    region: str | None
    listen: bool

    def credentials(self) -> dict[str, str | None]:
        """The credential fields by wire name, for ``oauth.resolve_credentials``."""
        return {
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "redirectUrl": self.redirect_url,
            "region": self.region,
        }


@dataclass(frozen=True)
class CompleteParams:
    redirect_url: str
    profile: str | None


@dataclass(frozen=True)
class GetTokenParams:
    profile: str
    min_valid_seconds: int


@dataclass(frozen=True)
class ProfileParams:
    profile: str


@dataclass(frozen=True)
class ImportParams:
    path: Path
    profile: str
    format: str
    force: bool


@dataclass(frozen=True)
class SignOutParams:
    profile: str
    forget: bool


def _by_name(params: Any, method: str) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise InvalidParams(f"Pass {method}'s params by name, as a JSON object.", field="params")
    return params


def _string(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParams(f"{key} must be a string.", field=key)
    if len(value) > _MAX_STRING:
        raise InvalidParams(f"{key} is too long.", field=key)
    return value or None


def _bool(params: dict[str, Any], key: str, default: bool) -> bool:
    value = params.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidParams(f"{key} must be true or false.", field=key)
    return value


def _profile(params: dict[str, Any]) -> str:
    """The ``profile`` member, ``default`` when it is absent (the methods that act on one profile)."""
    return _optional_profile(params) or DEFAULT_PROFILE


def _optional_profile(params: dict[str, Any]) -> str | None:
    """The ``profile`` member, None when it is absent (``completeSignon``: the state names the profile)."""
    value = _string(params, "profile")
    if value is not None and not _PROFILE_RE.fullmatch(value):
        raise InvalidParams(
            "profile must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
            field="profile",
        )
    return value


def parse_start(params: Any) -> StartParams:
    """Check ``startSignon`` params (all optional)."""
    p = _by_name(params, "startSignon")
    region = _string(p, "region")
    if region is not None:
        check_region(region)
    return StartParams(
        profile=_profile(p),
        client_id=_string(p, "clientId"),
        client_secret=_string(p, "clientSecret"),
        redirect_url=_string(p, "redirectUrl"),
        region=region,
        listen=_bool(p, "listen", True),
    )


def parse_complete(params: Any) -> CompleteParams:
    """Check ``completeSignon`` params: ``{redirectUrl, profile?}`` or ``[redirectUrl]``."""
    if isinstance(params, list):
        if len(params) != 1:
            raise InvalidParams("Pass completeSignon one positional param: [redirectUrl].", field="params")
        params = {"redirectUrl": params[0]}
    p = _by_name(params, "completeSignon")
    url = p.get("redirectUrl")
    if url is None or url == "":
        raise InvalidParams(
            "Give redirectUrl: the whole address the browser was sent to after signing in.",
            field="redirectUrl",
            missing=["redirectUrl"],
        )
    if not isinstance(url, str):
        raise InvalidParams("redirectUrl must be a string.", field="redirectUrl")
    return CompleteParams(redirect_url=url, profile=_optional_profile(p))


def parse_get_token(params: Any) -> GetTokenParams:
    """Check ``getToken`` params: ``profile?``, ``minValidSeconds?`` (a whole number >= 0)."""
    p = _by_name(params, "getToken")
    min_valid = p.get("minValidSeconds", 0)
    if min_valid is None:
        min_valid = 0
    if isinstance(min_valid, float) and min_valid.is_integer():
        min_valid = int(min_valid)
    if isinstance(min_valid, bool) or not isinstance(min_valid, int) or not 0 <= min_valid <= 2**31:
        raise InvalidParams("minValidSeconds must be a whole number of seconds, 0 or more.", field="minValidSeconds")
    return GetTokenParams(profile=_profile(p), min_valid_seconds=min_valid)


def parse_profile(params: Any, method: str = "getStatus") -> ProfileParams:
    """Check params that hold only ``profile?``."""
    return ProfileParams(profile=_profile(_by_name(params, method)))


def parse_sign_out(params: Any) -> SignOutParams:
    """Check ``signOut`` params: ``profile?``, ``forget?``."""
    p = _by_name(params, "signOut")
    return SignOutParams(profile=_profile(p), forget=_bool(p, "forget", False))


def parse_import(params: Any) -> ImportParams:
    """Check ``importToken`` params: ``path`` (absolute, ``~`` allowed), ``profile?``, ``format?``, ``force?``."""
    p = _by_name(params, "importToken")
    raw = _string(p, "path")
    if raw is None:
        raise InvalidParams("Give path: the token file to import.", field="path")
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # ~name of no known user (pathlib says "Could not determine home directory")
        raise InvalidParams(
            f"path starts with {raw.split('/')[0][:64]!r}, which names no user here.", field="path"
        ) from None
    if not path.is_absolute():
        raise InvalidParams("path must be absolute (the helper's working folder is not yours).", field="path")

    fmt = _string(p, "format") or "auto"
    if fmt not in ("auto", *IMPORT_FORMATS):
        allowed = ["auto", *IMPORT_FORMATS]
        raise InvalidParams(f"format must be one of {', '.join(allowed)}.", field="format", allowed=allowed)
    return ImportParams(path=path, profile=_profile(p), format=fmt, force=_bool(p, "force", False))


@dataclass(frozen=True)
class Envelope:
    """A decoded JSON-RPC 2.0 message: a request (has ``id``), a notification, or a response."""

    method: str | None
    id: int | str | None
    params: Any
    is_request: bool


def parse_envelope(obj: Any) -> Envelope:
    """Check the JSON-RPC 2.0 envelope of one decoded message.

    Raises:
        InvalidRequest: not an object, wrong ``jsonrpc``, bad ``id``/``method``/
            ``params``, or a batch; ``data.id`` carries the id when it is usable.
    """
    if isinstance(obj, list):
        raise InvalidRequest("Batches are not supported; send one request per message.")
    if not isinstance(obj, dict):
        raise InvalidRequest("A message must be a JSON object.")
    msg_id = obj.get("id")
    id_ok = "id" not in obj or (isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool))
    usable_id = msg_id if id_ok else None
    if obj.get("jsonrpc") != "2.0":
        raise InvalidRequest('Set "jsonrpc": "2.0" in every message.', id=usable_id)
    if not id_ok:
        raise InvalidRequest("id must be a string or an integer.")
    if "method" not in obj:
        # A response from the client; the helper sends no requests, so it is dropped.
        return Envelope(method=None, id=msg_id, params=None, is_request=False)
    method = obj["method"]
    if not isinstance(method, str) or not method:
        raise InvalidRequest("method must be a non-empty string.", id=usable_id)
    params = obj.get("params")
    if params is not None and not isinstance(params, (dict, list)):
        raise InvalidRequest("params must be an object or an array.", id=usable_id)
    return Envelope(method=method, id=msg_id, params=params, is_request="id" in obj)
