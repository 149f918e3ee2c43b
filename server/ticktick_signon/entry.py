"""The ``ticktick-signon`` entry point: fast paths for ``serve`` and ``token``, else the click CLI.

Editors spawn ``ticktick-signon serve`` on every start and scripts run
``ticktick-signon token`` once per use, so start-up is what both pay, and click
alone costs a large share of it (benchmarks/README.md). ``serve`` with no
options starts the helper without click. ``token`` answers only the plain
success case, reading the cache through its one reader (``cache.reader``, which
needs neither the token store nor a lock); anything it is not sure of (another
command, an unusual option, no token, an expired token, a cache the reader
refuses or would tighten) goes to ``cli.main``, which owns every message, error
and exit status. tests/cli/test_token_fast_path.py holds the two paths to the same
output.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping

from ticktick_signon.streams import EXIT_NO_STDOUT, NO_STDOUT, quiet_stdout

#: Must equal ``messages._PROFILE_RE`` (a test checks it).
PROFILE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_OPTIONS = {"--profile": "profile", "--format": "format", "--min-valid": "min_valid"}
_FORMATS = ("plain", "json", "pyticktick-env")


def main(args: list[str] | None = None, prog_name: str | None = None, **extra: object) -> object:
    """Run the CLI; same arguments as click's ``Command.main``."""
    argv = sys.argv[1:] if args is None else list(args)
    if argv == ["serve"] and extra.get("standalone_mode", True):
        _serve()
    if argv[:1] == ["token"]:
        output = fast_token(argv[1:], os.environ, time.time())
        if output is not None:
            status = _print_token(output)
            if extra.get("standalone_mode", True):
                sys.exit(status)
            return status
    from ticktick_signon.cli.app import main as click_main

    return click_main(args, prog_name=prog_name or "ticktick-signon", **extra)


def _print_token(output: str) -> int:
    """Write ``output`` to stdout; 0, or ``EXIT_NO_STDOUT`` (said on stderr) if there is no stdout to write to.

    ``token >&-`` leaves ``sys.stdout`` None; a closed pipe raises at the write or the flush.
    """
    try:
        if sys.stdout is None:
            raise ValueError("no stdout")
        sys.stdout.write(output)
        sys.stdout.flush()
    except (OSError, ValueError):
        if sys.stderr is not None:
            sys.stderr.write(f"Error: {NO_STDOUT}\n")
        quiet_stdout()
        return EXIT_NO_STDOUT
    return 0


def _serve() -> None:
    """``ticktick-signon serve`` exactly as the click command runs it, minus loading click.

    Editors spawn the helper on every start; click and the extra garbage
    collection its objects bring cost about a tenth of the start-up.
    """
    from ticktick_signon.runtime import configure_logging, default_service

    configure_logging("info", None)  # the click group's default for serve
    from ticktick_signon.helper.server import run_stdio

    try:
        run_stdio(default_service())
    except KeyboardInterrupt:
        sys.stderr.write(("\n" if sys.stderr.isatty() else "") + "Cancelled.\n")  # as cli/exits.cancelled says it
        sys.exit(130)
    sys.exit(0)


def fast_token(argv: list[str], environ: Mapping[str, str], now: float) -> str | None:
    """Return what ``token`` prints for a valid cached token, or None to let the click CLI decide."""
    options = _parse(argv)
    if options is None:
        return None
    import re

    profile = options.get("profile", "default")
    if not re.fullmatch(PROFILE_PATTERN, profile):
        return None
    fmt = options.get("format", "plain")
    min_valid = options.get("min_valid", "0")
    if fmt not in _FORMATS or not (min_valid.isascii() and min_valid.isdigit()):
        return None
    from ticktick_signon.cache import reader

    try:  # without tightening: a loose folder or file is the CLI's to fix and report
        doc, _ = reader.read(reader.config_dir(environ), tighten=False)
    except (OSError, reader.Unusable):
        return None
    saved = doc["profiles"].get(profile) or {}
    token = saved.get("token")
    if token is None or now >= token["expiresAt"] - int(min_valid):
        return None  # not signed in, or expired: the CLI's message and exit status
    if fmt == "plain":
        return token["accessToken"] + "\n"
    if fmt == "json":
        import math  # here, not at the top: an extension module costs `token`'s plain path ~0.1 ms to load

        result = {
            "accessToken": token["accessToken"],
            "tokenType": token["tokenType"],
            "scope": token["scope"],
            "expiresAt": token["expiresAt"],
            "expiresIn": max(0, int(token["expiresAt"] - math.floor(now))),
            "profile": profile,
        }
        return json.dumps(result) + "\n"
    from ticktick_signon.imports.pyticktick import env_lines, env_problems

    client_id, secret, access_token = saved.get("clientId"), saved.get("clientSecret"), token["accessToken"]
    if env_problems({"clientId": client_id, "clientSecret": secret, "accessToken": access_token}):
        return None  # a value the lines cannot carry as is: the CLI warns about it
    lines = env_lines(client_id, secret, access_token, token["expiresAt"], saved.get("region"))
    return "\n".join(lines) + "\n"


def _parse(argv: list[str]) -> dict[str, str] | None:
    """``--name value`` / ``--name=value``, each at most once; anything else is for click."""
    options: dict[str, str] = {}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        key = _OPTIONS.get(name)
        if key is None or key in options:
            return None
        if not eq:
            i += 1
            if i == len(argv):
                return None
            value = argv[i]
        options[key] = value
        i += 1
    return options
