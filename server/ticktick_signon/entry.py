"""The ``ticktick-signon`` entry point: fast paths for ``serve`` and ``token``, else the click CLI.

Editors spawn ``ticktick-signon serve`` on every start and scripts run
``ticktick-signon token`` once per use, so start-up is what both pay, and click
alone costs a large share of it (benchmarks/README.md). ``serve`` with no
options starts the helper without click. ``token`` answers only the plain
success case with os/json; anything it is not sure of (another command, an
unusual option, no token, an expired token, a loose or odd file, a cache of the
wrong shape) goes to ``cli.main``, which owns every message, error and exit
status. tests/test_entry_fast_path.py holds the two paths to the same output
and the same idea of a valid cache.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Mapping

#: Must equal ``messages._PROFILE_RE`` (a test checks it).
PROFILE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_OPTIONS = {"--profile": "profile", "--format": "format", "--min-valid": "min_valid"}
_FORMATS = ("plain", "json", "pyticktick-env")
_STRING_FIELDS = ("clientId", "clientSecret", "redirectUrl", "region")
_TOKEN_FIELDS = ("accessToken", "tokenType", "scope")
_PENDING_FIELDS = ("state", "profile", "clientId", "clientSecret", "redirectUrl", "region", "authBase")


def main(args: list[str] | None = None, prog_name: str | None = None, **extra: object) -> object:
    """Run the CLI; same arguments as click's ``Command.main``."""
    argv = sys.argv[1:] if args is None else list(args)
    if argv == ["serve"] and extra.get("standalone_mode", True):
        _serve()
    if argv[:1] == ["token"]:
        output = fast_token(argv[1:], os.environ, time.time())
        if output is not None:
            sys.stdout.write(output)
            sys.stdout.flush()
            if extra.get("standalone_mode", True):
                sys.exit(0)
            return 0
    from .cli import main as click_main

    return click_main(args, prog_name=prog_name or "ticktick-signon", **extra)


def _serve() -> None:
    """``ticktick-signon serve`` exactly as the click command runs it, minus loading click.

    Editors spawn the helper on every start; click and the extra garbage
    collection its objects bring cost about a tenth of the start-up.
    """
    from .runtime import configure_logging, default_service

    configure_logging("info", None)  # the click group's default for serve
    from .server import run_stdio

    try:
        run_stdio(default_service())
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")  # as click says it
        sys.exit(1)
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
    doc = _read_cache(environ)
    if doc is None or not cache_shape_ok(doc):
        return None
    saved = doc.get("profiles", {}).get(profile) or {}
    token = saved.get("token")
    if token is None or now >= token["expiresAt"] - int(min_valid):
        return None  # not signed in, or expired: the CLI's message and exit status
    if fmt == "plain":
        return token["accessToken"] + "\n"
    if fmt == "json":
        result = {
            "accessToken": token["accessToken"],
            "tokenType": token["tokenType"],
            "scope": token["scope"],
            "expiresAt": token["expiresAt"],
            "expiresIn": max(0, int(token["expiresAt"] - math.floor(now))),
            "profile": profile,
        }
        return json.dumps(result) + "\n"
    from .pyticktick_env import env_lines

    lines = env_lines(saved.get("clientId"), saved.get("clientSecret"), token["accessToken"], token["expiresAt"])
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


def _read_cache(environ: Mapping[str, str]) -> object:
    """The cache document if it is a private regular file holding JSON, else None."""
    import stat

    directory = environ.get("TICKTICK_SIGNON_CONFIG_DIR")
    if directory:
        directory = os.path.expanduser(directory)
    else:
        import platformdirs

        directory = platformdirs.user_config_dir("ticktick-signon", appauthor=False)
    from .link_guard import WINDOWS, open_no_follow

    try:
        fd = open_no_follow(os.path.join(directory, "config.json"), os.O_RDONLY)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (not WINDOWS and stat.S_IMODE(info.st_mode) & 0o077):
            return None  # the CLI refuses it, or tightens it and says so (Windows has no mode bits)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return json.loads(b"".join(chunks))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)


def cache_shape_ok(doc: object) -> bool:
    """Whether ``records.Cache.from_json`` accepts ``doc`` (a test holds the two to the same answer)."""
    if not isinstance(doc, dict) or doc.get("version", 1) != 1:
        return False
    profiles, pending = doc.get("profiles", {}), doc.get("pendingSignons", {})
    if not isinstance(profiles, dict) or not isinstance(pending, dict):
        return False
    for profile in profiles.values():
        if not isinstance(profile, dict) or not all(_optional_str(profile, key) for key in _STRING_FIELDS):
            return False
        token = profile.get("token")
        if token is not None and not (
            isinstance(token, dict) and all(_str(token, key) for key in _TOKEN_FIELDS) and _int(token, "expiresAt")
        ):
            return False
    for entry in pending.values():
        if not (isinstance(entry, dict) and all(_str(entry, key) for key in _PENDING_FIELDS) and _int(entry, "expiresAt")):
            return False
    return True


def _str(obj: dict[str, object], key: str) -> bool:
    return isinstance(obj.get(key), str)


def _optional_str(obj: dict[str, object], key: str) -> bool:
    return obj.get(key) is None or isinstance(obj.get(key), str)


def _int(obj: dict[str, object], key: str) -> bool:
    value = obj.get(key)
    return isinstance(value, int) and not isinstance(value, bool)
