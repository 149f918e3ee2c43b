"""Run ``ticktick-signon`` commands in process, through the real click group, with fake ``CliDeps``.

Each run parses its arguments as the console script would (click's usage
errors and exit statuses included), but its streams are strings, its prompter
answers from a script, its browser and clipboard record what they were given,
and its stdin is a pipe the test writes to. What only a real terminal or a
real process shows (the hidden secret, Ctrl-C, colour on a tty, logging) is
left to the subprocess and pexpect tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import click

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.cli.app import main
from ticktick_signon.cli.deps import CliDeps

#: An answer that stands for Ctrl-C typed at the prompt.
CTRL_C = object()


@dataclass
class Asked:
    """One question the prompter was asked."""

    question: str
    hidden: bool = False


class ScriptedPrompter:
    """Answers questions from a list, showing each question (and a visible answer) on stderr as a terminal would.

    An exhausted script is the end of input: click's prompts then abort, and so does this.
    """

    def __init__(self, answers: Iterable[object], stderr: io.StringIO) -> None:
        self.answers = deque(answers)
        self.asked: list[Asked] = []
        self._stderr = stderr

    def _answer(self, shown: str, hidden: bool) -> str:
        self._stderr.write(shown)
        self.asked.append(Asked(shown, hidden))
        if not self.answers:
            raise click.Abort
        answer = self.answers.popleft()
        if answer is CTRL_C:
            raise KeyboardInterrupt
        assert isinstance(answer, str)
        self._stderr.write(("" if hidden else answer) + "\n")
        return answer

    def ask(self, question: str, *, default: str | None = None, hide_input: bool = False) -> str:
        answer = self._answer(f"{question} [{default}]: " if default is not None else f"{question}: ", hide_input)
        return answer or (default or "")

    def confirm(self, question: str, *, default: bool) -> bool:
        answer = self._answer(f"{question} [{'Y/n' if default else 'y/N'}]: ", False).strip().lower()
        return default if not answer else answer in ("y", "yes")


@dataclass
class Ran:
    """How a command ended, and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class World:
    """The fake world of one command: its deps, and the records of what it asked of them."""

    deps: CliDeps
    prompter: ScriptedPrompter
    stdin_writer: io.TextIOWrapper
    opened: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)


def make_world(
    config_dir: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    terminal: bool = False,
    answers: Iterable[object] = (),
    browser: Callable[[str], bool] | None = None,
    clipboard: bool = True,
    clock: Callable[[], float] = time.time,
) -> World:
    """Deps over ``config_dir``'s cache; ``terminal`` makes the command believe a person can answer.

    Args:
        config_dir: the cache folder (default: $TICKTICK_SIGNON_CONFIG_DIR, which conftest points at a temp dir).
        environ: the environment (default: the test's, which conftest has cleaned).
        terminal: whether the command may prompt (``can_prompt``).
        answers: the prompter's script.
        browser: what opening the browser does (default: nothing, and it "opened").
        clipboard: whether the clipboard accepts what it is given.
        clock: the time.
    """
    from ticktick_signon.signin.service import SignInService

    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r", encoding="utf-8")
    writer = os.fdopen(write_fd, "w", encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    store = TokenStore(config_dir or Path(os.environ["TICKTICK_SIGNON_CONFIG_DIR"]))
    env = dict(os.environ if environ is None else environ)
    prompter = ScriptedPrompter(answers, stderr)
    world: World

    def services(environ: Mapping[str, str], events: object = None) -> SignInService:
        return SignInService(store, environ=dict(environ), events=events)

    def open_browser(url: str) -> bool:
        world.opened.append(url)
        return browser(url) if browser is not None else True

    def copy(text: str) -> bool:
        world.copied.append(text)
        return clipboard

    deps = CliDeps(
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        environ=env,
        store=store,
        services=services,
        prompter=prompter,
        can_prompt=terminal,
        open_browser=open_browser,
        copy_to_clipboard=copy,
        clock=clock,
        set_up_logging=lambda level, log_file: None,  # logging is process-wide: the subprocess tests hold it
    )
    world = World(deps, prompter, writer)
    return world


def _invoke(args: tuple[str, ...], deps: CliDeps) -> int:
    assert isinstance(deps.stdout, io.StringIO) and isinstance(deps.stderr, io.StringIO)
    # click's own output (usage errors, --help) goes to sys.stdout/sys.stderr: into the same strings.
    with contextlib.redirect_stdout(deps.stdout), contextlib.redirect_stderr(deps.stderr):
        try:
            main.main(list(args), prog_name="ticktick-signon", obj=deps, standalone_mode=True)
        except SystemExit as exit:
            code = exit.code
            return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def run_cli(*args: str, world: World, stdin: str | None = "") -> Ran:
    """Run one command to its end, with ``stdin`` written and closed first (None: no stdin at all)."""
    if stdin is None:
        world.deps.stdin.close()  # type: ignore[union-attr]
    world.stdin_writer.write(stdin or "")
    world.stdin_writer.close()
    code = _invoke(args, world.deps)
    return Ran(code, world.deps.stdout.getvalue(), world.deps.stderr.getvalue())  # type: ignore[attr-defined]


def cli_in_process(*args: str, stdin: str | None = "", **world: object) -> Ran:
    """``ticktick-signon ARGS`` in process, in a fresh world made by ``make_world(**world)``."""
    return run_cli(*args, world=make_world(**world), stdin=stdin)  # type: ignore[arg-type]


class Running:
    """A command running in a thread: wait for what it says, type lines, then collect how it ended."""

    def __init__(self, *args: str, world: World) -> None:
        self.world = world
        self._code: int | None = None
        self._thread = threading.Thread(target=self._main, args=(args,), daemon=True)
        self._thread.start()

    def _main(self, args: tuple[str, ...]) -> None:
        self._code = _invoke(args, self.world.deps)

    @property
    def stderr(self) -> str:
        return self.world.deps.stderr.getvalue()  # type: ignore[attr-defined]

    def wait_for(self, pattern: str, timeout: float = 30) -> str:
        """The first match of the regular expression ``pattern`` on stderr, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.stderr)
            if found:
                return found.group(0)
            if not self._thread.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"{pattern!r} never came; stderr was:\n{self.stderr}")

    def wait_for_line(self, text: str, timeout: float = 30) -> str:
        """The first whole line of stderr holding ``text``, waiting for it."""
        return self.wait_for(rf"[^\n]*{re.escape(text)}[^\n]*", timeout)

    def authorize_url(self) -> str:
        return self.wait_for(r"http://127\.0\.0\.1:\d+/oauth/authorize\?\S+")

    def type(self, text: str) -> None:
        self.world.stdin_writer.write(text)
        self.world.stdin_writer.flush()

    def finish(self, stdin: str = "", timeout: float = 60) -> Ran:
        """Type ``stdin``, close it, and wait for the command to end."""
        with contextlib.suppress(BrokenPipeError, ValueError):
            self.world.stdin_writer.write(stdin)
            self.world.stdin_writer.close()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"still running after {timeout} s; stderr:\n{self.stderr}"
        assert self._code is not None
        return Ran(self._code, self.world.deps.stdout.getvalue(), self.stderr)  # type: ignore[attr-defined]
