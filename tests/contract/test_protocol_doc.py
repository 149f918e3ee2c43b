"""docs/protocol.md against the helper's code: its tables must list exactly what the server registers.

The document is parsed (headings, tables, backticked names) rather than grepped,
so a stale or missing row fails here. The per-method params and result tables
are also held to docs/protocol.schema.json, which test_protocol_schema.py holds
to the real helper's replies.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.rpc import read_message
from ticktick_signon import errors
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Cache, Profile, Token
from ticktick_signon.helper import server
from ticktick_signon.helper.watcher import TokenTracker
from ticktick_signon.signin.service import SignInService

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC_TEXT = (DOCS / "protocol.md").read_text(encoding="utf-8")
SCHEMA = json.loads((DOCS / "protocol.schema.json").read_text(encoding="utf-8"))


# -- a small Markdown reader: headings, their sections, and pipe tables -------------


@dataclass
class Section:
    level: int
    title: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _split_sections(text: str) -> list[Section]:
    """Every heading with the lines up to the next heading of the same or a higher level."""
    headings: list[tuple[int, int, str]] = []
    lines = text.splitlines()
    in_fence = False
    for number, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        match = re.match(r"(#{1,6})\s+(.*?)\s*$", line)
        if match and not in_fence:
            headings.append((number, len(match.group(1)), match.group(2)))
    sections = []
    for index, (start, level, title) in enumerate(headings):
        end = len(lines)
        for later_start, later_level, _ in headings[index + 1 :]:
            if later_level <= level:
                end = later_start
                break
        sections.append(Section(level, title, lines[start + 1 : end]))
    return sections


SECTIONS = _split_sections(DOC_TEXT)


def section(title: str, level: int) -> Section:
    found = [s for s in SECTIONS if s.title == title and s.level == level]
    assert len(found) == 1, f"docs/protocol.md needs exactly one {'#' * level} {title} heading, found {len(found)}"
    return found[0]


def _cells(row: str) -> list[str]:
    """Split a table row on '|' outside backticks."""
    cells, current, in_code = [], "", False
    body = row.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    for char in body:
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def tables(sec: Section) -> list[list[dict[str, str]]]:
    """The pipe tables directly in a section (not in its subsections), as rows keyed by header."""
    own: list[str] = []
    for line in sec.lines:
        if re.match(r"#{1,6}\s", line):
            break
        own.append(line)
    found, block = [], []
    for line in [*own, ""]:
        if line.strip().startswith("|"):
            block.append(line)
            continue
        if block:
            header = [h.lower() for h in _cells(block[0])]
            assert len(block) >= 2 and set(block[1].replace("|", "").strip()) <= set("-: "), block[:2]
            rows = []
            for raw in block[2:]:
                cells = _cells(raw)
                assert len(cells) == len(header), f"row has {len(cells)} cells, header {len(header)}: {raw}"
                rows.append(dict(zip(header, cells, strict=True)))
            found.append(rows)
            block = []
    return found


def table_with(sec: Section, first_header: str) -> list[dict[str, str]]:
    matches = [t for t in tables(sec) if t and next(iter(t[0])) == first_header]
    assert len(matches) == 1, f"section {sec.title!r} needs one table whose first column is {first_header!r}"
    return matches[0]


def code_name(cell: str) -> str:
    match = re.fullmatch(r"`([^`]+)`", cell.strip())
    assert match, f"expected a single backticked name, got {cell!r}"
    return match.group(1)


def top_level_names(cell: str) -> dict[str, bool]:
    """Backticked names outside parentheses, mapped to whether they are required (no trailing '?')."""
    names = {}
    for name in re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cell)):
        names[name.rstrip("?")] = not name.endswith("?")
    return names


def braced_names(cell: str) -> list[str]:
    """Top-level member names of a `{a, b: {c, d}}` cell: ['a', 'b']."""
    match = re.search(r"`\{(.*)\}`", cell)
    assert match, f"expected a `{{...}}` result, got {cell!r}"
    inner = match.group(1)
    while re.search(r"\{[^{}]*\}", inner):
        inner = re.sub(r"\{[^{}]*\}", "", inner)
    return [part.split(":")[0].strip() for part in inner.split(",")]


# -- the schema, resolved -----------------------------------------------------------


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def object_schema(name: str) -> dict[str, Any]:
    node = resolve(SCHEMA["$defs"][name])
    if "oneOf" in node:  # completeSignon.params: the by-name branch
        node = next(branch for branch in node["oneOf"] if branch.get("type") == "object")
    assert node.get("type") == "object", name
    return node


def type_words(node: dict[str, Any]) -> str:
    """The schema's type as the document writes it: 'string', 'integer or null', ..."""
    node = resolve(node)
    if "oneOf" in node:
        return " or ".join(type_words(branch) for branch in node["oneOf"])
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        return " or ".join(kinds)
    if "enum" in node and all(isinstance(v, str) for v in node["enum"]):
        return "string"
    raise AssertionError(f"no type in {node}")


def registered_features() -> set[str]:
    helper = server.create_server(SignInService(TokenStore(Path("/nonexistent/never-written"))))
    return set(helper.protocol.fm.features)


# -- the tests ----------------------------------------------------------------------


def test_methods_table_lists_exactly_the_registered_methods() -> None:
    rows = table_with(section("Methods", 2), "method")
    documented = [code_name(row["method"]) for row in rows]
    assert len(documented) == len(set(documented)), f"duplicate rows: {documented}"
    assert set(server.METHODS) == registered_features(), "server.METHODS and the registered features disagree"
    assert set(documented) == registered_features()


def test_every_method_has_its_own_section_and_nothing_else_does() -> None:
    methods = section("Methods", 2)
    subsections = [s.title for s in SECTIONS if s.level == 3 and f"### {s.title}" in methods.text]
    assert sorted(code_name(title) for title in subsections) == sorted(registered_features())


@pytest.mark.parametrize("method", server.METHODS)
def test_method_section_params_match_the_schema(method: str) -> None:
    rows = table_with(section(f"`{method}`", 3), "param")
    schema = object_schema(f"{method}.params")
    documented = {code_name(row["param"]): row for row in rows}
    assert set(documented) == set(schema["properties"]), f"{method} params: doc and schema disagree"
    for name, row in documented.items():
        prop = schema["properties"][name]
        assert row["type"] == type_words(prop), f"{method}.{name}: doc type {row['type']!r}"
        required = name in schema.get("required", [])
        assert (row["default"] == "(required)") == required, f"{method}.{name}: required-ness differs"
        if "default" in prop:
            assert f"`{json.dumps(prop['default'])}`" in row["default"], f"{method}.{name}: default differs"
        assert row["meaning"], f"{method}.{name} has no meaning"


@pytest.mark.parametrize("method", server.METHODS)
def test_method_section_result_matches_the_schema(method: str) -> None:
    rows = table_with(section(f"`{method}`", 3), "field")
    schema = object_schema(f"{method}.result")
    documented = [code_name(row["field"]) for row in rows]
    assert documented == list(schema["properties"]), f"{method} result: doc {documented}"
    assert set(schema["required"]) == set(documented), f"{method}: every result field is always present"
    for row in rows:
        assert row["type"] == type_words(schema["properties"][code_name(row["field"])]), row


def test_methods_summary_agrees_with_each_method_section() -> None:
    for row in table_with(section("Methods", 2), "method"):
        method = code_name(row["method"])
        params = table_with(section(f"`{method}`", 3), "param")
        summary_params = top_level_names(row["params"])
        assert set(summary_params) == {code_name(p["param"]) for p in params}, method
        for p in params:
            name = code_name(p["param"])
            assert summary_params[name] == (p["default"] == "(required)"), f"{method}.{name}: '?' in summary"
        results = table_with(section(f"`{method}`", 3), "field")
        assert braced_names(row["result"]) == [code_name(r["field"]) for r in results], method


def test_notifications_table_lists_exactly_what_the_server_sends() -> None:
    sent: list[str] = []

    class Recorder:
        def notify(self, method: str, params: Any) -> None:
            sent.append(method)

    notifier = server.LoopbackNotifier(Recorder())  # type: ignore[arg-type]
    notifier.completed("default", 1)
    notifier.failed("default", errors.NoPendingSignon("expired"))
    tracker = TokenTracker()  # what each helper's TokenWatcher sends
    tracker.observe(Cache(), 0)
    soon = Profile(token=Token("t", "bearer", "tasks:read", 3600))
    sent.extend(method for method, _ in tracker.observe(Cache().with_profile("default", soon), 0))
    assert sorted(sent) == sorted(server.NOTIFICATIONS)

    rows = table_with(section("Notifications", 2), "notification")
    documented = [code_name(row["notification"]) for row in rows]
    assert len(documented) == len(set(documented))
    assert set(documented) == set(server.NOTIFICATIONS)
    for row in rows:
        name = code_name(row["notification"])
        assert braced_names(row["params"]) == list(object_schema(f"{name}.params")["properties"]), name
        assert row["sent when"], name


def test_error_table_lists_exactly_the_error_tree() -> None:
    rows = table_with(section("Errors", 2), "code")
    documented = [(int(row["code"]), code_name(row["kind"])) for row in rows]
    assert len({code for code, _ in documented}) == len(documented), "a code is listed twice"
    assert set(documented) == {(leaf.code, leaf.kind) for leaf in errors.LEAVES}
    for row in rows:
        for column in ("when", "data", "what a client should do"):
            assert row[column], f"{row['kind']}: empty {column!r}"


def test_error_table_data_members_match_the_schema() -> None:
    for row in table_with(section("Errors", 2), "code"):
        kind = code_name(row["kind"])
        data = object_schema(f"errorData.{kind}")
        documented = top_level_names(row["data"])
        assert set(documented) == set(data["properties"]), f"{kind}: data members"
        assert {name for name, required in documented.items() if required} == set(data["required"]), kind


def test_framing_example_has_the_right_content_length() -> None:
    transport = section("Transport and framing", 2).text
    block = re.search(r"```text\n(.*?)```", transport, re.DOTALL)
    assert block, "the framing example is missing"
    header, body = block.group(1).split("\\r\\n\n\\r\\n\n")
    wire = header.encode() + b"\r\n\r\n" + body.rstrip("\n").encode()
    # Read by the helper's own frame reader: a wrong Content-Length leaves bytes over or cuts the JSON short.
    stream = io.BytesIO(wire)
    assert isinstance(read_message(stream), dict)
    assert stream.read() == b"", "the example's Content-Length is shorter than its body"


def test_parser_catches_a_stale_row() -> None:
    """The table reader must see a row that names something the server lacks."""
    stale = DOC_TEXT.replace("| `signOut` | `profile?`, `forget?` |", "| `logOut` | `profile?`, `forget?` |")
    assert stale != DOC_TEXT
    rows = table_with(next(s for s in _split_sections(stale) if s.title == "Methods"), "method")
    assert {code_name(row["method"]) for row in rows} != registered_features()


# -- the sandbox's approval page, as documented for test authors -------------------------


class _FormReader:
    """The one form of a page: its method, action, inputs and buttons, by the names a test automates."""

    def __init__(self, html_text: str) -> None:
        from html.parser import HTMLParser

        self.form: dict[str, str] = {}
        self.fields: list[tuple[str, ...]] = []
        reader = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                a = {k: v or "" for k, v in attrs}
                if tag == "form":
                    reader.form = {"method": a.get("method", ""), "action": a.get("action", "")}
                elif tag == "input":
                    reader.fields.append(("input", a.get("type", ""), a.get("name", "")))
                elif tag == "button":
                    reader.fields.append(("button", a.get("name", ""), a.get("value", ""), a.get("id", "")))

        Parser().feed(html_text)


def test_the_sandbox_approval_page_is_the_documented_form_and_behaves_as_said() -> None:
    """A client author can automate a test sign-in from the doc alone, without scraping the page."""
    from urllib.parse import parse_qs, urlsplit

    import httpx

    from ticktick_signon.core import oauth
    from ticktick_signon.sandbox import SandboxProvider

    sec = section("The sandbox, for test authors", 2)
    snippet = re.search(r"```html\n(.*?)```", sec.text, re.DOTALL)
    assert snippet, "the section shows the approval form"
    documented = _FormReader(snippet.group(1))
    redirect = "http://127.0.0.1:9/cb"
    with SandboxProvider() as provider, httpx.Client(follow_redirects=False, timeout=10) as client:
        page = client.get(oauth.build_authorize_url(provider.base_url, "sandbox-client", redirect, "st"))
        assert page.status_code == 200
        actual = _FormReader(page.text)
        assert (actual.form, actual.fields) == (documented.form, documented.fields)
        request_id = re.search(r"name=request value='([^']+)'", page.text).group(1)  # type: ignore[union-attr]
        decision = f"{provider.base_url}{documented.form['action']}"
        allowed = client.post(decision, data={"request": request_id, "decision": "allow"})
        assert allowed.status_code == 302
        assert set(parse_qs(urlsplit(allowed.headers["location"]).query)) == {"code", "state"}
        assert client.post(decision, data={"request": request_id, "decision": "allow"}).status_code == 400  # once only
        page = client.get(oauth.build_authorize_url(provider.base_url, "sandbox-client", redirect, "st2"))
        request_id = re.search(r"name=request value='([^']+)'", page.text).group(1)  # type: ignore[union-attr]
        denied = client.post(decision, data={"request": request_id, "decision": "deny"})
        query = parse_qs(urlsplit(denied.headers["location"]).query)
        assert denied.status_code == 302 and query["error"] == ["access_denied"] and query["state"] == ["st2"]
    with SandboxProvider(auto_approve=True) as provider:
        at_once = httpx.get(oauth.build_authorize_url(provider.base_url, "sandbox-client", redirect, "st3"), timeout=10)
        assert at_once.status_code == 302
        assert parse_qs(urlsplit(at_once.headers["location"]).query)["state"] == ["st3"]
    assert "--auto-approve" in sec.text and "#allow" in sec.text and "#deny" in sec.text


def test_the_vs_code_client_knows_every_error_code_by_its_kind() -> None:
    """Clients branch on codes: the VS Code client's ErrorCode table is the error tree's, code for code."""
    source = (Path(__file__).resolve().parents[2] / "editors" / "vscode" / "src" / "helper" / "protocol.ts").read_text()
    table = source[source.index("export const ErrorCode = {") : source.index("} as const;", source.index("ErrorCode"))]
    client = {kind: int(code) for kind, code in re.findall(r"^\s*(\w+): (-\d+),", table, re.M)}
    assert client == {leaf.kind: leaf.code for leaf in errors.LEAVES}
