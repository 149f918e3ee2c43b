"""README.md's Layout section against the package's folders: every module is named there, and every name exists.

The section's code block is parsed as a tree (two spaces of indent per level):
``server/ticktick_signon/`` opens the package, ``name/`` a subpackage, ``name.py``
a module of the folder above it; several may share a line, comma-separated. A
subpackage's ``__init__.py`` is named by its folder's line.
"""

from __future__ import annotations

import re
from pathlib import Path

import ticktick_signon

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PACKAGE_LINE = "server/ticktick_signon/"
ROOT = Path(ticktick_signon.__file__).resolve().parent


def layout_block(readme: str) -> list[str]:
    """The lines of the first code block under the ``## Layout`` heading.

    Raises:
        AssertionError: the heading or its code block is missing.
    """
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Layout' section"
    block = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), re.MULTILINE | re.DOTALL)
    assert block, "README.md's Layout section has no ``` block"
    return block.group(1).splitlines()


def named_in(lines: list[str]) -> set[str]:
    """The package's files the layout names, relative to the package (``core/oauth.py``; ``core/`` for a folder).

    Raises:
        AssertionError: the package line is missing, or a line is neither a module nor a folder.
    """
    starts = [i for i, line in enumerate(lines) if line.split("  ")[0].strip() == PACKAGE_LINE]
    assert starts, f"the Layout block has no {PACKAGE_LINE} line"
    names: set[str] = set()
    folder = ""
    for line in lines[starts[0] + 1 :]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        if depth == 0:
            break  # the next top-level entry (tests/, editors/...): the package's tree is over
        entries = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for entry in (part.strip() for part in entries.split(",")):
            assert entry.endswith((".py", "/")), f"Layout line {line.strip()!r}: {entry!r} is neither x.py nor x/"
            assert depth in (1, 2), f"Layout line {line.strip()!r} is nested deeper than package/subpackage/module"
            if depth == 1:
                folder = entry if entry.endswith("/") else ""
                names.add(entry)
            else:
                assert folder, f"Layout line {line.strip()!r} is indented under no folder"
                names.add(folder + entry)
    return names


def on_disk() -> set[str]:
    """The package's files as the layout names them: modules by path, subpackages by their folder."""
    names = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.name == "__init__.py" and relative.parent != Path("."):
            names.add(relative.parent.as_posix() + "/")
        else:
            names.add(relative.as_posix())
    return names


def drift(readme: str) -> tuple[list[str], list[str]]:
    """(files the README does not name, names in the README that do not exist)."""
    named = named_in(layout_block(readme))
    present = on_disk()
    return sorted(present - named), sorted(named - present)


def test_the_layout_names_every_module_and_only_modules_that_exist() -> None:
    missing, stale = drift(README.read_text(encoding="utf-8"))
    assert not missing, f"README.md's Layout section does not name: {missing}"
    assert not stale, f"README.md's Layout section names what the package lacks: {stale}"


def test_a_missing_or_a_stale_line_is_caught() -> None:
    readme = README.read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.strip().startswith("reader.py"))
    assert drift(readme.replace(line + "\n", "")) == (["cache/reader.py"], [])
    assert drift(readme.replace(line, line.replace("reader.py", "cache_file.py"))) == (
        ["cache/reader.py"],
        ["cache/cache_file.py"],
    )


def test_modules_sharing_a_line_and_the_end_of_the_tree_are_read() -> None:
    lines = [
        "server/ticktick_signon/   the package",
        "  entry.py, errors.py     two at the top",
        "  helper/                 a folder",
        "    framing.py, server.py  two in it",
        "tests/                    not the package",
        "  unit/                   nor this",
    ]
    assert named_in(lines) == {"entry.py", "errors.py", "helper/", "helper/framing.py", "helper/server.py"}
