"""The package's layering: every module imports only from its own subpackage or from lower layers.

Every module of ``ticktick_signon`` is imported (so each one loads on its own) and
its source parsed, imports inside functions included: a deferred import is still
a dependency. The layer table below is the one statement of the order; the
failure messages name the module, the line and the import that break it.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import ticktick_signon

PACKAGE = "ticktick_signon"
ROOT = Path(ticktick_signon.__file__).resolve().parent

#: Low to high. A module may import from its own unit or from a unit on a lower layer, never sideways or up.
#: A unit is a subpackage (``core``), a top-level module (``sandbox``) or ``__init__`` (the package itself).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "__init__", "streams"),
    ("core",),
    ("cache", "upstream"),
    ("imports",),
    ("signin",),
    ("sandbox",),
    ("runtime",),
    ("helper",),
    ("cli",),
    ("entry", "__main__"),
)
LAYER_OF = {unit: level for level, units in enumerate(LAYERS) for unit in units}
#: Units on one layer that may still import each other: ``python -m ticktick_signon`` is the console script's twin.
SAME_LAYER_ALLOWED = {("__main__", "entry")}

#: The only unit that may import the HTTP client.
HTTP_CLIENT = ("httpx", "httpcore")
HTTP_CLIENT_HOME = "upstream"

#: What ``core`` may not import: it is pure, so no sockets, HTTP, processes, threads, files or the environment.
#: (pathlib stays allowed for naming paths; ``open()`` is checked separately.)
IO_MODULES = (
    "asyncio",
    "filelock",
    "http",
    "httpcore",
    "httpx",
    "io",
    "multiprocessing",
    "os",
    "platformdirs",
    "selectors",
    "shutil",
    "signal",
    "socket",
    "ssl",
    "subprocess",
    "tempfile",
    "threading",
    "urllib.request",
)

#: Imports that break the rules today, each with the change that removes it. The test fails when one
#: disappears too, so the list only shrinks: delete the entry in the commit that fixes it.
KNOWN_BREACHES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as an absolute module name, and where it is."""

    module: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.target}"


def package_modules() -> list[str]:
    """Every module and subpackage of the package, by walking its folders (not by a list kept by hand)."""
    names = [PACKAGE]
    names += [info.name for info in pkgutil.walk_packages([str(ROOT)], prefix=f"{PACKAGE}.")]
    return sorted(names)


def source_of(module: str) -> Path:
    path = Path(importlib.import_module(module).__file__ or "")
    assert path.suffix == ".py" and path.is_relative_to(ROOT), f"{module} does not come from {ROOT}: {path}"
    return path


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of ``ticktick_signon`` (as opposed to a name inside one)."""
    relative = name.split(".")[1:]
    return (ROOT.joinpath(*relative).with_suffix(".py")).is_file() or ROOT.joinpath(*relative, "__init__.py").is_file()


def imports_of(module: str) -> list[Import]:
    """Each import in ``module``'s source, at any depth, with relative ones made absolute."""
    path = source_of(module)
    return imports_in(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")


def imports_in(module: str, text: str, *, is_package: bool = False) -> list[Import]:
    """Each import in ``text``, the source of ``module``, at any depth, with relative ones made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base == "__future__":
                continue
            for alias in node.names:
                # `from ticktick_signon.cache import reader` depends on the module reader, not just the package.
                candidate = f"{base}.{alias.name}"
                inside = candidate.startswith(f"{PACKAGE}.") and is_module(candidate)
                found.append(Import(module, candidate if inside else base, node.lineno))
    return found


def unit_of(module: str) -> str:
    """The layer unit ``module`` belongs to: its subpackage, its own name at the top, or ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def layer_breach(found: Import) -> str | None:
    """Why ``found`` breaks the layer order, or None."""
    if not is_under(found.target, (PACKAGE,)):
        return None
    own, other = unit_of(found.module), unit_of(found.target)
    assert own in LAYER_OF, f"{found.module} is in no layer: add its unit {own!r} to LAYERS"
    assert other in LAYER_OF, f"{found.target} is in no layer: add its unit {other!r} to LAYERS"
    if own == other or LAYER_OF[other] < LAYER_OF[own] or (own, other) in SAME_LAYER_ALLOWED:
        return None
    direction = "sideways" if LAYER_OF[other] == LAYER_OF[own] else "upwards"
    return f"{found}: {own} (layer {LAYER_OF[own]}) may not import {other} (layer {LAYER_OF[other]}), {direction}"


def http_client_breach(found: Import) -> str | None:
    if is_under(found.target, HTTP_CLIENT) and unit_of(found.module) != HTTP_CLIENT_HOME:
        return f"{found}: only {HTTP_CLIENT_HOME}/ may import the HTTP client"
    return None


def core_io_breach(found: Import) -> str | None:
    if unit_of(found.module) == "core" and is_under(found.target, IO_MODULES):
        return f"{found}: core/ is pure and may not import I/O modules"
    return None


def breaches(module: str) -> list[tuple[Import, str]]:
    """Every rule ``module``'s imports break, as (the import, the sentence saying which rule)."""
    found = []
    for each in imports_of(module):
        for rule in (layer_breach, http_client_breach, core_io_breach):
            reason = rule(each)
            if reason:
                found.append((each, reason))
    return found


MODULES = package_modules()


def test_the_walk_finds_every_subpackage_and_module() -> None:
    """The walk is the test's whole reach, so it must see every file under the package's folder."""
    on_disk = {
        ".".join([PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]).removesuffix(".__init__")
        for path in ROOT.rglob("*.py")
    }
    assert set(MODULES) == on_disk


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_only_from_its_own_unit_or_lower_layers(module: str) -> None:
    found = [(each, reason) for each, reason in breaches(module) if (module, each.target) not in KNOWN_BREACHES]
    assert not found, "\n".join(reason for _, reason in found)


def test_every_known_breach_is_still_there() -> None:
    """An entry of KNOWN_BREACHES whose import is gone must be deleted, so the list can only shrink."""
    seen = {(module, each.target) for module in MODULES for each, _ in breaches(module)}
    stale = sorted(set(KNOWN_BREACHES) - seen)
    assert not stale, f"fixed: delete these from KNOWN_BREACHES: {stale}"


@pytest.mark.parametrize("module", [m for m in MODULES if unit_of(m) == "core"])
def test_core_opens_no_files(module: str) -> None:
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert not calls, f"{module} calls open() on line(s) {calls}: core/ is pure"


@pytest.mark.parametrize("module", [m for m in MODULES if m != PACKAGE and source_of(m).name == "__init__.py"])
def test_subpackage_init_files_are_empty(module: str) -> None:
    """Importing ``cache.reader`` runs ``cache/__init__.py`` first: the fast `token` path pays for what it holds."""
    text = source_of(module).read_text(encoding="utf-8")
    assert text.strip() == "", f"{source_of(module)} must stay empty (cold start and the `token` path load it)"


# -- the checks can fail ----------------------------------------------------------------------------------


def test_the_rules_catch_an_upward_a_sideways_an_http_and_an_io_import() -> None:
    def reasons(module: str, target: str) -> list[str]:
        found = Import(module, target, 1)
        return [r for r in (layer_breach(found), http_client_breach(found), core_io_breach(found)) if r]

    assert "upwards" in reasons("ticktick_signon.core.oauth", "ticktick_signon.cache.store")[0]
    assert "sideways" in reasons("ticktick_signon.cache.store", "ticktick_signon.upstream.token_exchange")[0]
    assert "HTTP client" in reasons("ticktick_signon.cli.app", "httpx")[0]
    assert "pure" in reasons("ticktick_signon.core.records", "os.path")[0]
    assert "pure" in reasons("ticktick_signon.core.records", "urllib.request")[0]
    assert reasons("ticktick_signon.cli.app", "ticktick_signon.core.oauth") == []
    assert reasons("ticktick_signon.upstream.token_exchange", "httpx") == []
    assert reasons("ticktick_signon.__main__", "ticktick_signon.entry") == []
    assert reasons("ticktick_signon.core.oauth", "urllib.parse") == []


def test_relative_deferred_and_from_package_imports_are_all_seen() -> None:
    source = (
        "from . import oauth\n"
        "from ..errors import InvalidParams\n"
        "from ticktick_signon.cache import reader\n"
        "def later():\n"
        "    import httpx\n"
    )
    found = [(each.target, each.line) for each in imports_in("ticktick_signon.core.records", source)]
    assert found == [
        ("ticktick_signon.core.oauth", 1),
        ("ticktick_signon.errors", 2),
        ("ticktick_signon.cache.reader", 3),
        ("httpx", 5),
    ]
    assert imports_in("ticktick_signon.core", "from . import oauth", is_package=True)[0].target == (
        "ticktick_signon.core.oauth"
    )
