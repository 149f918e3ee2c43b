"""What a command needs from the world, in one value: streams, environment, store, service, browser, clock.

Each command is ``run(options, deps)``, as gh's are (``TokenOptions{IO, Config}``,
``AuthFlow(..., IO, ..., browser)``): the click functions in app.py build the
options and pass ``default_deps()``; tests pass their own, so a command runs in
process with a fake stdin, captured streams, a scripted prompter and a browser
that records what it was asked to open. Nothing heavy is imported here: the
``token`` command's click path must not load httpx or pygls.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from ticktick_signon.cli.console import Console
from ticktick_signon.cli.handover import copy_to_clipboard

if TYPE_CHECKING:
    from ticktick_signon.cache.store import TokenStore
    from ticktick_signon.signin.service import SignInService


class Prompter(Protocol):
    """Asks the person a question on the terminal (gh's ``prompter``)."""

    def ask(self, question: str, *, default: str | None = None, hide_input: bool = False) -> str:
        """Return the line typed (untrimmed); ``default`` is shown and taken on a bare Enter.

        Raises:
            click.Abort: input ended or Ctrl-C was typed.
        """
        ...

    def confirm(self, question: str, *, default: bool) -> bool:
        """Return the yes/no answer; a bare Enter takes ``default``.

        Raises:
            click.Abort: input ended or Ctrl-C was typed.
        """
        ...


class TerminalPrompter:
    """click's prompts on the process's terminal: the secret unechoed, Ctrl-C as ``click.Abort``."""

    def ask(self, question: str, *, default: str | None = None, hide_input: bool = False) -> str:
        """See ``Prompter.ask``."""
        import click

        answer: str = click.prompt(
            question, default=default or "", show_default=default is not None, hide_input=hide_input, err=True
        )
        return answer

    def confirm(self, question: str, *, default: bool) -> bool:
        """See ``Prompter.confirm``."""
        import click

        return click.confirm(question, default=default, err=True)


def open_in_browser(url: str) -> bool:
    """Open ``url`` with Python's webbrowser module ($BROWSER first); False when no browser opened."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _default_services(environ: Mapping[str, str], events: Any = None) -> SignInService:
    from ticktick_signon.runtime import default_service

    return default_service(dict(environ), events=events)


def _default_logging(level: str, log_file: Path | None) -> None:
    from ticktick_signon.runtime import configure_logging

    configure_logging(level, log_file)


@dataclass(frozen=True)
class CliDeps:
    """The world a command runs in.

    Attributes:
        stdin: where a pasted address is read from (None when the process has none).
        stdout: what the command was asked to print (a token, a status).
        stderr: the conversation.
        environ: the environment (credentials, ``NO_COLOR``, ``SSH_CONNECTION``, overrides).
        store: the token cache.
        services: makes the sign-in service: ``services(environ, events=None)``.
        prompter: asks questions; used only when ``can_prompt``.
        can_prompt: stdin is a terminal a person types into (gh's ``IOStreams.CanPrompt``).
        open_browser: opens a URL; False when no browser opened.
        copy_to_clipboard: hands a text to the clipboard; False when no tool worked.
        clock: the time, in Unix seconds.
        set_up_logging: ``runtime.configure_logging``, or a test's stand-in (logging is process-wide).
    """

    stdin: TextIO | None
    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str]
    store: TokenStore
    services: Callable[..., SignInService]
    prompter: Prompter
    can_prompt: bool
    open_browser: Callable[[str], bool] = open_in_browser
    copy_to_clipboard: Callable[[str], bool] = copy_to_clipboard
    clock: Callable[[], float] = time.time
    set_up_logging: Callable[[str, Path | None], None] = _default_logging

    @cached_property
    def console(self) -> Console:
        """Lines to the person, in this command's streams."""
        return Console(self.stdout, self.stderr, self.environ)


def default_deps() -> CliDeps:
    """The process's own world: sys streams, os.environ, the configured cache folder, webbrowser, the clock."""
    from ticktick_signon.cli.typed_lines import is_terminal
    from ticktick_signon.runtime import default_store

    return CliDeps(
        stdin=sys.stdin,
        stdout=sys.stdout,
        stderr=sys.stderr,
        environ=os.environ,
        store=default_store(),
        services=_default_services,
        prompter=TerminalPrompter(),
        can_prompt=is_terminal(sys.stdin),
    )
