"""The token handover after ``login``: the clipboard, stdout, or a pyticktick ``.env`` file.

pyticktick's own script offers the same three; which ones happen is asked on a
terminal, or given by ``--copy``, ``--print`` and ``--save``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ticktick_signon.cli.console import when
from ticktick_signon.cli.exits import EXIT_SAVE_FAILED

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps, Prompter
    from ticktick_signon.cli.login import LoginOptions
    from ticktick_signon.core.records import Profile

CLIPBOARD_COMMANDS = (
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
    ("pbcopy",),
    ("clip.exe",),
)


def copy_to_clipboard(text: str) -> bool:
    """Hand ``text`` to the first clipboard tool found; False when none worked."""
    import shutil
    import subprocess

    for command in CLIPBOARD_COMMANDS:
        if shutil.which(command[0]):
            try:
                subprocess.run(command, input=text.encode(), check=True, timeout=5, capture_output=True)
                return True
            except (OSError, subprocess.SubprocessError):
                continue
    return False


def save_env(path: Path, lines: list[str]) -> None:
    """Merge pyticktick's .env ``lines`` into the private file at ``path``.

    The file is read as the cache is (``private_files.read_private``: never blocking on
    a FIFO, never through a symlink). A file that is read-only, or not UTF-8 text, is
    left exactly as it is: replacing it would undo the user's own protection, or lose
    bytes the merge cannot keep.

    Raises:
        OSError: the file could not be read or written, or is one of those; ``strerror``
            says why, in words for the user.
    """
    import errno
    import os
    import stat

    from ticktick_signon.cache.private_files import read_private, write_private
    from ticktick_signon.imports.pyticktick import merge_env

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    # Before read_private, which would tighten a 0444 file to 0600 (writable) on its way.
    if info is not None and stat.S_ISREG(info.st_mode) and not info.st_mode & stat.S_IWUSR:
        mode = stat.S_IMODE(info.st_mode)
        raise PermissionError(
            errno.EACCES, f"it is read-only (mode {mode:04o}); make it writable (chmod u+w) to save into it", str(path)
        )
    try:
        raw = read_private(path)[0]
    except FileNotFoundError:
        raw = b""
    try:
        existing = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OSError(errno.EILSEQ, "it is not UTF-8 text, so it was left as it is", str(path)) from None
    write_private(path, merge_env(existing, lines).encode("utf-8"))


def deliver(
    access_token: str, expires_at: int, saved: Profile, options: LoginOptions, interactive: bool, deps: CliDeps
) -> None:
    """Hand the token over as pyticktick's script does: clipboard, print, or a .env file.

    Without a terminal, a ``--save`` that fails ends the command with its own
    status (the sign-in itself worked); on a terminal the person is asked again.

    Args:
        access_token: the new token.
        expires_at: when it expires, Unix seconds.
        saved: the signed-in profile (its client id and secret go into the .env file).
        options: ``--copy``, ``--print`` and ``--save``.
        interactive: whether the person can be asked which.
        deps: the streams, the prompter and the clipboard.

    Raises:
        SystemExit: ``EXIT_SAVE_FAILED``, when ``--save`` failed and nobody can be asked again.
    """
    from ticktick_signon.imports.pyticktick import env_lines, env_problems, token_json

    console, prompter = deps.console, deps.prompter
    want_print, want_copy, save = options.want_print, options.want_copy, options.save
    if interactive and not (want_print or want_copy or save):
        want_copy = prompter.confirm("Copy the token and its expiration to the clipboard?", default=True)
        if not want_copy:
            want_print = prompter.confirm("Print the token and its expiration here?", default=True)
        if not (want_copy or want_print):
            save = _ask_path(prompter, "Save them to a pyticktick .env file at (Enter to skip)")
    if want_copy:
        if deps.copy_to_clipboard(token_json(access_token, expires_at)):
            console.success("Copied the token and its expiration to the clipboard.")
        else:
            console.warning(
                "No clipboard tool was found (wl-copy, xclip, xsel, pbcopy, clip.exe); "
                "`ticktick-signon token` prints the token whenever you need it."
            )
    if want_print:
        console.echo(f"Token: {access_token}")
        console.echo(f"Expiration: {expires_at} ({when(expires_at)})")
    if save is not None:
        values = {"clientId": saved.client_id, "clientSecret": saved.client_secret, "accessToken": access_token}
        for problem in env_problems(values):
            console.warning(f"The profile's {problem}.")
    while save is not None:
        try:
            save_env(save, env_lines(saved.client_id, saved.client_secret, access_token, expires_at, saved.region))
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            if not interactive:
                console.fail(
                    f"Could not save the token to {save} ({reason}). The sign-in worked and the token is cached: "
                    "`ticktick-signon token --format pyticktick-env > FILE` writes the file later.",
                    EXIT_SAVE_FAILED,
                )
            console.failure(f"Could not save the token to {save} ({reason}).")
            save = _ask_path(prompter, "Save it at another path (Enter to skip)")
            continue
        console.success(f"Saved the token to {save} (pyticktick .env format, mode 0600).")
        save = None


def _ask_path(prompter: Prompter, question: str) -> Path | None:
    answer = prompter.ask(question).strip()
    return Path(answer).expanduser() if answer else None
