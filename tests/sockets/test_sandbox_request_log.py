"""The sandbox's window: one line per request (never a secret, code, verifier or token), and its refusals' words."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.fake_browser import follow_authorize
from ticktick_signon.core import oauth
from ticktick_signon.sandbox import SandboxClient, SandboxProvider

REDIRECT = "http://127.0.0.1:8080/"
SECRET = "s3cret-not-for-logs"


def _sandbox(lines: list[str], **kwargs: object) -> SandboxProvider:
    return SandboxProvider((SandboxClient("my-app", SECRET),), request_log=lines.append, **kwargs)  # type: ignore[arg-type]


def test_each_request_is_one_line_with_method_path_outcome_and_reason_and_no_secret() -> None:
    lines: list[str] = []
    with _sandbox(lines) as sandbox:
        verifier = "v" * 50
        url = oauth.build_authorize_url(sandbox.base_url, "my-app", REDIRECT, "the-state-xyz")
        url += "&code_challenge_method=S256&code_challenge=" + "c" * 43
        location = follow_authorize(url)
        code = parse_qs(urlsplit(location).query)["code"][0]
        token_url = f"{sandbox.base_url}/oauth/token"
        form = {"code": code, "grant_type": "authorization_code", "scope": oauth.SCOPE, "redirect_uri": REDIRECT}
        wrong = httpx.post(token_url, data={**form, "code_verifier": verifier}, auth=("my-app", "wrong-secret"))
        good = httpx.post(token_url, data={**form, "code_verifier": verifier}, auth=("my-app", SECRET))
        access_token = good.json()["access_token"]
        httpx.get(f"{sandbox.base_url}/open/v1/project", headers={"Authorization": f"Bearer {access_token}"})
        httpx.get(f"{sandbox.base_url}/oauth/authorize", params={"client_id": "my-ap", "redirect_uri": REDIRECT})
    assert wrong.status_code == 401
    assert len(lines) == 6, lines
    authorize_page, decision, refused, issued, api, unknown = lines
    assert "GET /oauth/authorize 200" in authorize_page and "approval page" in authorize_page
    assert "POST /oauth/authorize/decision 302" in decision and "allowed" in decision
    assert "POST /oauth/token 401" in refused and "invalid_client" in refused
    assert "POST /oauth/token 200" in issued and "token issued" in issued
    assert "GET /open/v1/project 200" in api
    assert "GET /oauth/authorize 400" in unknown and "'my-ap'" in unknown and "'my-app'" in unknown
    for line in lines:
        assert "\n" not in line
        for secret in (SECRET, "wrong-secret", code, verifier, "c" * 43, access_token, "the-state-xyz"):
            assert secret not in line, (secret, line)


def test_a_denied_sign_in_and_an_unknown_path_are_logged_with_their_reason() -> None:
    lines: list[str] = []
    with _sandbox(lines) as sandbox:
        follow_authorize(oauth.build_authorize_url(sandbox.base_url, "my-app", REDIRECT, "st"), "deny")
        httpx.get(f"{sandbox.base_url}/nowhere?secret={SECRET}")
    assert "access_denied" in lines[1]
    assert "GET /nowhere 404" in lines[2] and SECRET not in lines[2]


def test_unknown_app_names_the_client_id_it_got_and_the_one_it_expects_never_the_secret() -> None:
    with _sandbox([]) as sandbox:
        answer = httpx.get(
            f"{sandbox.base_url}/oauth/authorize", params={"client_id": "sandbx-client", "redirect_uri": REDIRECT}
        )
    assert answer.status_code == 400
    assert "sandbx-client" in answer.text and "my-app" in answer.text and SECRET not in answer.text


def test_without_a_request_log_the_sandbox_is_silent_and_still_serves(sandbox: SandboxProvider) -> None:
    """The embedded sandbox of `login --sandbox` and the suites passes no log: nothing to call."""
    location = follow_authorize(oauth.build_authorize_url(sandbox.base_url, "sandbox-client", REDIRECT, "st"))
    assert "code=" in location


def test_the_protocol_docs_example_log_is_what_the_sandbox_prints() -> None:
    """docs/protocol.md shows test authors five lines; the same requests print the same lines."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    example = doc.split("On stderr it writes one line per request")[1].split("```text\n")[1].split("```")[0]
    lines: list[str] = []
    with SandboxProvider(request_log=lines.append) as sandbox:
        httpx.get(
            f"{sandbox.base_url}/oauth/authorize", params={"client_id": "sandbx-client", "redirect_uri": REDIRECT}
        )
        location = follow_authorize(oauth.build_authorize_url(sandbox.base_url, "sandbox-client", REDIRECT, "st"))
        form = {
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "grant_type": "authorization_code",
            "scope": oauth.SCOPE,
            "redirect_uri": REDIRECT,
        }
        httpx.post(f"{sandbox.base_url}/oauth/token", data=form, auth=("sandbox-client", "nope"))
        httpx.post(f"{sandbox.base_url}/oauth/token", data=form, auth=("sandbox-client", "sandbox-secret"))
    assert [line[9:] for line in lines] == [line[9:] for line in example.splitlines()]
