"""The CLI as a user runs it: one runner for every suite, a saved token to start from, and pyticktick reading .env.

``cli`` runs ``python -m ticktick_signon`` as a subprocess of this interpreter,
with the test's (already scrubbed) environment unless one is given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.records import Profile, Token


def cli(
    *args: str, stdin: str | None = "", env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``ticktick-signon ARGS`` to the end.

    Args:
        args: the command line after the program's name.
        stdin: what is typed or piped in (empty: a closed input); None inherits the test's stdin.
        env: the whole environment; default: the test's own.
        timeout: seconds before the run counts as hung.

    Returns:
        The finished process, its stdout and stderr as text.

    Raises:
        subprocess.TimeoutExpired: the command did not finish within ``timeout``.
    """
    return subprocess.run(
        [sys.executable, "-m", "ticktick_signon", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=timeout,
    )


def store_token(
    config_dir: Path,
    value: str = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10",
    expires_at: int | None = None,
    issuer: str | None = None,
) -> None:
    """Save a token for the default profile (app ``my-id``), valid for an hour unless ``expires_at`` says otherwise.

    The profile is bound to ``issuer``: by default the provider the test's TICKTICK_SIGNON_AUTH_URL
    names (the sandbox), else TickTick, as if it had signed in there.
    """
    expires = expires_at if expires_at is not None else int(time.time()) + 3600
    profile = Profile(
        "my-id",
        "my-secret",
        "http://127.0.0.1:8080/",
        "ticktick",
        Token(value, "bearer", "tasks:read tasks:write", expires),
        issuer=Issuer.at(issuer or os.environ.get("TICKTICK_SIGNON_AUTH_URL") or "https://ticktick.com"),
    )
    TokenStore(config_dir).update(lambda c: (c.with_profile("default", profile), None))


def load_pyticktick(env_file: Path) -> Any:
    """Load ``env_file`` with pyticktick's own ``Settings``, in a clean interpreter, as pyticktick's users do.

    Returns:
        An object with pyticktick's attribute names: ``v1_client_id``, ``v1_client_secret``,
        ``v1_token.value`` and ``v1_token.expiration``.

    Raises:
        AssertionError: pyticktick refused the file.
    """
    code = (
        "import json, sys, warnings; warnings.simplefilter('ignore');"
        "from pyticktick import Settings;"
        "s = Settings(_env_file=sys.argv[1]);"
        "print(json.dumps({'id': s.v1_client_id, 'secret': s.v1_client_secret.get_secret_value(),"
        " 'value': str(s.v1_token.value), 'expiration': s.v1_token.expiration}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTICKTICK_")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(env_file)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)

    class Loaded:
        v1_client_id = loaded["id"]
        v1_client_secret = loaded["secret"]

        class v1_token:
            value = loaded["value"]
            expiration = loaded["expiration"]

    return Loaded
