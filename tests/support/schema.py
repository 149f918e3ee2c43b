"""docs/protocol.schema.json as a validator: every suite that checks a message checks it against the one schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "protocol.schema.json").read_text(encoding="utf-8"))


def validator(definition: str | None = None) -> Draft202012Validator:
    """A validator for one ``$defs`` entry, or for the root schema (any message the helper sends).

    Raises:
        AssertionError: the schema has no such definition.
    """
    if definition is None:
        return Draft202012Validator(SCHEMA)
    assert definition in SCHEMA["$defs"], f"the schema has no $defs/{definition}"
    return Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"})


def problems(definition: str | None, instance: Any) -> list[str]:
    """Every way ``instance`` breaks ``definition`` (the root schema when None), as ``path: message`` lines."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(definition).iter_errors(instance)]


def assert_valid(definition: str | None, instance: Any) -> None:
    """Fail the test, listing the problems, unless ``instance`` matches ``definition`` (the root schema when None)."""
    found = problems(definition, instance)
    assert not found, f"{definition or 'root'} rejects {json.dumps(instance)}:\n" + "\n".join(found)
