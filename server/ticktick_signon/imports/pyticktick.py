"""pyticktick's settings as ``.env`` lines, and merging them into an existing file; pure.

pyticktick 0.3 reads ``PYTICKTICK_V1_CLIENT_ID``, ``PYTICKTICK_V1_CLIENT_SECRET``
and the token from the environment or from ``Settings(_env_file=PATH)``. The
lines written are its documented ones, the same its own ``generate_v1_token.py``
writes: ``PYTICKTICK_V1_TOKEN_VALUE`` and ``PYTICKTICK_V1_TOKEN_EXPIRATION``.
``env_lines`` imports nothing heavy, so ``token``'s fast path (entry.py) uses it.
The names themselves are spelled once, in ``core/pyticktick_names.py``.
"""

from __future__ import annotations

import io
import json
import re

from ticktick_signon.core import pyticktick_names as names

#: Every key that sets pyticktick's token starts so (the JSON form, _VALUE, _EXPIRATION).
TOKEN_KEY = names.TOKEN
#: What python-dotenv's interpolation replaces: ``${NAME}`` and ``${NAME:-default}``.
_DOTENV_VARIABLE = re.compile(r"\$\{[^}:]*(?::-[^}]*)?\}")


def token_json(access_token: str, expires_at: int) -> str:
    """Return the token as JSON ``{"value", "expiration"}`` (what the clipboard gets, as in pyticktick's script)."""
    return json.dumps({"value": access_token, "expiration": expires_at})


#: pyticktick's ``v1_base_url`` per region; TickTick's is its default, so only Dida365's is written.
V1_BASE_URLS = {"ticktick": "https://api.ticktick.com/open/v1/", "dida365": "https://api.dida365.com/open/v1/"}

#: What a shell reads unquoted exactly as python-dotenv does (shlex's safe characters).
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./-_")


def env_lines(
    client_id: str | None, client_secret: str | None, access_token: str, expires_at: int, region: str | None = None
) -> list[str]:
    """Return ``NAME=value`` lines, quoted so both a shell and python-dotenv read them as is.

    A Dida365 profile gets ``PYTICKTICK_V1_BASE_URL`` too: pyticktick would send its token
    to api.ticktick.com otherwise. ``env_problems`` says when a value cannot be read back
    as is by one of the two (a ``${...}``, or a ``'`` beside a ``$``).
    """
    lines = []
    if client_id:
        lines.append(f"{names.CLIENT_ID}={quote(client_id)}")
    if client_secret:
        lines.append(f"{names.CLIENT_SECRET}={quote(client_secret)}")
    lines.append(f"{names.TOKEN_VALUE}={quote(access_token)}")
    lines.append(f"{names.TOKEN_EXPIRATION}={int(expires_at)}")
    if region is not None and region != "ticktick" and region in V1_BASE_URLS:
        lines.append(f"{names.BASE_URL}={V1_BASE_URLS[region]}")
    return lines


def quote(value: str) -> str:
    """``value`` as a ``.env`` value that python-dotenv and a POSIX shell both read back exactly, if one exists.

    Plain characters go bare. Otherwise single quotes, literal to both, unless the value
    holds a ``'`` or a backslash (python-dotenv reads ``\\'`` and ``\\\\`` inside them):
    then double quotes with ``\\`` and ``"`` escaped, which both read alike unless the value
    holds a ``$`` or a backtick (a shell expands those). A value with both kinds has no
    common form; it is written for python-dotenv (pyticktick's reader), and ``env_problems``
    says so. python-dotenv expands ``${NAME}`` in any quotes (pyticktick reads with
    interpolation on), so such a value cannot be written literally for it at all.
    """
    if value and set(value) <= _PLAIN:
        return value
    if "'" not in value and "\\" not in value:
        return f"'{value}'"
    if "$" not in value and "`" not in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"  # python-dotenv's single-quote escapes


def env_problems(values: dict[str, str | None]) -> list[str]:
    """Why some of ``values`` (by their variable's name) will not read back as written by ``env_lines``.

    Returns:
        One sentence per value that a shell or python-dotenv would read differently; none
        is the value itself (they are secrets).
    """
    problems = []
    for name, value in values.items():
        if not value:
            continue
        if _DOTENV_VARIABLE.search(value):
            problems.append(
                f"{name} holds ${{...}}, which python-dotenv (pyticktick's .env reader) replaces with a variable's "
                "value: set it in the environment instead of the file"
            )
        elif ("'" in value or "\\" in value) and ("$" in value or "`" in value):
            problems.append(f"{name} holds both a quote or backslash and a $ or `: a shell cannot read its line as is")
    return problems


def merge_env(existing: str, lines: list[str]) -> str:
    """Put ``lines`` into an ``.env`` text, replacing what they set; keep every other line.

    Every ``PYTICKTICK_V1_TOKEN*`` key goes, in any case and either form: pyticktick
    merges them all, and an old ``_VALUE`` line would win over a new token. The
    client id and secret are replaced only when ``lines`` set them. The text is
    read with python-dotenv, pyticktick's own reader, so a value quoted over
    several lines goes whole.

    Args:
        existing: the file's current text ("" for a new file).
        lines: the new assignments (from ``env_lines``).

    Returns:
        The new text, ending with a newline.
    """
    from dotenv.parser import parse_stream  # deferred: only `login --save` merges

    setting = {line.partition("=")[0].upper() for line in lines}
    kept = []
    for binding in parse_stream(io.StringIO(existing)):
        key = (binding.key or "").upper()
        if key.startswith(TOKEN_KEY) or key in setting:
            continue
        kept.append(binding.original.string)
    text = "".join(kept).rstrip()
    return "\n".join([text, *lines] if text else lines) + "\n"
