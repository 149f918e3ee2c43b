"""Process set-up shared by the click CLI and the fast entry point: logging, and the default service.

Logs go to stderr (and ``--log-file``), never to stdout, which belongs to the
protocol and to printed tokens; the libraries that would log secrets are held
to warnings with their arguments withheld. Kept free of click so that
``ticktick-signon serve`` can start without it (see entry.py).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `serve` and the CLI each load only what they call
    from ticktick_signon.cache.store import TokenStore
    from ticktick_signon.signin.service import SignInService

#: Libraries whose own logs carry what must not leak: pygls logs every frame (tokens,
#: secrets in params); httpx and httpcore log URLs and headers (authorization codes).
_CHATTY_LIBRARIES = ("pygls", "httpx", "httpcore")


class _NoArgs(logging.Filter):
    """Drops the arguments of those libraries' log records, which can hold secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] in _CHATTY_LIBRARIES and record.args:
            record.msg, record.args = f"{record.msg} (details withheld)", ()
        return True


def configure_logging(level: str, log_file: Path | None) -> None:
    """Send logs to stderr (and ``log_file``); never to stdout, which belongs to the protocol."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        from ticktick_signon.cache.link_guard import open_no_follow
        from ticktick_signon.cache.reader import FILE_MODE

        fd = open_no_follow(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        handlers.append(logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8")))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_NoArgs())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def default_store() -> TokenStore:
    """The token store in the configured cache folder."""
    from ticktick_signon.cache.store import TokenStore, default_config_dir

    return TokenStore(default_config_dir())


def default_service(environ: dict[str, str] | None = None, events: Any = None) -> SignInService:
    """The sign-on service over the default store, configured from ``environ`` (default: the process's)."""
    from ticktick_signon.signin.service import SignInService
    from ticktick_signon.upstream.http import timeout_from_env

    env = dict(os.environ if environ is None else environ)
    return SignInService(default_store(), environ=env, http_timeout=timeout_from_env(env), events=events)
