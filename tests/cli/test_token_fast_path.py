"""The entry point's fast path for `token` and the cache's one reader it shares with the token store.

The fast path may only ever answer a case the click path answers identically;
everything else must fall through to click, which owns messages and exit codes.
Both read the cache through `cache_file`, so there is no second parser to keep in
step: the reader's own behaviour is tested here.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.portability import plant_junction, plant_symlink
from tests.support.rpc import serve_once_reporting_modules
from ticktick_signon import entry
from ticktick_signon.cache import reader as cache_file
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import messages
from ticktick_signon.core.records import Cache, Profile, Token

FAR = 4_102_444_800  # 2100-01-01
TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"


def store_token(config_dir: Path, *, profile: str = "default", expires_at: int = FAR) -> None:
    settings = Profile(
        client_id="my id",
        client_secret="s3cr'et",
        redirect_url="http://127.0.0.1:8080/",
        region="ticktick",
        token=Token(TOKEN, "bearer", "tasks:read tasks:write", expires_at),
    )
    TokenStore(config_dir).update(lambda cache: (cache.with_profile(profile, settings), None))


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from ticktick_signon.{module} import main; main(sys.argv[1:], prog_name='ticktick-signon')"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )


@pytest.mark.parametrize(
    "args",
    [
        ("token",),
        ("token", "--format", "json"),
        ("token", "--format=pyticktick-env"),
        ("token", "--profile", "work", "--format", "json"),
        ("token", "--min-valid", "3600", "--profile=work"),
    ],
)
def test_fast_path_prints_exactly_what_the_click_cli_prints(config_dir: Path, args: tuple[str, ...]) -> None:
    store_token(config_dir)
    store_token(config_dir, profile="work")
    assert entry.fast_token(list(args[1:]), os.environ, 1_700_000_000.0) is not None, "the fast path declined"
    fast, full = run("entry", *args), run("cli.app", *args)
    assert (fast.returncode, fast.stderr) == (full.returncode, full.stderr) == (0, "")
    if "json" in args or "--format=json" in args:
        fast_json, full_json = json.loads(fast.stdout), json.loads(full.stdout)
        assert abs(fast_json.pop("expiresIn") - full_json.pop("expiresIn")) <= 1  # a second may tick between runs
        assert fast_json == full_json
    else:
        assert fast.stdout == full.stdout
    assert TOKEN in fast.stdout


def test_a_dida365_profile_gets_its_base_url_on_both_paths(config_dir: Path) -> None:
    """The lines name Dida365's API, or pyticktick sends the token to api.ticktick.com."""
    dida = Profile(client_id="my-id", region="dida365", token=Token(TOKEN, "bearer", "tasks:read tasks:write", FAR))
    TokenStore(config_dir).update(lambda cache: (cache.with_profile("default", dida), None))
    args = ("token", "--format", "pyticktick-env")
    fast, full = run("entry", *args), run("cli.app", *args)
    assert fast.stdout == full.stdout and fast.returncode == full.returncode == 0
    assert "PYTICKTICK_V1_BASE_URL=https://api.dida365.com/open/v1/\n" in fast.stdout


def test_a_secret_the_lines_cannot_carry_is_left_to_the_cli_which_warns(config_dir: Path) -> None:
    """Python-dotenv expands ${...} in any quotes; the person is told, never shown the secret."""
    odd = Profile(client_id="my-id", client_secret="a${HOME}b", token=Token(TOKEN, "bearer", "tasks:read", FAR))
    TokenStore(config_dir).update(lambda cache: (cache.with_profile("default", odd), None))
    assert entry.fast_token(["--format", "pyticktick-env"], os.environ, 1_700_000_000.0) is None
    done = run("entry", "token", "--format", "pyticktick-env")
    assert done.returncode == 0 and "PYTICKTICK_V1_CLIENT_SECRET='a${HOME}b'" in done.stdout
    assert "clientSecret holds ${...}" in done.stderr and "a${HOME}b" not in done.stderr


def test_python_dash_m_goes_through_the_entry_point(config_dir: Path) -> None:
    store_token(config_dir)
    done = subprocess.run(
        [sys.executable, "-m", "ticktick_signon", "token"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, TOKEN + "\n")


def test_fast_path_loads_neither_click_nor_the_token_store_nor_filelock(config_dir: Path) -> None:
    store_token(config_dir)
    code = (
        "import sys; from ticktick_signon.entry import main\n"
        "main(['token'], standalone_mode=False)\n"
        "heavy = ('click', 'logging', 'dataclasses', 'typing', 'pathlib', 'pygls', 'httpx', 'filelock',\n"
        "         'ticktick_signon.cli.app', 'ticktick_signon.cache.store', 'ticktick_signon.core.records')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == TOKEN + "\n"
    assert done.stderr.strip() == "[]"


def _loosen(config_dir: Path) -> None:
    (config_dir / "config.json").chmod(0o644)


def _symlink(config_dir: Path) -> None:
    real = config_dir / "real.json"
    (config_dir / "config.json").rename(real)
    plant_symlink(config_dir / "config.json", real)


def _junction(config_dir: Path) -> None:
    (config_dir / "config.json").rename(config_dir / "real.json")
    plant_junction(config_dir / "config.json", config_dir / "elsewhere")


def _other_profile_broken(config_dir: Path) -> None:
    path = config_dir / "config.json"
    doc = json.loads(path.read_text())
    doc["profiles"]["other"] = {"token": {"accessToken": 5}}
    path.write_text(json.dumps(doc))


def _empty_token(config_dir: Path) -> None:
    path = config_dir / "config.json"
    doc = json.loads(path.read_text())
    doc["profiles"]["default"]["token"]["accessToken"] = ""
    path.write_text(json.dumps(doc))


def _loose_folder(config_dir: Path) -> None:
    config_dir.chmod(0o755)  # the CLI tightens it and says so


@pytest.mark.parametrize(
    ("args", "damage", "expires_at"),
    [
        (["--format", "yaml"], None, FAR),
        (["--min-valid", "-1"], None, FAR),
        (["--min-valid", "1e3"], None, FAR),
        (["--profile", "bad name"], None, FAR),
        (["--profile", ""], None, FAR),
        (["--profile", "a", "--profile", "b"], None, FAR),
        (["--help"], None, FAR),
        (["--profile"], None, FAR),
        (["--", "x"], None, FAR),
        ([], None, 1000),  # expired
        (["--min-valid", str(FAR)], None, FAR),  # expires too soon
        (["--profile", "nobody"], None, FAR),  # not signed in
        pytest.param([], _loosen, FAR, marks=pytest.mark.posix_only("mode bits")),  # the CLI tightens it and says so
        pytest.param([], _symlink, FAR, id="symlink"),
        pytest.param(
            [], _junction, FAR, id="junction", marks=pytest.mark.windows_only("junctions are Windows' own folder links")
        ),
        ([], _other_profile_broken, FAR),
        ([], _empty_token, FAR),
        pytest.param([], _loose_folder, FAR, marks=pytest.mark.posix_only("mode bits")),
    ],
)
def test_fast_path_declines_whatever_the_click_cli_must_handle(
    config_dir: Path, args: list[str], damage: Any, expires_at: int
) -> None:
    store_token(config_dir, expires_at=expires_at)
    if damage:
        damage(config_dir)
    assert entry.fast_token(args, os.environ, 1_700_000_000.0) is None


def test_an_absent_or_unparsable_cache_falls_through_to_the_cli_with_its_exit_codes(config_dir: Path) -> None:
    assert run("entry", "token").returncode == 3  # not signed in
    config_dir.mkdir(mode=0o700)
    (config_dir / "config.json").write_text("nope")
    (config_dir / "config.json").chmod(0o600)
    fast, full = run("entry", "token"), run("cli.app", "token")
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)
    assert fast.returncode == 5


def test_profile_pattern_is_the_protocol_one() -> None:
    assert messages._PROFILE_RE.pattern == entry.PROFILE_PATTERN


SECRETS = ("SECRET-b7f1", "TOKEN-9c2e", "STATE-41aa")


def _valid_doc() -> dict[str, Any]:
    return {
        "version": 1,
        "profiles": {
            "default": {
                "clientId": "id",
                "clientSecret": "SECRET-b7f1",
                "redirectUrl": "http://127.0.0.1:8080/",
                "region": "ticktick",
                "token": {"accessToken": "TOKEN-9c2e", "tokenType": "bearer", "scope": "x", "expiresAt": 5},
            },
            "bare": {},
        },
        "pendingSignons": {
            "STATE-41aa": {
                "state": "STATE-41aa",
                "profile": "default",
                "clientId": "id",
                "clientSecret": "SECRET-b7f1",
                "redirectUrl": "http://127.0.0.1:8080/",
                "region": "ticktick",
                "authBase": "https://x",
                "expiresAt": 9,
            },
        },
    }


def _mutations() -> list[Any]:
    """The valid document with every value, in turn, removed or swapped for each JSON type."""
    replacements = [None, True, 0, 1, 1.5, "", " ", "s\n", [], {}]
    found: list[Any] = [_valid_doc(), {}, [], "x", None]

    def walk(path: tuple[Any, ...], node: Any) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            for new in replacements:
                doc = _valid_doc()
                target = doc
                for step in path:
                    target = target[step]
                target[key] = copy.deepcopy(new)
                found.append(doc)
            doc = _valid_doc()
            target = doc
            for step in path:
                target = target[step]
            del target[key]
            found.append(doc)
            walk((*path, key), value)

    walk((), _valid_doc())
    return found


def _write(config_dir: Path, content: bytes, mode: int = 0o600) -> Path:
    config_dir.mkdir(mode=0o700, exist_ok=True)
    path = config_dir / "config.json"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_the_reader_answers_every_mutated_document_with_records_or_a_reason_that_leaks_nothing(
    config_dir: Path,
) -> None:
    docs = _mutations()
    assert len(docs) > 250
    refused = 0
    for doc in docs:
        _write(config_dir, json.dumps(doc).encode())
        try:
            checked, _ = cache_file.read(str(config_dir), tighten=False)
        except cache_file.Unusable as exc:
            refused += 1
            assert exc.reason.startswith("not a valid cache: "), (doc, exc.reason)
            assert not any(secret in exc.reason for secret in SECRETS), exc.reason
            continue
        # What the reader accepts, the token store builds into records, and they write back the same.
        cache, _ = cache_file.read(str(config_dir), tighten=False, parse=Cache.from_json)
        assert cache == Cache.from_json(checked) == Cache.from_json(cache.to_json())
    assert 0 < refused < len(docs)


def test_the_reader_names_the_member_that_is_wrong(config_dir: Path) -> None:
    doc = _valid_doc()
    doc["profiles"]["default"]["token"]["expiresAt"] = 2**63
    _write(config_dir, json.dumps(doc).encode())
    with pytest.raises(cache_file.Unusable) as caught:
        cache_file.read(str(config_dir), tighten=False)
    assert "profiles.default.token.expiresAt must be a time between 1970 and the year 3000" in caught.value.reason


def test_an_odd_profile_name_is_not_echoed_into_the_reason(config_dir: Path) -> None:
    doc = _valid_doc()
    doc["profiles"]["\x1b]0;pwned\x07" + "x" * 100] = {"token": {"accessToken": ""}}
    _write(config_dir, json.dumps(doc).encode())
    with pytest.raises(cache_file.Unusable) as caught:
        cache_file.read(str(config_dir), tighten=False)
    assert caught.value.reason == (
        "not a valid cache: profiles.(a profile with an odd name).token.accessToken"
        " must be printable ASCII and not blank"
    )


@pytest.mark.posix_only("mode bits")
def test_without_tightening_the_reader_refuses_a_loose_folder_or_file_and_changes_nothing(config_dir: Path) -> None:
    store_token(config_dir)
    for target, loose in ((config_dir, 0o755), (config_dir / "config.json", 0o640)):
        target.chmod(loose)
        with pytest.raises(cache_file.Unusable):
            cache_file.read(str(config_dir), tighten=False)
        assert target.stat().st_mode & 0o777 == loose
        assert cache_file.read(str(config_dir), tighten=True)[0]["profiles"]["default"]["token"]["accessToken"] == TOKEN
        assert target.stat().st_mode & 0o777 in (0o700, 0o600)


@pytest.mark.posix_only("FIFOs")
def test_a_fifo_where_the_file_should_be_does_not_hang_the_reader(config_dir: Path) -> None:
    config_dir.mkdir(mode=0o700)
    os.mkfifo(config_dir / "config.json", 0o600)
    with pytest.raises(cache_file.Unusable) as caught:
        cache_file.read(str(config_dir), tighten=True)
    assert caught.value.reason == "it is not a regular file"
    done = run("entry", "token")
    assert done.returncode == 5 and "not a regular file" in done.stderr


def test_no_folder_or_no_file_is_file_not_found(config_dir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        cache_file.read(str(config_dir), tighten=False)
    config_dir.mkdir(mode=0o700)
    with pytest.raises(FileNotFoundError):
        cache_file.read(str(config_dir), tighten=False)


def test_serve_starts_without_click_and_answers(config_dir: Path) -> None:
    store_token(config_dir)
    status, replies, loaded = serve_once_reporting_modules(("click", "ticktick_signon.cli.app"))
    assert status == 0
    assert replies[0]["result"]["accessToken"] == TOKEN
    assert loaded == []


@pytest.mark.posix_only("a POSIX shell closes stdout with >&-")
@pytest.mark.parametrize("module", ["entry", "cli.app"])
@pytest.mark.parametrize("args", [(), ("--format", "json"), ("--format", "pyticktick-env")])
def test_a_closed_stdout_exits_non_zero_without_a_traceback(
    config_dir: Path, module: str, args: tuple[str, ...]
) -> None:
    """`token >&-` printed an AttributeError traceback (fast path) or printed nothing and exited 0 (click)."""
    store_token(config_dir)
    code = f"import sys; from ticktick_signon.{module} import main; main(sys.argv[1:], prog_name='ticktick-signon')"
    done = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-c", code, "token", *args],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "stdout is closed" in done.stderr and TOKEN not in done.stderr
