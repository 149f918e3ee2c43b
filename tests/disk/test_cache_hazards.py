"""The cache's odd corners: foreign owners, loose modes, deep nesting, out-of-range values, symlinked folders.

Each case is driven through the token store on a real disk, the CLI as a
subprocess and the helper over stdio: whatever the cache holds, the answer is
the documented one (`configUnreadable`, CLI exit 5, or a normal result), the
file is left as it was, no traceback reaches the user, and the helper keeps
serving. Foreign owners need a second user, so those tests run as root (as CI
does) and are skipped otherwise.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.portability import assert_owner_only, plant_junction, plant_symlink
from tests.support.ports import free_port
from tests.support.rpc import HelperProcess, RpcError
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import oauth
from ticktick_signon.core.records import Cache, Profile, Token
from ticktick_signon.errors import ConfigUnreadable, TokenExchangeFailed

TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
PLANTED = "11111111-2222-3333-4444-555555555555"
FAR = 4_102_444_800  # 2100-01-01
CREDS = {"clientId": "sandbox-client", "clientSecret": "sandbox-secret"}

posix_only = pytest.mark.posix_only("owners and mode bits; Windows relies on the profile's ACL")
as_root = pytest.mark.skipif(
    os.name != "nt" and os.geteuid() != 0, reason="making a file owned by another user needs root (CI runs as root)"
)


def nobody():  # -> pwd.struct_passwd (pwd does not exist on Windows)
    import pwd

    return pwd.getpwnam("nobody")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def document(token: dict | None = None) -> dict:
    base = {"accessToken": TOKEN, "tokenType": "bearer", "scope": "tasks:read tasks:write", "expiresAt": FAR}
    return {"version": 1, "profiles": {"default": {"clientId": "my-id", "token": {**base, **(token or {})}}}}


def write_raw(folder: Path, content: str | bytes, *, file_mode: int = 0o600, folder_mode: int = 0o700) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.chmod(path, file_mode)
    os.chmod(folder, folder_mode)
    return path


def store_token(folder: Path, value: str = TOKEN) -> None:
    profile = Profile(client_id="my-id", token=Token(value, "bearer", "tasks:read tasks:write", FAR))
    TokenStore(folder).update(lambda cache: (cache.with_profile("default", profile), None))


def cli(*args: str) -> tuple[int, str, str]:
    """The console script's entry point (``entry.main``), where `token`'s fast path runs before click."""
    code = "import sys; from ticktick_signon.entry import main; main(sys.argv[1:], prog_name='ticktick-signon')"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    return done.returncode, done.stdout, done.stderr


def rpc_error(helper: HelperProcess, method: str, params: dict | None = None) -> RpcError:
    with pytest.raises(RpcError) as caught:
        helper.request(method, params)
    return caught.value


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int, int]]:
    """Every entry of a folder: its bytes (files), mode and owner."""
    out = {}
    for entry in sorted(folder.iterdir()):
        info = entry.lstat()
        out[entry.name] = (entry.read_bytes() if entry.is_file() else None, stat.S_IMODE(info.st_mode), info.st_uid)
    return out


def start_and_finish(helper: HelperProcess) -> dict:
    started = helper.request(
        "startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{free_port()}/cb", "listen": False}
    )
    return helper.request("completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})


# -- foreign owners, and the folder's mode on reads -----------------------------------------------


@posix_only
@as_root
class TestForeignOwners:
    def test_a_folder_owned_by_someone_else_is_refused_and_never_written(self, config_dir: Path) -> None:
        # The red-team case: a 0777 folder of another user's, holding a token that user planted.
        path = write_raw(config_dir, json.dumps(document({"accessToken": PLANTED})), folder_mode=0o777)
        os.chown(path, nobody().pw_uid, nobody().pw_gid)
        os.chown(config_dir, nobody().pw_uid, nobody().pw_gid)
        before = snapshot(config_dir)
        helper = HelperProcess.spawn(env=dict(os.environ))
        try:
            for method, params in [
                ("getToken", None),
                ("getStatus", None),
                ("startSignon", {**CREDS, "redirectUrl": "http://127.0.0.1:8080/", "listen": False}),
                ("signOut", None),
            ]:
                error = rpc_error(helper, method, params)
                assert error.code == -32008, (method, error)
                assert str(config_dir) in error.message and "nobody" in error.message, error.message
                assert PLANTED not in error.message
            assert helper.call("noSuchMethod")["error"]["code"] == -32601  # still serving
        finally:
            helper.close()
        assert snapshot(config_dir) == before  # no lock, no temp file, no cache written into it
        assert "Traceback" not in helper.stderr()
        code, out, err = cli("token")
        assert (code, out) == (5, "") and "nobody" in err and "Traceback" not in err

    def test_a_cache_file_owned_by_someone_else_is_refused(self, config_dir: Path) -> None:
        path = write_raw(config_dir, json.dumps(document({"accessToken": PLANTED})))
        os.chown(path, nobody().pw_uid, nobody().pw_gid)
        with pytest.raises(ConfigUnreadable) as caught:
            TokenStore(config_dir).read()
        assert str(path) in caught.value.message and "nobody" in caught.value.message
        with pytest.raises(ConfigUnreadable):
            store_token(config_dir)
        assert json.loads(path.read_bytes())["profiles"]["default"]["token"]["accessToken"] == PLANTED
        assert os.stat(path).st_uid == nobody().pw_uid

    def test_a_lock_file_owned_by_someone_else_is_refused(self, config_dir: Path) -> None:
        store_token(config_dir)
        lock = config_dir / "config.json.lock"
        os.chown(lock, nobody().pw_uid, nobody().pw_gid)
        before = (config_dir / "config.json").read_bytes()
        with pytest.raises(ConfigUnreadable) as caught:
            store_token(config_dir, "another")
        assert str(lock) in caught.value.message and "nobody" in caught.value.message
        assert (config_dir / "config.json").read_bytes() == before

    def test_a_symlinked_folder_pointing_at_someone_elses_folder_is_refused(
        self, config_dir: Path, tmp_path: Path
    ) -> None:
        target = tmp_path / "theirs"
        write_raw(target, json.dumps(document({"accessToken": PLANTED})))
        os.chown(target / "config.json", nobody().pw_uid, nobody().pw_gid)
        os.chown(target, nobody().pw_uid, nobody().pw_gid)
        config_dir.symlink_to(target, target_is_directory=True)
        for action in (lambda: TokenStore(config_dir).read(), lambda: store_token(config_dir)):
            with pytest.raises(ConfigUnreadable) as caught:
                action()
            assert os.path.realpath(target) in caught.value.message and "nobody" in caught.value.message
        assert sorted(p.name for p in target.iterdir()) == ["config.json"]


@posix_only
class TestLooseModes:
    def test_a_loose_folder_is_tightened_by_a_read(self, config_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
        store_token(config_dir)
        os.chmod(config_dir, 0o777)
        assert TokenStore(config_dir).read().profile("default").token.access_token == TOKEN
        assert mode(config_dir) == 0o700
        assert "Tightened permissions" in caplog.text and str(config_dir) in caplog.text

    def test_a_folder_loosened_after_the_store_cached_the_file_is_tightened_at_the_next_read(
        self, config_dir: Path
    ) -> None:
        store = TokenStore(config_dir, clock=lambda: time.time() + 60)  # past the racy window: the cached copy is used
        store_token(config_dir)
        store.read()
        os.chmod(config_dir, 0o777)
        store.read()
        assert mode(config_dir) == 0o700

    def test_the_cli_and_the_helper_tighten_a_loose_folder_on_reads(self, config_dir: Path) -> None:
        store_token(config_dir)
        os.chmod(config_dir, 0o777)
        code, out, err = cli("token")
        assert (code, out) == (0, TOKEN + "\n") and "Tightened permissions" in err
        assert mode(config_dir) == 0o700
        os.chmod(config_dir, 0o755)
        helper = HelperProcess.spawn(env=dict(os.environ))
        try:
            assert helper.request("getToken")["accessToken"] == TOKEN
        finally:
            helper.close()
        assert mode(config_dir) == 0o700 and "Tightened permissions" in helper.stderr()

    @pytest.mark.parametrize("file_mode", [0o666, 0o620, 0o602])
    def test_a_cache_file_others_can_write_is_refused_and_left_alone(self, config_dir: Path, file_mode: int) -> None:
        path = write_raw(config_dir, json.dumps(document()), file_mode=file_mode)
        with pytest.raises(ConfigUnreadable) as caught:
            TokenStore(config_dir).read()
        assert "other users can write" in caught.value.message and str(path) in caught.value.message
        code, out, err = cli("token")
        assert (code, out) == (5, "") and "other users can write" in err
        assert mode(path) == file_mode


# -- a deeply nested config.json -----------------------------------------------------------------


NESTED = "[" * 100_000 + "]" * 100_000
NESTED_IN_A_KEY = json.dumps(document())[:-1] + ', "x": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}"


@pytest.mark.parametrize("content", [NESTED, NESTED_IN_A_KEY], ids=["top-level", "in-an-unknown-key"])
def test_a_deeply_nested_cache_is_unreadable_for_the_store_the_cli_and_the_helper(
    config_dir: Path, auth_url: str, content: str
) -> None:
    path = write_raw(config_dir, content)
    with pytest.raises(ConfigUnreadable) as caught:
        TokenStore(config_dir).read()
    assert "nested" in caught.value.message
    for args in (("token",), ("status",), ("status", "--json"), ("logout",)):
        code, out, err = cli(*args)
        assert (code, out) == (5, ""), (args, err)
        assert "Traceback" not in err and str(path) in err
    helper = HelperProcess.spawn(env=dict(os.environ))
    try:
        for method, params in [
            ("getToken", None),
            ("getStatus", None),
            ("signOut", None),
            ("startSignon", {**CREDS, "redirectUrl": "http://127.0.0.1:8080/", "listen": False}),
            ("completeSignon", {"redirectUrl": "http://127.0.0.1:8080/?state=s&code=c"}),
        ]:
            error = rpc_error(helper, method, params)
            assert (error.code, error.data["path"]) == (-32008, str(path)), (method, error)
        path.write_text(json.dumps(document()))  # the user fixes the file: the same helper serves again
        os.chmod(path, 0o600)
        assert helper.request("getToken")["accessToken"] == TOKEN
    finally:
        helper.close()
    assert "Traceback" not in helper.stderr()


def test_a_deeply_nested_cache_is_left_exactly_as_it_was(config_dir: Path) -> None:
    path = write_raw(config_dir, NESTED)
    with pytest.raises(ConfigUnreadable):
        store_token(config_dir)
    assert path.read_text() == NESTED


def test_an_oversized_cache_is_unreadable_not_a_memory_error(config_dir: Path, auth_url: str) -> None:
    """A cache holds a few KiB; a huge file (a mistake, or a disk filled on purpose) is refused, not read whole."""
    from ticktick_signon.cache.reader import MAX_PRIVATE_FILE_BYTES

    # Valid JSON, so only the size can be what is wrong with it.
    content = json.dumps(document())[:-1] + ', "padding": "' + "x" * MAX_PRIVATE_FILE_BYTES + '"}'
    path = write_raw(config_dir, content)
    with pytest.raises(ConfigUnreadable) as caught:
        TokenStore(config_dir).read()
    assert "larger than" in caught.value.message
    for args in (("token",), ("status",)):
        code, out, err = cli(*args)
        assert (code, out) == (5, ""), (args, err)
        assert "Traceback" not in err and "larger than" in err
    assert path.read_text() == content


# -- well-shaped but impossible values ----------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        {"expiresAt": 2**63},  # beyond a 64-bit time_t: OverflowError in `status` before
        {"expiresAt": 2**62},  # fits time_t, but no calendar can show it
        {"expiresAt": 10**16},
        {"expiresAt": 0},
        {"expiresAt": -5},
        {"accessToken": ""},
        {"accessToken": "   "},
        {"accessToken": "abc\ndef"},
        {"accessToken": "abc\x00"},
        {"accessToken": "\u00e9t\u00e9"},
    ],
    ids=["2^63", "2^62", "1e16", "zero", "negative", "empty", "blank", "newline", "nul", "non-ascii"],
)
def test_impossible_token_values_are_unreadable_everywhere(config_dir: Path, token: dict) -> None:
    path = write_raw(config_dir, json.dumps(document(token)))
    before = path.read_bytes()
    with pytest.raises(ConfigUnreadable) as caught:
        TokenStore(config_dir).read()
    field = next(iter(token))
    assert f"profiles.default.token.{field}" in caught.value.message
    for args in (("token",), ("token", "--format", "json"), ("status",), ("status", "--json")):
        code, out, err = cli(*args)
        assert (code, out) == (5, ""), (args, out, err)
        assert "Traceback" not in err and field in err
    helper = HelperProcess.spawn(env=dict(os.environ))
    try:
        assert rpc_error(helper, "getToken").code == -32008
        assert rpc_error(helper, "getStatus").code == -32008
        assert helper.call("noSuchMethod")["error"]["code"] == -32601
    finally:
        helper.close()
    assert path.read_bytes() == before


@pytest.mark.parametrize("value", ["", "   ", "tok\r\nX-Injected: 1", "tok\x00", "t\u00f6k", 42, None])
def test_an_access_token_refused_in_a_token_answer_is_refused_in_the_cache_and_the_other_way(value: object) -> None:
    """One rule (cache_format), applied by both parsers: neither can let through what the other refuses."""
    with pytest.raises(TokenExchangeFailed):
        oauth.parse_token_response(200, {"access_token": value, "expires_in": 3600}, 1_800_000_000.0)
    with pytest.raises(ValueError, match="accessToken"):
        Cache.from_json(document({"accessToken": value}))


def test_a_token_answer_that_would_expire_past_what_the_cache_holds_is_refused() -> None:
    latest = 32_535_215_999
    token = oauth.parse_token_response(200, {"access_token": "t", "expires_in": 100}, latest - 100.0)
    assert Cache.from_json(document({"expiresAt": token.expires_at})).profile("default").token.expires_at == latest
    with pytest.raises(TokenExchangeFailed):
        oauth.parse_token_response(200, {"access_token": "t", "expires_in": 101}, latest - 100.0)


def test_a_pending_sign_on_with_an_impossible_expiry_is_unreadable(config_dir: Path) -> None:
    doc = document()
    doc["pendingSignons"] = {
        "s": {
            "state": "s",
            "profile": "default",
            "clientId": "i",
            "clientSecret": "x",
            "redirectUrl": "http://127.0.0.1:8080/",
            "region": "ticktick",
            "authBase": "https://ticktick.com",
            "expiresAt": 2**63,
        }
    }
    write_raw(config_dir, json.dumps(doc))
    with pytest.raises(ConfigUnreadable) as caught:
        TokenStore(config_dir).read()
    assert "expiresAt" in caught.value.message and "'s'" not in caught.value.message  # states are not echoed


def test_the_largest_expiry_that_every_platform_can_show_is_accepted(config_dir: Path) -> None:
    write_raw(config_dir, json.dumps(document({"expiresAt": 32_535_215_999})))  # 3000-12-31 23:59:59 UTC
    code, out, err = cli("status")
    assert code == 0 and "signed in" in out, err


# -- a symlinked cache folder --------------------------------------------------------------------


class TestSymlinkedFolder:
    @pytest.mark.parametrize(
        "plant",
        [
            plant_symlink,
            pytest.param(plant_junction, marks=pytest.mark.windows_only("junctions are Windows' own folder links")),
        ],
        ids=["symlink", "junction"],
    )
    def test_a_symlink_to_a_folder_of_your_own_works_for_every_method(
        self, sandbox: object, auth_url: str, config_dir: Path, tmp_path: Path, plant: object
    ) -> None:
        target = tmp_path / "dotfiles" / "ticktick-signon"  # what GNU stow or a dotfiles manager makes
        target.mkdir(parents=True, mode=0o700)
        plant(config_dir, target)  # type: ignore[operator]
        helper = HelperProcess.spawn(env=dict(os.environ))
        try:
            token = start_and_finish(helper)["accessToken"]
            assert helper.request("getToken")["accessToken"] == token
            assert helper.request("signOut") == {"signedOut": True}
        finally:
            helper.close()
        assert (target / "config.json").is_file()
        assert_owner_only(target, 0o700)
        assert_owner_only(target / "config.json", 0o600)

    @posix_only
    def test_a_symlink_to_a_loose_folder_of_your_own_is_tightened(self, config_dir: Path, tmp_path: Path) -> None:
        target = tmp_path / "loose"
        target.mkdir(mode=0o755)
        os.chmod(target, 0o755)
        config_dir.symlink_to(target, target_is_directory=True)
        store_token(config_dir)
        assert TokenStore(config_dir).read().profile("default").token.access_token == TOKEN
        assert mode(target) == 0o700

    @pytest.mark.parametrize(
        ("make", "reason"),
        [
            ("file", "is a file, not a folder"),
            ("symlink-to-file", "is a file, not a folder"),
            ("dangling", "is a symlink to"),
        ],
    )
    def test_a_folder_that_is_not_one_gets_its_true_reason(
        self, config_dir: Path, tmp_path: Path, make: str, reason: str
    ) -> None:
        if make == "file":
            config_dir.write_text("I am a file")
        elif make == "symlink-to-file":
            (tmp_path / "a-file").write_text("I am a file")
            plant_symlink(config_dir, tmp_path / "a-file")
        else:
            plant_symlink(config_dir, tmp_path / "gone")
        for action in (lambda: TokenStore(config_dir).read(), lambda: store_token(config_dir)):
            with pytest.raises(ConfigUnreadable) as caught:
                action()
            assert reason in caught.value.message and str(config_dir) in caught.value.message
            assert "lock file" not in caught.value.message
        if make == "dangling":
            assert "does not exist" in caught.value.message
        assert not (tmp_path / "gone").exists()
        code, _out, err = cli("status")
        assert code == 5 and reason in err and "Traceback" not in err


def test_reads_need_no_lock(config_dir: Path) -> None:
    """Writes are atomic, so a read goes on while another process holds the lock."""
    from filelock import FileLock

    store_token(config_dir)
    with FileLock(config_dir / "config.json.lock", timeout=0):
        started = time.monotonic()
        assert cli("token")[:2] == (0, TOKEN + "\n")
        assert cli("status")[0] == 0
        assert TokenStore(config_dir).read() != Cache()
        assert time.monotonic() - started < 10  # not the 15 s lock timeout
