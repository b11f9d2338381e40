"""The REST API's reference page (``/docs``): drawn from the OpenAPI schema, every operation and schema
on it, links that land, and nothing fetched from elsewhere (it reads offline)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from pmtwin.serve.apidocs import _Page, api_docs_html
from tests.serve.helpers import serve_client

METHODS = ("get", "post", "put", "patch", "delete")


def test_docs_page_lists_every_operation_and_schema_offline(tmp_path: Path) -> None:
    with serve_client(tmp_path / "store") as client:
        docs = client.get("/docs")
        schema = client.get("/openapi.json").json()
        swagger, redoc = client.get("/docs/oauth2-redirect"), client.get("/redoc")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    page = docs.text
    assert "<script" not in page and "<link" not in page and "src=" not in page  # nothing to fetch
    assert not re.search(r"(https?:)?//", page)  # no address outside the server
    assert swagger.status_code == redoc.status_code == 404 and "/docs" not in schema["paths"]

    operations = [
        (path, method) for path, item in schema["paths"].items() for method in METHODS if method in item
    ]
    assert len(operations) >= 14
    for path, method in operations:
        operation = schema["paths"][path][method]
        heading = re.search(rf"<h3 id='op-{re.escape(operation['operationId'])}'>(.*?)</h3>", page)
        assert heading is not None, (path, method)
        assert f">{method.upper()}</span> <code>{path}</code>" in heading.group(1)
        assert operation["summary"] in heading.group(1)
    for name in schema["components"]["schemas"]:
        assert f"<h3 id='schema-{name}'>{name} " in page
    ids = set(re.findall(r" id='([^']+)'", page))
    targets = set(re.findall(r"href='#([^']+)'", page))
    assert targets and targets <= ids  # every link lands on a section
    assert {f"op-{schema['paths'][p][m]['operationId']}" for p, m in operations} <= targets  # the contents


def test_types_in_words() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "integer"}, "integer"),
        ({"type": "string", "format": "date-time"}, "string (date-time)"),
        ({"anyOf": [{"type": "number", "maximum": 1000.0, "exclusiveMinimum": 0.0}, {"type": "null"}]},
         "number, &gt; 0, ≤ 1000 | null"),
        ({"type": "string", "maxLength": 80, "pattern": "^[a-z]+$"},
         "string, at most 80 characters, matching <code>^[a-z]+$</code>"),
        ({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
         "array of (string | integer)"),
        ({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/A<b>"}},
         "object of <a href='#schema-A&lt;b&gt;'>A&lt;b&gt;</a>"),
        ({"enum": ["fifo", "nersc"]}, "one of <code>&quot;fifo&quot;</code>, <code>&quot;nersc&quot;</code>"),
        ({"const": "trace"}, "<code>&quot;trace&quot;</code>"),
        ({"oneOf": [{"$ref": "#/components/schemas/G"}, {"$ref": "#/components/schemas/T"}],
          "discriminator": {"propertyName": "kind"}},
         "<a href='#schema-G'>G</a> | <a href='#schema-T'>T</a> (by <code>kind</code>)"),
        ({}, "any"),
    ]  # fmt: skip
    page = _Page({"components": {"schemas": {"A<b>": {}, "G": {}, "T": {}}}})
    assert [page._type(schema) for schema, _ in cases] == [words for _, words in cases]


def test_text_from_the_schema_is_escaped_and_literals_are_code() -> None:
    schema = {
        "openapi": "3.1.0",
        "info": {"title": "t <i>", "version": "1"},
        "paths": {"/x": {"get": {"summary": "S", "description": "Reads ``a<b>``.\n\nSecond <p>.",
                                 "operationId": "x_get", "responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": {"M": {"type": "object", "description": "``m``", "required": ["f"],
                                         "properties": {"f": {"type": "integer", "default": 3}}}}},
    }  # fmt: skip
    page = api_docs_html(schema)
    assert "<title>t &lt;i&gt;: API</title>" in page
    assert "<p>Reads <code>a&lt;b&gt;</code>.</p>\n<p>Second &lt;p&gt;.</p>" in page
    assert "<h3 id='schema-M'>M <small>object</small></h3>\n<p><code>m</code></p>" in page
    assert "<tr><td><code>f</code> <span class='required' title='required'>*</span></td>" in page
    assert "<td>integer (default <code>3</code>)</td>" in page


def document(
    paths: dict[str, Any], schemas: dict[str, Any] | None = None, **components: Any
) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas or {}, **components}}  # fmt: skip


def ok(description: str = "d", **content: Any) -> dict[str, Any]:
    return {"200": {"description": description, "content": content}}


def test_unusual_documents_draw_a_page_whose_links_all_land() -> None:
    json_of = lambda schema: {"application/json": {"schema": schema}}  # noqa: E731
    parameter = {"name": "x", "in": "query", "schema": {"type": "integer"}}
    documents = {
        "items true": document(
            {"/a": {"get": {"responses": ok(**json_of({"type": "array", "items": True}))}}}
        ),
        "property true": document({}, {"S": {"type": "object", "properties": {"x": True}}}),
        "parameter by reference": document(
            {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/P"}], "responses": {}}}},
            parameters={"P": parameter},
        ),
        "unresolved parameter": document(
            {"/a": {"get": {"parameters": [{"$ref": "#/x/P"}], "responses": {}}}}
        ),
        "response by reference": document(
            {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}}},
            responses={"R": {"description": "shared"}},
        ),
        "reference to a missing schema": document(
            {"/a": {"get": {"responses": ok(**json_of({"$ref": "#/components/schemas/Gone"}))}}}
        ),
        "type list and allOf": document(
            {},
            {
                "S": {
                    "type": "object",
                    "properties": {
                        "x": {"type": ["string", "null"]},
                        "y": {"allOf": [{"$ref": "#/components/schemas/T"}]},
                    },
                },
                "T": {"type": "string"},
            },
        ),  # fmt: skip
        "one operationId twice, with blanks": document(
            {"/a": {"get": {"operationId": "x y", "responses": {}}}, "/b": {"get": {"operationId": "x y"}}}
        ),
        "no operationId, path-level parameters": document(
            {"/a/{id}": {"parameters": [parameter], "get": {"responses": {}}, "head": {"responses": {}}}}
        ),
        "nulls": document(
            {"/a": {"get": {"description": None, "summary": None, "responses": ok(None, **{"a/b": None})}}}
        ),
        "generic schema names": document({}, {"Page[Item]": {"type": "object"}, "a b": {"type": "object"}}),
    }
    for name, doc in documents.items():
        page = api_docs_html(doc)
        ids = [html.unescape(anchor) for anchor in re.findall(r" id='([^']*)'", page)]
        links = {html.unescape(target) for target in re.findall(r"href='#([^']*)'", page)}
        assert len(ids) == len(set(ids)) and links <= set(ids), name
        assert not any(re.search(r"\s", anchor) for anchor in ids if anchor.startswith("op-")), name
        assert "None" not in page, name
    drawn = api_docs_html(documents["parameter by reference"])
    assert "<td><code>x</code></td><td>query</td><td>integer</td>" in drawn
    assert "unresolved <code>#/x/P</code>" in api_docs_html(documents["unresolved parameter"])
    assert "<td>shared</td>" in api_docs_html(documents["response by reference"])
    assert "<code>#/components/schemas/Gone</code>" in api_docs_html(
        documents["reference to a missing schema"]
    )
    assert "string | null" in api_docs_html(documents["type list and allOf"])
    assert {"op-x-y", "op-x-y-2"} <= set(
        re.findall(r" id='([^']*)'", api_docs_html(documents["one operationId twice, with blanks"]))
    )
    both = api_docs_html(documents["no operationId, path-level parameters"])
    assert both.count("<td><code>x</code></td><td>query</td>") == 2 and ">HEAD</span>" in both
