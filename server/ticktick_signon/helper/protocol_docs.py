"""Where the helper's protocol documentation is: inside the installed package, or docs/ of a checkout.

The wheel carries docs/protocol.md and its JSON Schema as package data (setup.py
copies them in at build time, so docs/ stays their one source); running from a
source tree, they are read where they are written.
"""

from __future__ import annotations

import os

#: The files the wheel carries, as named in docs/.
FILES = ("protocol.md", "protocol.schema.json")

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGED = os.path.join(_PACKAGE, "docs")
_SOURCE_TREE = os.path.join(os.path.dirname(os.path.dirname(_PACKAGE)), "docs")


def protocol_doc(name: str = "protocol.md") -> str:
    """Return the path of one of ``FILES``: the installed copy, else the source tree's.

    Args:
        name: ``"protocol.md"`` or ``"protocol.schema.json"``.

    Returns:
        An absolute path. It names the packaged copy when neither exists, which
        is what a correctly built wheel has.
    """
    if name not in FILES:
        raise ValueError(f"not a protocol document: {name!r}")
    packaged = os.path.join(_PACKAGED, name)
    if os.path.isfile(packaged):
        return packaged
    source = os.path.join(_SOURCE_TREE, name)
    return source if os.path.isfile(source) else packaged
