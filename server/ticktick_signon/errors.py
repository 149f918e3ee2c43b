"""The one error tree of ticktick-signon; every leaf carries its JSON-RPC code and kind.

Clients branch on ``code`` (or ``data.kind``), never on the message text::

    SignonError                      (base; never raised itself)
    ├── ProtocolError
    │   ├── ParseError               -32700 parseError
    │   ├── InvalidRequest           -32600 invalidRequest
    │   ├── MethodNotFound           -32601 methodNotFound
    │   ├── InvalidParams            -32602 invalidParams
    │   └── RequestCancelled         -32800 requestCancelled
    ├── TokenError
    │   ├── NotSignedIn              -32001 notSignedIn
    │   └── TokenExpired             -32002 tokenExpired
    ├── RedirectError
    │   ├── NoPendingSignon          -32003 noPendingSignon
    │   ├── StateMismatch            -32004 stateMismatch
    │   └── AuthorizationDenied      -32005 authorizationDenied
    ├── UpstreamError
    │   ├── TokenExchangeFailed      -32006 tokenExchangeFailed
    │   ├── NetworkError             -32007 networkError
    │   └── ProviderError            -32009 providerError
    ├── ConfigUnreadable             -32008 configUnreadable
    ├── IssuerMismatch               -32010 issuerMismatch
    └── InternalError                -32603 internalError

Messages are one sentence saying what to do next. They never contain a client
secret, an authorization code or a token: callers build them from fixed text
and non-secret values only.
"""

from __future__ import annotations

from typing import Any


class SignonError(Exception):
    """Base of every error the project raises on purpose."""

    code: int = -32603
    kind: str = "internalError"
    #: Exit status of the CLI when this error ends a command.
    exit_code: int = 1

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data: dict[str, Any] = {"kind": self.kind, **data}

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-RPC ``error`` object: ``{code, message, data}``."""
        return {"code": self.code, "message": self.message, "data": dict(self.data)}


class ProtocolError(SignonError):
    """The request itself is malformed."""

    exit_code = 2


class ParseError(ProtocolError):
    code, kind = -32700, "parseError"


class InvalidRequest(ProtocolError):
    code, kind = -32600, "invalidRequest"


class MethodNotFound(ProtocolError):
    code, kind = -32601, "methodNotFound"


class InvalidParams(ProtocolError):
    code, kind = -32602, "invalidParams"


class RequestCancelled(ProtocolError):
    code, kind = -32800, "requestCancelled"


class TokenError(SignonError):
    """The cached token cannot be handed out."""


class NotSignedIn(TokenError):
    code, kind, exit_code = -32001, "notSignedIn", 3


class TokenExpired(TokenError):
    code, kind, exit_code = -32002, "tokenExpired", 4


class RedirectError(SignonError):
    """The redirect URL does not finish a live sign-on."""

    exit_code = 6


class NoPendingSignon(RedirectError):
    code, kind = -32003, "noPendingSignon"


class StateMismatch(RedirectError):
    code, kind = -32004, "stateMismatch"


class AuthorizationDenied(RedirectError):
    code, kind = -32005, "authorizationDenied"


class UpstreamError(SignonError):
    """TickTick (its token endpoint or its API) could not be used."""

    exit_code = 7


class TokenExchangeFailed(UpstreamError):
    code, kind = -32006, "tokenExchangeFailed"


class NetworkError(UpstreamError):
    code, kind, exit_code = -32007, "networkError", 8


class ProviderError(UpstreamError):
    """TickTick's API answered in a way that says nothing about the token (e.g. HTTP 403 or 500)."""

    code, kind = -32009, "providerError"


class ConfigUnreadable(SignonError):
    code, kind, exit_code = -32008, "configUnreadable", 5


class IssuerMismatch(SignonError):
    """A profile's token or client secret would go to another provider than the one that issued it.

    Nothing was sent. ``data``: ``profile``, ``issuer`` (the profile's provider)
    and ``provider`` (where it would have gone), each as getStatus's ``issuer``
    object; URLs only, never a secret.
    """

    code, kind, exit_code = -32010, "issuerMismatch", 11


class InternalError(SignonError):
    code, kind = -32603, "internalError"


#: Every leaf, for documentation checks and clients that map codes.
LEAVES: tuple[type[SignonError], ...] = (
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    RequestCancelled,
    NotSignedIn,
    TokenExpired,
    NoPendingSignon,
    StateMismatch,
    AuthorizationDenied,
    TokenExchangeFailed,
    NetworkError,
    ProviderError,
    ConfigUnreadable,
    IssuerMismatch,
    InternalError,
)
