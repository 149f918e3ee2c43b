"""The package a user installs: the sdist and wheel, checked as an index checks them, then installed
outside the repository the ways the README says (a fresh venv, pipx, uv tool) and used for a sign-on.

The fresh environments get their dependencies from the package index, exactly as a user's install
does: that is what proves the wheel declares everything it needs (a venv that borrowed this suite's
packages would not). CI reaches the index (PyPI), and pip's and uv's caches make a second run quick.
Nothing here runs inside the repository: every command's working directory is a temp folder, and the
tests check that the code which ran is the installed copy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import ticktick_signon
from tests.support.rpc import encode_frame, split_frames

ROOT = Path(__file__).resolve().parents[2]
VERSION = ticktick_signon.__version__
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""
INSTALL_TIMEOUT = 600

# Whatever points Python or pip at this checkout or its venv stays out of the installs under test.
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PIPX_HOME", "PIPX_BIN_DIR")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _LEAKY and not name.startswith("UV_")}
    env["PYTHONNOUSERSITE"] = "1"  # a user site-packages could hold another ticktick_signon
    env.update(extra)
    return env


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = INSTALL_TIMEOUT):
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env if env is not None else _clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {result.returncode}\nstdout:\n{result.stdout[-4000:]}\n"
            f"stderr:\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    return result


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """`python -m build` of this tree: the sdist, and the wheel built from that sdist (not from the tree)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert [p.name for p in sdists] == [f"ticktick_signon-{VERSION}.tar.gz"]
    assert [p.name for p in wheels] == [f"ticktick_signon-{VERSION}-py3-none-any.whl"]
    return Dist(sdists[0], wheels[0])


@pytest.fixture(scope="module")
def fresh_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv outside the repository with the wheel installed by pip (dependencies from the index)."""
    where = tmp_path_factory.mktemp("fresh")
    venv = where / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=where)
    _run(
        [venv / BIN / f"python{EXE}", "-m", "pip", "install", "--disable-pip-version-check", "-q", dist.wheel],
        cwd=where,
    )
    return venv


def _sign_in_and_read(command: Path, cwd: Path, config_dir: Path) -> str:
    """`login --sandbox`, then `token` and `status`, through ``command``; returns the token."""
    env = _clean_env(TICKTICK_SIGNON_CONFIG_DIR=str(config_dir))
    login = _run([command, "login", "--sandbox"], cwd=cwd, env=env, timeout=120)
    token = _run([command, "token", "--profile", "sandbox"], cwd=cwd, env=env, timeout=60).stdout.strip()
    assert token, "token printed nothing"
    assert token not in login.stdout + login.stderr, "login --sandbox showed the token"
    status = json.loads(
        _run([command, "status", "--profile", "sandbox", "--json"], cwd=cwd, env=env, timeout=60).stdout
    )
    assert status["signedIn"] is True
    assert Path(status["configPath"]) == config_dir / "config.json"
    return token


# -- the artifacts ---------------------------------------------------------------------------------


def test_twine_check_strict_passes_on_both(dist: Dist, tmp_path: Path) -> None:
    result = _run([sys.executable, "-m", "twine", "check", "--strict", dist.sdist, dist.wheel], cwd=tmp_path)
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_long_description_renders_with_no_link_into_the_repository(dist: Dist) -> None:
    """What the index shows: the README rendered by readme_renderer, whose links must all be absolute."""
    from readme_renderer.markdown import render

    with zipfile.ZipFile(dist.wheel) as wheel:
        metadata = wheel.read(f"ticktick_signon-{VERSION}.dist-info/METADATA").decode()
    assert "Description-Content-Type: text/markdown" in metadata
    description = metadata.split("\n\n", 1)[1]
    assert description.strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()
    html = render(description)
    assert html is not None, "readme_renderer could not render the README as Markdown"
    links = re.findall(r'(?:href|src)="([^"]*)"', html)
    # readme_renderer adds the #user-content-… anchors of headings itself.
    relative = [link for link in links if not re.match(r"https?://", link) and not link.startswith("#user-content-")]
    assert not relative, f"links that only work inside the repository (write the path as code instead): {relative}"


def test_the_wheel_carries_the_package_the_protocol_docs_and_the_licence(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        docs = {name: wheel.read(f"ticktick_signon/docs/{name}") for name in ("protocol.md", "protocol.schema.json")}
        entry_points = wheel.read(f"ticktick_signon-{VERSION}.dist-info/entry_points.txt").decode()
        metadata = wheel.read(f"ticktick_signon-{VERSION}.dist-info/METADATA").decode()
    for name, content in docs.items():
        assert content == (ROOT / "docs" / name).read_bytes(), f"the wheel's {name} differs from docs/{name}"
    # Every module of every subpackage, by its path in the package: a subpackage left out of the build fails here.
    modules = {name for name in names if name.startswith("ticktick_signon/") and name.endswith(".py")}
    package = ROOT / "server"
    assert modules == {path.relative_to(package).as_posix() for path in (package / "ticktick_signon").rglob("*.py")}
    assert f"ticktick_signon-{VERSION}.dist-info/licenses/LICENSE" in names
    assert "ticktick-signon = ticktick_signon.entry:main" in entry_points
    assert f"\nVersion: {VERSION}\n" in metadata and "\nLicense-Expression: MIT\n" in metadata
    assert not [name for name in names if name.startswith(("tests/", "editors/", "benchmarks/"))]


def test_the_sdist_builds_the_wheel_and_leaves_the_suite_in_the_repository(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in (
        "pyproject.toml",
        "setup.py",
        "MANIFEST.in",
        "README.md",
        "LICENSE",
        "docs/protocol.md",
        "docs/protocol.schema.json",
        "server/ticktick_signon/__init__.py",
    ):
        assert needed in names, f"the sdist lacks {needed}"
    assert not [name for name in names if name.startswith(("tests/", ".venv/", "editors/"))]


def test_the_version_is_written_once() -> None:
    """pyproject reads it from the package; the Emacs package header must say the same."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11+")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ticktick_signon.__version__"}
    header = re.search(r"^;; Version: (\S+)$", (ROOT / "editors/emacs/ticktick-signon.el").read_text(), re.MULTILINE)
    assert header and header.group(1) == VERSION


def test_the_readme_names_the_wheel_this_version_builds(dist: Dist) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"ticktick_signon-[0-9][^\s`/\\]*?\.whl", readme))
    assert named == {dist.wheel.name}, f"the README's Install names {named}; this version builds {dist.wheel.name}"


# -- installed in a fresh venv, outside the repository -------------------------------------------------


def test_fresh_venv_runs_a_whole_sandbox_sign_on(fresh_venv: Path, tmp_path: Path, config_dir: Path) -> None:
    python = fresh_venv / BIN / f"python{EXE}"
    where = _run([python, "-c", "import ticktick_signon; print(ticktick_signon.__file__)"], cwd=tmp_path).stdout
    assert Path(where.strip()).is_relative_to(fresh_venv), f"ran {where.strip()}, not the installed copy"
    _sign_in_and_read(fresh_venv / BIN / f"ticktick-signon{EXE}", tmp_path, config_dir)


def test_fresh_venv_version_and_module_entry(fresh_venv: Path, tmp_path: Path) -> None:
    out = _run([fresh_venv / BIN / f"ticktick-signon{EXE}", "--version"], cwd=tmp_path).stdout
    assert out == f"ticktick-signon, version {VERSION}\n"
    out = _run([fresh_venv / BIN / f"python{EXE}", "-m", "ticktick_signon", "--version"], cwd=tmp_path).stdout
    assert out == f"ticktick-signon, version {VERSION}\n"


def test_fresh_venv_points_at_protocol_docs_it_has(fresh_venv: Path, tmp_path: Path, config_dir: Path) -> None:
    """`serve --help` and the helper's methodNotFound name the packaged protocol.md, which exists."""
    command = fresh_venv / BIN / f"ticktick-signon{EXE}"
    help_text = _run([command, "serve", "--help"], cwd=tmp_path).stdout
    match = re.search(r"^  (\S+protocol\.md)$", help_text, flags=re.MULTILINE)  # on a line of its own, unwrapped
    assert match, help_text
    packaged = Path(match.group(1))
    assert packaged.is_relative_to(fresh_venv) and packaged.read_bytes() == (ROOT / "docs/protocol.md").read_bytes()

    frame = encode_frame({"jsonrpc": "2.0", "id": 1, "method": "noSuchMethod"})
    env = _clean_env(TICKTICK_SIGNON_CONFIG_DIR=str(config_dir))
    served = subprocess.run([command, "serve"], input=frame, cwd=tmp_path, env=env, capture_output=True, timeout=60)
    (reply,) = split_frames(served.stdout)
    assert reply["error"]["code"] == -32601
    assert reply["error"]["message"].endswith(f"the methods are in {packaged}."), reply


# -- pipx and uv tool, as the README's Install says ----------------------------------------------------


def test_pipx_install_of_the_wheel_signs_in_and_uninstall_keeps_the_cache(
    dist: Dist, tmp_path: Path, config_dir: Path
) -> None:
    home, bin_dir = tmp_path / "pipx-home", tmp_path / "pipx-bin"
    env = _clean_env(PIPX_HOME=str(home), PIPX_BIN_DIR=str(bin_dir), PIPX_MAN_DIR=str(tmp_path / "pipx-man"))
    pipx = [sys.executable, "-m", "pipx"]
    _run([*pipx, "install", dist.wheel], cwd=tmp_path, env=env)
    command = bin_dir / f"ticktick-signon{EXE}"
    _sign_in_and_read(command, tmp_path, config_dir)
    _run([*pipx, "install", "--force", dist.wheel], cwd=tmp_path, env=env)  # the README's upgrade
    assert (
        _run(
            [command, "status", "--profile", "sandbox", "--json"],
            cwd=tmp_path,
            env=_clean_env(TICKTICK_SIGNON_CONFIG_DIR=str(config_dir)),
        ).stdout.count('"signedIn": true')
        == 1
    )
    _run([*pipx, "uninstall", "ticktick-signon"], cwd=tmp_path, env=env)
    assert not command.exists()
    cache = json.loads((config_dir / "config.json").read_text())
    assert cache["profiles"]["sandbox"]["token"]["accessToken"], "uninstalling must leave the token cache alone"


def test_uv_tool_install_from_a_source_tree_signs_in(dist: Dist, tmp_path: Path, config_dir: Path) -> None:
    """From the unpacked sdist, a source tree like a clone (a build there cannot touch this checkout)."""
    from uv import find_uv_bin

    with tarfile.open(dist.sdist) as sdist:
        sdist.extractall(tmp_path / "src", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    tree = tmp_path / "src" / f"ticktick_signon-{VERSION}"
    bin_dir = tmp_path / "uv-bin"
    env = _clean_env(
        UV_TOOL_DIR=str(tmp_path / "uv-tools"),
        UV_TOOL_BIN_DIR=str(bin_dir),
        UV_PYTHON_DOWNLOADS="never",  # the interpreter this suite runs on, never a downloaded one
    )
    _run([find_uv_bin(), "tool", "install", "--python", sys.executable, tree], cwd=tmp_path, env=env)
    command = bin_dir / f"ticktick-signon{EXE}"
    assert _run([command, "--version"], cwd=tmp_path, env=env).stdout == f"ticktick-signon, version {VERSION}\n"
    _sign_in_and_read(command, tmp_path, config_dir)
    _run([find_uv_bin(), "tool", "uninstall", "ticktick-signon"], cwd=tmp_path, env=env)
    assert not command.exists() and (config_dir / "config.json").is_file()
