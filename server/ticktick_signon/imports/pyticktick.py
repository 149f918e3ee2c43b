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
import shlex

from ticktick_signon.core import pyticktick_names as names

#: Every key that sets pyticktick's token starts so (the JSON form, _VALUE, _EXPIRATION).
TOKEN_KEY = names.TOKEN


def token_json(access_token: str, expires_at: int) -> str:
    """Return the token as JSON ``{"value", "expiration"}`` (what the clipboard gets, as in pyticktick's script)."""
    return json.dumps({"value": access_token, "expiration": expires_at})


def env_lines(client_id: str | None, client_secret: str | None, access_token: str, expires_at: int) -> list[str]:
    """Return ``NAME=value`` lines, quoted so both a shell and python-dotenv read them as is."""
    lines = []
    if client_id:
        lines.append(f"{names.CLIENT_ID}={shlex.quote(client_id)}")
    if client_secret:
        lines.append(f"{names.CLIENT_SECRET}={shlex.quote(client_secret)}")
    lines.append(f"{names.TOKEN_VALUE}={shlex.quote(access_token)}")
    lines.append(f"{names.TOKEN_EXPIRATION}={int(expires_at)}")
    return lines


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
