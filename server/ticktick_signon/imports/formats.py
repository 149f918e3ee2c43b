"""Neighbouring tools' token files (pyticktick, ticktick-py, ticktick-mcp), read into one record; pure.

Each reader takes a file's text, or environment variables, and returns a
``FoundToken`` or raises ``InvalidParams`` naming the source and what is wrong,
never a value: values are tokens and secrets. ``.env`` text is read by
python-dotenv, the reader pyticktick's own settings use, so a file means here
what it means to pyticktick.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ticktick_signon.core import pyticktick_names as names
from ticktick_signon.core.cache_format import access_token_problem, unix_time_problem
from ticktick_signon.core.messages import IMPORT_FORMATS
from ticktick_signon.errors import InvalidParams

log = logging.getLogger(__name__)

FORMATS = IMPORT_FORMATS  # the protocol names them (core/messages.py); a reader for each is here
#: ticktick-mcp keeps no redirect URL; its apps are registered with its fixed default.
TICKTICK_MCP_REDIRECT_URL = "http://localhost:8000/callback"
#: Files bigger than this are no token file (a token file is under 1 KiB).
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class FoundToken:
    """A token found in another tool's file, with whatever app settings were beside it.

    ``expires_at`` is None when the format stores no expiry (ticktick-mcp).
    """

    format: str
    access_token: str
    expires_at: int | None
    client_id: str | None = None
    client_secret: str | None = None
    redirect_url: str | None = None
    region: str = "ticktick"


def read_token_text(text: str, source: str, fmt: str = "auto") -> FoundToken:
    """Read a token file's text.

    Args:
        text: the whole file.
        source: how to name the file in errors (its path).
        fmt: ``"auto"`` or one of ``FORMATS``.

    Raises:
        InvalidParams: no token in a known format, or a malformed one; ``data.field`` is ``"path"``.
    """
    if fmt == "ticktick-py" or (fmt == "auto" and text.lstrip().startswith("{")):
        return _ticktick_py(_json_object(text, source), source)
    values = _dotenv(text, source)  # parsed once: each parse may log the lines it skipped
    if fmt == "auto":
        fmt = _detect(values, source)
    if fmt == "pyticktick":
        return read_pyticktick_settings(values, source)
    return _ticktick_mcp(values, source)


def read_pyticktick_settings(values: Mapping[str, str | None], source: str) -> FoundToken:
    """Read pyticktick's settings (a ``.env`` file's values, or the environment), as pyticktick does.

    The token is ``PYTICKTICK_V1_TOKEN`` (JSON ``{value, expiration}``) overlaid
    with ``PYTICKTICK_V1_TOKEN_VALUE`` and ``_EXPIRATION``: pyticktick's
    settings merge them so, and the separate lines win.

    Raises:
        InvalidParams: no token, or a malformed one.
    """
    values = _present(values)
    if not any(key.startswith(names.TOKEN) for key in values):
        split = f"{names.TOKEN_VALUE} and {names.TOKEN_EXPIRATION}"
        raise _bad(source, f"holds no {split}, nor {names.TOKEN}")
    token: dict[str, Any] = {}
    if names.TOKEN in values:
        try:
            token = json.loads(values[names.TOKEN])
        except ValueError as exc:
            raise _bad(source, f"has a {names.TOKEN} that is not JSON ({_position(exc)})") from None
        except RecursionError:
            raise _bad(source, f"has a {names.TOKEN} that is nested too deeply to be a token") from None
        if not isinstance(token, dict):
            raise _bad(source, f'has a {names.TOKEN} that is not a JSON object {{"value", "expiration"}}')
    if names.TOKEN_VALUE in values:
        token["value"] = values[names.TOKEN_VALUE]
    if names.TOKEN_EXPIRATION in values:
        token["expiration"] = values[names.TOKEN_EXPIRATION]
    return FoundToken(
        format="pyticktick",
        access_token=_access_token(token.get("value"), names.TOKEN_VALUE, source),
        expires_at=_expiry(token.get("expiration"), names.TOKEN_EXPIRATION, source),
        client_id=values.get(names.CLIENT_ID) or None,
        client_secret=values.get(names.CLIENT_SECRET) or None,
        redirect_url=values.get(names.OAUTH_REDIRECT_URL) or None,
        region=_region(values.get(names.BASE_URL)),
    )


def _detect(values: Mapping[str, str | None], source: str) -> str:
    """The format of a ``.env`` file's values (a JSON file is ticktick-py's, told apart before)."""
    keys = {key.upper() for key in values}
    if any(key.startswith(names.TOKEN) for key in keys):
        return "pyticktick"
    if "TICKTICK_ACCESS_TOKEN" in keys:
        return "ticktick-mcp"
    raise _bad(
        source,
        f"holds no token ticktick-signon knows: a pyticktick .env ({names.TOKEN}...), "
        "ticktick-py's .token-oauth (JSON with access_token) or ticktick-mcp's .env (TICKTICK_ACCESS_TOKEN)",
    )


def _ticktick_py(obj: dict[str, Any], source: str) -> FoundToken:
    return FoundToken(
        format="ticktick-py",
        access_token=_access_token(obj.get("access_token"), "access_token", source),
        expires_at=_expiry(obj.get("expire_time"), "expire_time", source),
    )


def _ticktick_mcp(values: Mapping[str, str | None], source: str) -> FoundToken:
    values = _present(values)
    return FoundToken(
        format="ticktick-mcp",
        access_token=_access_token(values.get("TICKTICK_ACCESS_TOKEN"), "TICKTICK_ACCESS_TOKEN", source),
        expires_at=None,
        client_id=values.get("TICKTICK_CLIENT_ID") or None,
        client_secret=values.get("TICKTICK_CLIENT_SECRET") or None,
        redirect_url=TICKTICK_MCP_REDIRECT_URL,
        region=_region(values.get("TICKTICK_BASE_URL") or values.get("TICKTICK_AUTH_URL")),
    )


def _present(values: Mapping[str, str | None]) -> dict[str, str]:
    """The variables that have a value, by their upper-case names (names match in any case).

    A bare ``KEY`` line of a ``.env`` file (no ``=``) reads as None, and counts as absent.
    """
    return {key.upper(): value for key, value in values.items() if value is not None}


def _dotenv(text: str, source: str) -> dict[str, str | None]:
    """A ``.env`` text's values, as python-dotenv's ``dotenv_values(interpolate=False)`` reads them.

    No interpolation: a ${VAR} in a value stays as written, and nothing is read from the
    environment. Lines python-dotenv cannot parse are skipped as it skips them, but said
    in one log line with their count: python-dotenv's own reader logs a warning for each,
    and a file of broken lines would fill the helper's log.
    """
    from dotenv.parser import parse_stream  # deferred: only an import reads .env files

    values: dict[str, str | None] = {}
    skipped = 0
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            skipped += 1
        elif binding.key is not None:
            values[binding.key] = binding.value
    if skipped:
        log.warning("Skipped %d line(s) of %s that are not NAME=value", skipped, source)
    return values


def _json_object(text: str, source: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except ValueError as exc:
        import ast  # deferred: only this fallback needs it

        try:  # ticktick-py also keeps the same dict as a Python literal (in an environment variable)
            obj = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise _bad(source, f"is not JSON ({_position(exc)})") from None
    except RecursionError:  # valid JSON nested past the parser's stack: no token file is
        raise _bad(source, "is nested too deeply to be a token file") from None
    if not isinstance(obj, dict):
        raise _bad(source, "is not a JSON object with access_token and expire_time")
    return obj


def _access_token(value: object, name: str, source: str) -> str:
    if value is None or value == "":
        raise _bad(source, f"has no {name}")
    problem = access_token_problem(value)
    if problem is not None:
        raise _bad(source, f"has a {name} that is no token (it {problem})")
    assert isinstance(value, str)  # access_token_problem refuses every non-string
    return value.strip()


def _expiry(value: object, name: str, source: str) -> int:
    if value is None or value == "":
        raise _bad(source, f"has no {name}")
    # isascii(): str.isdigit() is also true for "²" or "①", which int() refuses; the length keeps
    # int() far from its digit limit (an expiry has 10 digits).
    digits = value.strip() if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) <= 20:
        value = int(digits)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    problem = unix_time_problem(value)
    if problem is not None:
        raise _bad(source, f"has a {name} that is no time in Unix seconds (it {problem})")
    return value  # type: ignore[return-value]


def _region(base_url: str | None) -> str:
    return "dida365" if base_url and "dida365." in base_url.lower() else "ticktick"


def _position(exc: ValueError) -> str:
    # json's message names a line and column only, never the text around them.
    return f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "unreadable"


def _bad(source: str, problem: str) -> InvalidParams:
    return InvalidParams(f"Cannot import from {source}: it {problem}.", field="path")
