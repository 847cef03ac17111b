"""The API's JSON parser: a body it accepts is plain text data, so nothing later can trip on it.

On top of djangorestframework-camel-case's parser (camelCase keys become snake_case) it refuses,
with a 400 envelope rather than a 500 somewhere downstream:
- nesting deeper than MAX_DEPTH (no request needs more; hundreds of levels overflow Python's
  stack in json, the key conversion or the renderer);
- lone surrogates (`"\\ud800"`), which are valid JSON escapes but not text: UTF-8 cannot encode
  them, so echoing one in a validation message failed;
- NUL characters, which PostgreSQL cannot store in text.
The charset and size of the body are checked before any view by audotics.middleware.
"""
from __future__ import annotations

import json
from typing import Any

from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.settings import api_settings
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def json_text_problem(data: Any) -> str | None:
    """Why parsed JSON is not acceptable text (too deep, a lone surrogate, a NUL), or None.
    Iterative, so any depth is inspected without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                return f"JSON nested more than {MAX_DEPTH} levels deep"
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            if "\x00" in value:
                return "NUL characters (\\u0000) are not allowed in JSON strings"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "JSON strings must be valid Unicode (a lone surrogate escape was sent)"
    return None


class StrictJSONParser(CamelCaseJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ParseError("The body is not valid UTF-8.") from exc
        except RecursionError as exc:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        problem = json_text_problem(data)
        if problem:
            raise ParseError(problem + ".")
        return underscoreize(data, **api_settings.JSON_UNDERSCOREIZE)
