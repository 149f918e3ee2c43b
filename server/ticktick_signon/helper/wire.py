"""The service's results as the protocol's JSON results (docs/protocol.md, docs/protocol.schema.json).

The one place where Python's names become the wire's camelCase members. Each
function maps one result type of ``signin/results.py`` (or ``ImportResult``)
to the ``result`` member of one method's reply; the member order is the
documented one. Pure: no pygls, nothing heavy, so the CLI's ``--json`` output
uses it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: importing imports/ would cost the helper's start-up
    from ticktick_signon.imports.importer import ImportResult
    from ticktick_signon.signin.results import ProfileStatus, SignOutReport, StartResult, TokenResult, VerifyResult


def start_result(result: StartResult) -> dict[str, Any]:
    """``startSignon``'s result."""
    return {
        "authorizeUrl": result.authorize_url,
        "state": result.state,
        "redirectUrl": result.redirect_url,
        "profile": result.profile,
        "listening": result.listening,
        "stateExpiresAt": result.state_expires_at,
    }


def token_result(result: TokenResult) -> dict[str, Any]:
    """``getToken``'s and ``completeSignon``'s result (and the CLI's ``token --format json``)."""
    return {
        "accessToken": result.access_token,
        "tokenType": result.token_type,
        "scope": result.scope,
        "expiresAt": result.expires_at,
        "expiresIn": result.expires_in,
        "profile": result.profile,
    }


def status_result(status: ProfileStatus) -> dict[str, Any]:
    """``getStatus``'s result (and the CLI's ``status --json``)."""
    return {
        "profile": status.profile,
        "signedIn": status.signed_in,
        "expiresAt": status.expires_at,
        "expiresIn": status.expires_in,
        "expiresAtEstimated": status.expires_at_estimated,
        "pendingSignon": status.pending_signon,
        "region": status.region,
        "clientId": status.client_id,
        "sandbox": status.sandbox,
        "configPath": status.config_path,
        "issuer": status.issuer.to_wire() if status.issuer else None,
    }


def sign_out_result(report: SignOutReport) -> dict[str, Any]:
    """``signOut``'s result: ``signedOut`` is whether a token was removed (the rest is the CLI's to say)."""
    return {"signedOut": report.token_removed}


def verify_result(result: VerifyResult) -> dict[str, Any]:
    """``verifyToken``'s result."""
    return {"profile": result.profile, "valid": result.valid, "checkedAt": result.checked_at}


def import_result(result: ImportResult) -> dict[str, Any]:
    """``importToken``'s result."""
    return {
        "profile": result.profile,
        "format": result.format,
        "expiresAt": result.expires_at,
        "expiresIn": result.expires_in,
        "expiresAtEstimated": result.expires_at_estimated,
        "clientId": result.client_id,
    }
