"""The REST API's reference page (``/docs``), drawn on the server from the application's OpenAPI schema.

One self-contained HTML page, without scripts, that fetches nothing: it reads offline like the rest of
the dashboard. (FastAPI's own pages, Swagger UI and ReDoc, load their scripts from a CDN; the server
turns them off.) Every operation gets its method and path, summary, description, parameters, request
body and responses; every schema of ``components`` its fields, with types linked to their schemas.
References to ``components`` (schemas, parameters, responses, request bodies) are followed; anything the
page cannot place is shown as text rather than failing, so a schema never breaks the page.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""The operations of a path item, in the OpenAPI document's order."""
SCHEMA_PREFIX = "#/components/schemas/"
LITERAL = re.compile(r"``(.+?)``")

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 68em; padding: 0 1em;
  color: #222; }
h1 small, h3 small { font-weight: normal; color: #666; font-size: 60%; }
h3 { margin-top: 2em; border-top: 1px solid #ddd; padding-top: 0.8em; }
code { font: 13px ui-monospace, monospace; }
table { border-collapse: collapse; margin: 0.4em 0 1em; }
th, td { text-align: left; vertical-align: top; padding: 0.25em 0.8em 0.25em 0;
  border-bottom: 1px solid #eee; }
th { font-weight: 600; }
.method { display: inline-block; min-width: 4em; font: bold 13px ui-monospace, monospace; color: #fff;
  background: #4a7; border-radius: 3px; padding: 0.1em 0.4em; text-align: center; }
.method-post { background: #37c; } .method-delete { background: #c44; } .method-put { background: #a6c; }
.method-patch { background: #c83; }
.required { color: #c44; }
ul.toc { list-style: none; padding-left: 0; columns: 2; }
"""


def api_docs_html(schema: dict[str, Any]) -> str:
    """The reference page of the OpenAPI document ``schema`` (as ``FastAPI.openapi()`` answers it)."""
    return _Page(schema).render()


def _text(value: object) -> str:
    """A text field of the document (absent or null: empty)."""
    return "" if value is None else str(value)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _method(method: str) -> str:
    return f"<span class='method method-{method}'>{method.upper()}</span>"


def _paragraphs(text: str) -> str:
    """Paragraphs of a docstring-like text, its ````literals```` as code."""
    return "".join(f"<p>{_inline(block.strip())}</p>\n" for block in text.split("\n\n") if block.strip())


def _inline(text: str) -> str:
    return LITERAL.sub(r"<code>\1</code>", escape(text))


def _required(required: object) -> str:
    return " <span class='required' title='required'>*</span>" if required else ""


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return ""
    return f" (default <code>{escape(json.dumps(schema['default']))}</code>)"


class _Page:
    """One rendering of a document: its components, and the anchors given so far (each one unique)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = _mapping(document.get("components"))
        self.schemas = _mapping(self.components.get("schemas"))
        self.anchors: set[str] = {f"schema-{name}" for name in self.schemas}

    def render(self) -> str:
        info = _mapping(self.document.get("info"))
        title = _text(info.get("title")) or "API"
        operations = [
            (path, method, operation, self._anchor(path, method, operation), item.get("parameters"))
            for path, item in _mapping(self.document.get("paths")).items()
            if isinstance(item, dict)
            for method in METHODS
            if method in item
            for operation in [_mapping(item[method])]
        ]
        parts = [
            f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>{escape(title)}: API"
            f"</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            f"<h1>{escape(title)} <small>API {escape(_text(info.get('version')))}, "
            f"OpenAPI {escape(_text(self.document.get('openapi')))}</small></h1>\n",
            _paragraphs(_text(info.get("summary"))),
            _paragraphs(_text(info.get("description"))),
            "<p>The machine-readable schema: <a href='/openapi.json'><code>/openapi.json</code></a>.</p>\n",
            "<h2>Operations</h2>\n<ul class='toc'>\n",
        ]
        for path, method, operation, anchor, _ in operations:
            parts.append(
                f"<li><a href='#{escape(anchor)}'>{_method(method)} <code>{escape(path)}</code></a> "
                f"{escape(_text(operation.get('summary')))}</li>\n"
            )
        parts.append("</ul>\n")
        parts.extend(self._operation(*operation) for operation in operations)
        if self.schemas:
            parts.append("<h2>Schemas</h2>\n")
            parts.extend(
                self._schema_section(name, _mapping(self.schemas[name])) for name in sorted(self.schemas)
            )
        parts.append("</body>\n</html>\n")
        return "".join(parts)

    def _anchor(self, path: str, method: str, operation: dict[str, Any]) -> str:
        """``op-<operationId>`` (or ``op-<method>-<path>``; blanks as ``-``), numbered when already taken."""
        base = "op-" + re.sub(r"\s+", "-", _text(operation.get("operationId")) or f"{method}-{path}")
        anchor, number = base, 1
        while anchor in self.anchors:
            number += 1
            anchor = f"{base}-{number}"
        self.anchors.add(anchor)
        return anchor

    def _resolve(self, value: object) -> dict[str, Any]:
        """A ``$ref`` to ``#/components/<kind>/<name>`` followed (one level), else the value itself."""
        item = _mapping(value)
        ref = _text(item.get("$ref"))
        if ref.startswith("#/components/") and ref.count("/") == 3:
            kind, name = ref.split("/")[2:]
            target = _mapping(self.components.get(kind)).get(name)
            if isinstance(target, dict):
                return target
        return item

    def _operation(
        self, path: str, method: str, operation: dict[str, Any], anchor: str, shared: object
    ) -> str:
        parts = [
            f"<h3 id='{escape(anchor)}'>{_method(method)} <code>{escape(path)}</code>"
            f" <small>{escape(_text(operation.get('summary')))}</small></h3>\n",
            _paragraphs(_text(operation.get("description"))),
        ]
        parameters: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for given in [*(shared if isinstance(shared, list) else []), *(operation.get("parameters") or [])]:
            parameter = self._resolve(given)  # the operation's own replace the path's of that name and place
            key = (_text(parameter.get("name")), _text(parameter.get("in")))
            parameters[key] = (parameter, _text(_mapping(given).get("$ref")))
        if parameters:
            parts.append("<table>\n<tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>\n")
            for (name, where), (parameter, ref) in parameters.items():
                field_schema = _mapping(parameter.get("schema"))
                description = _text(parameter.get("description")) or _text(field_schema.get("description"))
                shown = f"<code>{escape(name)}</code>" if name else f"unresolved <code>{escape(ref)}</code>"
                parts.append(
                    f"<tr><td>{shown}{_required(parameter.get('required'))}</td>"
                    f"<td>{escape(where)}</td><td>{self._type(field_schema)}{_default(field_schema)}</td>"
                    f"<td>{_inline(description)}</td></tr>\n"
                )
            parts.append("</table>\n")
        body = self._resolve(operation.get("requestBody"))
        if body:
            parts.append(f"<p><strong>Request body</strong>{_required(body.get('required'))}: ")
            parts.append(self._contents(body.get("content")))
            parts.append("</p>\n")
        responses = _mapping(operation.get("responses"))
        if responses:
            parts.append("<table>\n<tr><th>status</th><th>meaning</th><th>body</th></tr>\n")
            for status, given_response in responses.items():
                response = self._resolve(given_response)
                parts.append(
                    f"<tr><td><code>{escape(str(status))}</code></td>"
                    f"<td>{_inline(_text(response.get('description')))}</td>"
                    f"<td>{self._contents(response.get('content'))}</td></tr>\n"
                )
            parts.append("</table>\n")
        return "".join(parts)

    def _contents(self, content: object) -> str:
        """Each media type and its schema's type."""
        shown = []
        for kind, media in _mapping(content).items():
            schema = _mapping(media).get("schema")
            shown.append(f"<code>{escape(str(kind))}</code>" + (f": {self._type(schema)}" if schema else ""))
        return "; ".join(shown)

    def _schema_section(self, name: str, schema: dict[str, Any]) -> str:
        heading = f"{escape(name)} <small>{self._type(schema, top=True)}</small>"
        parts = [
            f"<h3 id='schema-{escape(name)}'>{heading}</h3>\n",
            _paragraphs(_text(schema.get("description"))),
        ]
        properties = _mapping(schema.get("properties"))
        if properties:
            required = set(schema.get("required") or [])
            parts.append("<table>\n<tr><th>field</th><th>type</th><th>description</th></tr>\n")
            for field, field_schema in properties.items():
                details = _mapping(field_schema)
                parts.append(
                    f"<tr><td><code>{escape(field)}</code>{_required(field in required)}</td>"
                    f"<td>{self._type(field_schema)}{_default(details)}</td>"
                    f"<td>{_inline(_text(details.get('description')))}</td></tr>\n"
                )
            parts.append("</table>\n")
        if schema.get("additionalProperties") is False:
            parts.append("<p>No other fields are accepted.</p>\n")
        return "".join(parts)

    def _type(self, schema: object, *, top: bool = False) -> str:
        """A schema's type in words (HTML): references linked, alternatives joined by ``|``, constraints
        after the type. ``top``: the schema of a section of its own (its properties are listed there)."""
        if schema is False:
            return "nothing"
        if not isinstance(schema, dict):
            return "any"
        if "$ref" in schema:
            ref = _text(schema["$ref"])
            name = ref.removeprefix(SCHEMA_PREFIX)
            if ref.startswith(SCHEMA_PREFIX) and name in self.schemas:
                return f"<a href='#schema-{escape(name)}'>{escape(name)}</a>"
            return f"<code>{escape(ref)}</code>"
        for key, joint in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " &amp; ")):
            if isinstance(schema.get(key), list):
                text = joint.join(self._type(option) for option in schema[key])
                discriminator = _mapping(schema.get("discriminator")).get("propertyName")
                if discriminator:
                    text += f" (by <code>{escape(_text(discriminator))}</code>)"
                return text
        if "const" in schema:
            return f"<code>{escape(json.dumps(schema['const']))}</code>"
        if isinstance(schema.get("enum"), list):
            return "one of " + ", ".join(
                f"<code>{escape(json.dumps(value))}</code>" for value in schema["enum"]
            )
        kind = schema.get("type")
        if kind == "array":
            text = "array of " + self._grouped(schema.get("items", True))
        elif kind == "object" and not top and isinstance(schema.get("additionalProperties"), dict):
            text = "object of " + self._grouped(schema["additionalProperties"])
        elif isinstance(kind, str):
            text = escape(kind) + (f" ({escape(_text(schema['format']))})" if "format" in schema else "")
        elif isinstance(kind, list):
            text = " | ".join(escape(_text(one)) for one in kind)
        else:
            text = "any"
        return text + _constraints(schema)

    def _grouped(self, schema: object) -> str:
        """A contained schema's type, in parentheses when it has alternatives."""
        text = self._type(schema)
        alternatives = isinstance(schema, dict) and any(key in schema for key in ("anyOf", "oneOf", "allOf"))
        return f"({text})" if alternatives or " | " in text else text


def _constraints(schema: dict[str, Any]) -> str:
    words = {
        "minimum": "≥ {}", "exclusiveMinimum": "&gt; {}", "maximum": "≤ {}", "exclusiveMaximum": "&lt; {}",
        "minLength": "at least {} characters", "maxLength": "at most {} characters",
        "minItems": "at least {} items", "maxItems": "at most {} items",
    }  # fmt: skip
    found = [template.format(_number(schema[key])) for key, template in words.items() if key in schema]
    if "pattern" in schema:
        found.append(f"matching <code>{escape(str(schema['pattern']))}</code>")
    return f", {', '.join(found)}" if found else ""


def _number(value: object) -> str:
    """``1000.0`` as ``1000``, other values as they are."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return escape(str(value))
