"""pyticktick's settings as ``.env`` lines, and merging them into an existing file; pure.

pyticktick 0.3 reads ``PYTICKTICK_V1_CLIENT_ID``, ``PYTICKTICK_V1_CLIENT_SECRET``
and ``PYTICKTICK_V1_TOKEN`` (JSON ``{"value", "expiration"}``) from the
environment or from ``Settings(_env_file=PATH)``. Takes plain values and
imports nothing heavy, so ``token``'s fast path (entry.py) uses it too.
"""

from __future__ import annotations

import json
import re
import shlex

KEYS = ("PYTICKTICK_V1_CLIENT_ID", "PYTICKTICK_V1_CLIENT_SECRET", "PYTICKTICK_V1_TOKEN")
_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def token_json(access_token: str, expires_at: int) -> str:
    """Return the value pyticktick expects in ``PYTICKTICK_V1_TOKEN``."""
    return json.dumps({"value": access_token, "expiration": expires_at})


def env_lines(client_id: str | None, client_secret: str | None, access_token: str, expires_at: int) -> list[str]:
    """Return ``NAME=value`` lines, quoted so both a shell and python-dotenv read them as is."""
    lines = []
    if client_id:
        lines.append(f"PYTICKTICK_V1_CLIENT_ID={shlex.quote(client_id)}")
    if client_secret:
        lines.append(f"PYTICKTICK_V1_CLIENT_SECRET={shlex.quote(client_secret)}")
    lines.append(f"PYTICKTICK_V1_TOKEN={shlex.quote(token_json(access_token, expires_at))}")
    return lines


def merge_env(existing: str, lines: list[str]) -> str:
    """Replace pyticktick's V1 keys in an ``.env`` text with ``lines``; keep every other line.

    Args:
        existing: the file's current text ("" for a new file).
        lines: the new assignments (from ``env_lines``).

    Returns:
        The new text, ending with a newline.
    """
    kept = []
    for line in existing.splitlines():
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) in KEYS:
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, *lines]) + "\n"
