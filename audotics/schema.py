"""OpenAPI post-processing: every operation documents the error envelope of SPEC.md §4.

Views only declare their success responses; the statuses the exception handler can produce for
any request (validation, auth, not found, conflict, size, rate limit, backing service down) are
added here once, so clients and contract fuzzers (schemathesis) see the whole contract.
"""
from __future__ import annotations

ERROR_STATUSES = {
    "400": "Validation error or malformed request.",
    "401": "Not authenticated.",
    "403": "Forbidden.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "409": "Conflict (duplicate_track, version_conflict, ...).",
    "413": "Request too large.",
    "415": "Unsupported media type.",
    "429": "Rate limited; see Retry-After.",
    "503": "A backing service (database, Redis) is unavailable; see Retry-After.",
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "The error envelope of every non-2xx API answer.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOK: the Error component on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                })
    return result
