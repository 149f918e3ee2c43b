"""importToken with hostile paths: FIFOs, the protocol stream, odd characters, other users' files.

Each is refused at once with -32602 (``data.field`` "path"), the helper keeps serving
every method, and it still exits when its stdin closes. Before, a FIFO blocked a worker
in ``open()`` forever (four starved every method), ``/dev/stdin`` made a worker read the
protocol stream, and a NUL byte or ``~nobody-here`` gave -32603 with a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli_harness import cli_in_process
from tests.support.rpc import HelperProcess
from tests.support.schema import assert_valid

TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
LATER = int(time.time()) + 30 * 86400
LINES = f"PYTICKTICK_V1_TOKEN_VALUE={TOKEN}\nPYTICKTICK_V1_TOKEN_EXPIRATION={LATER}\n"


def refused(helper: HelperProcess, path: str, timeout: float = 10) -> dict:
    reply = helper.call("importToken", {"path": path}, timeout=timeout)
    assert_valid(None, reply)
    error = reply["error"]
    assert error["code"] == -32602 and error["data"]["field"] == "path", error
    return error


@pytest.mark.posix_only("FIFOs and /dev/stdin do not exist on Windows")
def test_fifos_and_the_protocol_stream_are_refused_and_the_helper_keeps_serving(
    helper: HelperProcess, tmp_path: Path
) -> None:
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    for _ in range(6):  # more than the helper has workers
        assert "not a regular file" in refused(helper, str(fifo))["message"]
    for stream in ("/dev/stdin", "/proc/self/fd/0", "/dev/fd/0"):
        if os.path.lexists(stream):
            message = refused(helper, stream)["message"]
            assert "not a regular file" in message or "symlink that belongs to" in message, message
    # Every frame after them is answered: nobody read the protocol stream.
    for _ in range(20):
        assert helper.request("getStatus")["signedIn"] is False
    assert "Traceback" not in helper.stderr()
    assert helper.close(timeout=10) == 0  # stdin closed: it exits, no worker hangs in open()


@pytest.mark.parametrize("name", ["nul\x00byte.env", "lone\ud800surrogate.env", "~nobody-is-called-this/.env"])
def test_paths_no_system_can_open_are_invalid_params(helper: HelperProcess, tmp_path: Path, name: str) -> None:
    path = name if name.startswith("~") else str(tmp_path / name)
    error = refused(helper, path)
    assert "Cannot import from" in error["message"] or "names no user" in error["message"]
    assert helper.request("getStatus")["signedIn"] is False
    assert "Traceback" not in helper.stderr()


@pytest.mark.posix_only("FIFOs do not exist on Windows")
def test_the_cli_import_of_a_fifo_exits_2_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = cli_in_process("import", str(fifo))
    assert done.returncode == 2 and "not a regular file" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 10


@pytest.mark.posix_only("owners and mode bits; Windows relies on the profile's ACL")
class TestOtherUsersFiles:
    """The cache's owner rule, for imports: a token in another user's file may be theirs."""

    def test_a_file_every_user_can_write_is_refused(self, helper: HelperProcess, tmp_path: Path) -> None:
        path = tmp_path / "shared.env"
        path.write_text(LINES)
        path.chmod(0o666)
        error = refused(helper, str(path))
        assert "every user" in error["message"] and "chmod o-w" in error["message"] and TOKEN not in json.dumps(error)
        assert helper.request("getStatus")["signedIn"] is False

    def test_a_file_others_can_only_read_is_imported_and_left_as_it_was(
        self, helper: HelperProcess, tmp_path: Path
    ) -> None:
        path = tmp_path / "readable.env"
        path.write_text(LINES)
        path.chmod(0o644)
        helper.request("importToken", {"path": str(path)})
        assert path.stat().st_mode & 0o777 == 0o644  # another program's file: not ours to change

    def test_a_symlink_of_your_own_is_followed(self, helper: HelperProcess, tmp_path: Path) -> None:
        (tmp_path / "real.env").write_text(LINES)
        (tmp_path / "link.env").symlink_to(tmp_path / "real.env")
        assert helper.request("importToken", {"path": str(tmp_path / "link.env")})["profile"] == "default"

    @pytest.mark.skipif(sys.platform != "win32" and os.geteuid() != 0, reason="another user's file needs root")
    def test_another_users_file_or_symlink_is_refused(self, helper: HelperProcess, tmp_path: Path) -> None:
        import pwd

        nobody = pwd.getpwnam("nobody")
        theirs = tmp_path / "theirs.env"
        theirs.write_text(LINES)
        os.chown(theirs, nobody.pw_uid, nobody.pw_gid)
        assert "belongs to user nobody" in refused(helper, str(theirs))["message"]
        mine = tmp_path / "mine.env"
        mine.write_text(LINES)
        planted = tmp_path / "planted.env"
        planted.symlink_to(mine)
        os.lchown(planted, nobody.pw_uid, nobody.pw_gid)
        error = refused(helper, str(planted))
        assert "symlink that belongs to user nobody" in error["message"]
        assert helper.request("getStatus")["signedIn"] is False
