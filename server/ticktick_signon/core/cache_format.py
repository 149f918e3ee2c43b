"""The cache document's rules, pure: its shape, and what makes a usable access token and expiry.

The one place these rules live: the cache reader applies them to every file it
reads, and ``oauth.parse_token_response`` applies the token rules to every
token answer, so a token is refused alike wherever it comes from. Import-light
(nothing imported at run time, not even typing) because ``ticktick-signon token``
loads it on its fast path.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself is not imported: `token` pays for every import
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1
#: The latest expiry every supported platform can turn into a date:
#: 3000-12-31 23:59:59 UTC, the limit of Windows' ``localtime``. Later ones
#: overflow ``time_t`` or the calendar somewhere (Python's ``time.localtime``
#: raises ``OverflowError`` or ``OSError``), and no real token lives that long.
MAX_UNIX_TIME = 32_535_215_999

_STRING_FIELDS = ("clientId", "clientSecret", "redirectUrl", "region")
_PENDING_FIELDS = ("state", "profile", "clientId", "clientSecret", "redirectUrl", "region", "authBase")


def access_token_problem(value: object) -> str | None:
    """Say why ``value`` cannot be an access token, or return None if it can.

    RFC 6749 (appendix A.12) allows printable ASCII only (``1*VSCHAR``); all
    blanks is no token either. This keeps line breaks and control characters
    out of HTTP headers, ``.env`` lines and the CLI's one-line output.
    """
    if not isinstance(value, str):
        return "must be a string"
    if not (value.isascii() and value.isprintable()) or not value.strip():
        return "must be printable ASCII and not blank"
    return None


def unix_time_problem(value: object) -> str | None:
    """Say why ``value`` cannot be an expiry (whole unix seconds), or return None if it can."""
    if not isinstance(value, int) or isinstance(value, bool):
        return "must be an integer"
    if not 0 < value <= MAX_UNIX_TIME:
        return f"must be a time between 1970 and the year 3000 (1 to {MAX_UNIX_TIME})"
    return None


def check_document(doc: object) -> dict[str, Any]:
    """Return ``doc`` with its optional members filled in, if it is a valid cache document.

    Unknown members are allowed (a newer version may add some); the records keep
    them for the next write (see ``records``).

    Raises:
        ValueError: what is wrong, naming the member (``profiles.work.token.expiresAt``)
            but never its value, which may be a secret. A pending sign-on is named
            without its key, which is its state.
    """
    if not isinstance(doc, dict):
        raise ValueError("the cache must be a JSON object")
    version = doc.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ValueError("its version is not 1 (another version of ticktick-signon wrote it)")
    profiles, pending = doc.get("profiles", {}), doc.get("pendingSignons", {})
    _require(isinstance(profiles, dict), "profiles", "must be an object")
    _require(isinstance(pending, dict), "pendingSignons", "must be an object")
    for name, profile in profiles.items():
        where = f"profiles.{_shown(name)}"
        _require(isinstance(profile, dict), where, "must be an object")
        for key in _STRING_FIELDS:
            _require(profile.get(key) is None or isinstance(profile[key], str), f"{where}.{key}", "must be a string")
        issuer = profile.get("issuer")
        _require(
            issuer is None or (isinstance(issuer, str) and issuer.lower().startswith(("http://", "https://"))),
            f"{where}.issuer",
            "must be an http(s) URL",
        )
        token = profile.get("token")
        if token is not None:
            _check_token(token, f"{where}.token")
    for entry in pending.values():
        where = "a pending sign-on"
        _require(isinstance(entry, dict), where, "must be an object")
        for key in _PENDING_FIELDS:
            _require(isinstance(entry.get(key), str), f"{where}'s {key}", "must be a string")
        _check(unix_time_problem(entry.get("expiresAt")), f"{where}'s expiresAt")
    return {**doc, "version": version, "profiles": profiles, "pendingSignons": pending}


def _check_token(token: object, where: str) -> None:
    if not isinstance(token, dict):
        raise ValueError(f"{where} must be an object")
    _check(access_token_problem(token.get("accessToken")), f"{where}.accessToken")
    for key in ("tokenType", "scope"):
        _require(isinstance(token.get(key), str), f"{where}.{key}", "must be a string")
    _check(unix_time_problem(token.get("expiresAt")), f"{where}.expiresAt")


def _shown(name: str) -> str:
    # A hand-edited name could carry terminal escapes or a megabyte of text into the error.
    return name if name.isascii() and name.isprintable() and len(name) <= 64 else "(a profile with an odd name)"


def _require(ok: bool, where: str, problem: str) -> None:
    if not ok:
        raise ValueError(f"{where} {problem}")


def _check(problem: str | None, where: str) -> None:
    if problem is not None:
        raise ValueError(f"{where} {problem}")
