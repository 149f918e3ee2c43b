"""The questions ``login`` asks for the app's credentials: each trimmed, refused when blank, the secret hidden."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ticktick_signon.cli import console
from ticktick_signon.runtime import default_store as _store


def resolve_credentials(
    profile: str, options: Any, environ: Mapping[str, str], interactive: bool
) -> tuple[str | None, str | None, str | None]:
    """Each credential from its flag, else the saved profile, else pyticktick's env names, else a prompt.

    Returns:
        client id, secret and redirect URL; None where nothing gave one and
        nobody can be asked (the service then names what is missing).

    Raises:
        InvalidParams: a redirect URL from a flag or the environment is not an http(s) URL.
        ConfigUnreadable: the cache file cannot be used.
    """
    from ticktick_signon.core.oauth import (
        DEFAULT_REDIRECT_URL,
        ENV_CLIENT_ID,
        ENV_CLIENT_SECRET,
        ENV_REDIRECT_URL,
        check_http_url,
    )

    saved = _store().read().profile(profile)
    client_id = options.client_id or saved.client_id or environ.get(ENV_CLIENT_ID)
    client_secret = options.client_secret or saved.client_secret or environ.get(ENV_CLIENT_SECRET)
    redirect_url = options.redirect_url or saved.redirect_url or environ.get(ENV_REDIRECT_URL)
    if options.redirect_url:
        check_http_url(options.redirect_url, "--redirect-url")
    elif redirect_url and not saved.redirect_url:
        check_http_url(redirect_url, ENV_REDIRECT_URL)
    if interactive and not (client_id and client_secret and redirect_url):
        console.say("Your app's client id, secret and redirect URL are at https://developer.ticktick.com/manage.")
        if not client_id:
            client_id = _ask("Client id")
        if not client_secret:
            client_secret = _ask("Client secret", hint="typing is hidden", hide_input=True)
        if not redirect_url:
            redirect_url = _ask("OAuth redirect URL", default=DEFAULT_REDIRECT_URL, web_address=True)
    return client_id, client_secret, redirect_url


def _ask(
    label: str, *, hint: str = "", hide_input: bool = False, default: str | None = None, web_address: bool = False
) -> str:
    """Ask for ``label`` until the answer is not blank (and, if asked for, is an http(s) URL); trimmed."""
    from ticktick_signon.core.oauth import check_http_url
    from ticktick_signon.errors import InvalidParams

    question = f"{label} ({hint})" if hint else label
    while True:
        answer = click.prompt(
            question, default=default or "", show_default=default is not None, hide_input=hide_input, err=True
        ).strip()
        if not answer:
            console.failure(f"{label} cannot be blank.")
            continue
        if web_address:
            try:
                check_http_url(answer, "redirectUrl")
            except InvalidParams:
                console.failure("Give an absolute http(s) URL, such as http://127.0.0.1:8080/.")
                continue
        return answer
