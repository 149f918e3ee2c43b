"""The questions ``login`` asks for the app's credentials: each trimmed, refused when blank, the secret hidden."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps
    from ticktick_signon.cli.login import LoginOptions


def resolve_credentials(
    profile: str, options: LoginOptions, environ: Mapping[str, str], interactive: bool, deps: CliDeps
) -> tuple[str | None, str | None, str | None]:
    """Each credential in ``oauth.find_credentials``' order (flag, saved, environment), else a prompt.

    Args:
        profile: the profile signing in.
        options: the flags given.
        environ: the environment, blank credential names dropped.
        interactive: whether the person can be asked for what is missing.
        deps: the store, the console and the prompter.

    Returns:
        client id, secret and redirect URL; None where nothing gave one and
        nobody can be asked (the service then names what is missing).

    Raises:
        InvalidParams: a redirect URL from a flag or the environment is not an http(s) URL.
        ConfigUnreadable: the cache file cannot be used.
    """
    from ticktick_signon.core.oauth import (
        DEFAULT_REDIRECT_URL,
        DEFAULT_REGION,
        ENV_AUTH_URL,
        ENV_REDIRECT_URL,
        apps_page,
        find_credentials,
    )
    from ticktick_signon.core.urls import check_http_url

    saved = deps.store.read().profile(profile)
    requested = {
        "clientId": options.client_id,
        "clientSecret": options.client_secret,
        "redirectUrl": options.redirect_url,
    }
    found = find_credentials(requested, saved, environ)
    client_id, client_secret, redirect_url = found.client_id, found.client_secret, found.redirect_url
    # A saved redirect URL was checked when it was saved; a new one is named where it came from.
    if redirect_url and found.redirect_url_from == "request":
        check_http_url(redirect_url, "--redirect-url")
    elif redirect_url and found.redirect_url_from == "environment":
        check_http_url(redirect_url, ENV_REDIRECT_URL)
    if interactive and not (client_id and client_secret and redirect_url):
        region = options.region or saved.region or DEFAULT_REGION
        where = apps_page(region, environ.get(ENV_AUTH_URL))
        deps.console.say(f"Your app's client id, secret and redirect URL: see {where}.")
        if not client_id:
            client_id = ask(deps, "Client id")
        if not client_secret:
            client_secret = ask(deps, "Client secret", hint="typing is hidden", hide_input=True)
        if not redirect_url:
            redirect_url = ask(deps, "OAuth redirect URL", default=DEFAULT_REDIRECT_URL, web_address=True)
    return client_id, client_secret, redirect_url


def ask(
    deps: CliDeps,
    label: str,
    *,
    hint: str = "",
    hide_input: bool = False,
    default: str | None = None,
    web_address: bool = False,
) -> str:
    """Ask for ``label`` until the answer is not blank (and, if asked for, is an http(s) URL).

    Args:
        deps: the prompter, and the console that says why an answer was refused.
        label: what is asked for ("Client id").
        hint: said in brackets after the label ("typing is hidden").
        hide_input: do not echo what is typed (the secret).
        default: taken on a bare Enter, and shown.
        web_address: the answer must be an absolute http(s) URL.

    Returns:
        The answer, trimmed.

    Raises:
        click.Abort: input ended or Ctrl-C was typed.
    """
    from ticktick_signon.core.urls import check_http_url
    from ticktick_signon.errors import InvalidParams

    question = f"{label} ({hint})" if hint else label
    while True:
        answer = deps.prompter.ask(question, default=default, hide_input=hide_input).strip()
        if not answer:
            deps.console.failure(f"{label} cannot be blank.")
            continue
        if web_address:
            try:
                check_http_url(answer, "redirectUrl")
            except InvalidParams:
                deps.console.failure("Give an absolute http(s) URL, such as http://127.0.0.1:8080/.")
                continue
        return answer
