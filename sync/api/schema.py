"""OpenAPI of the sync writes: ``sync_write_schema`` documents SyncWriteMixin's endpoints (delete,
by-source GET / PUT / DELETE, bulk) for a register."""

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from core.api.mixins import IF_MATCH
from sync.api.records import (
    ATOMIC,
    CREATED,
    ERROR,
    EXTERNAL_ID_RE,
    NOT_APPLIED,
    PARTIAL,
    SOURCE_RE,
    SYNC_RESULT,
    UNCHANGED,
    UPDATED,
)

# --- OpenAPI ------------------------------------------------------------------------------------------

ERROR_BODY = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "Field errors: {field: [message, …]} (the Error-Code header says `invalid`).",
}
PRECONDITION = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": ["precondition_failed"]},
        "current": {"type": "object", "description": "The record as it is now (its Feature)."},
    },
    "required": ["detail", "code"],
}
RESULT = {
    "type": "object",
    "properties": {
        "index": {"type": "integer", "description": "The record's place in `records` (from 0)."},
        "source": {"type": "string", "nullable": True},
        "external_id": {"type": "string", "nullable": True},
        "status": {
            "type": "string",
            "enum": [CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED],
        },
        "id": {
            "type": "string",
            "format": "uuid",
            "nullable": True,
            "description": "The record's public id (null when not written).",
        },
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["index", "source", "external_id", "status", "id", "errors"],
}
COUNTS = {
    "type": "object",
    "properties": {
        name: {"type": "integer"} for name in (CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED)
    },
}
BULK_RESULT = {
    "type": "object",
    "properties": {
        "mode": {"type": "string", "enum": [ATOMIC, PARTIAL]},
        "applied": {"type": "boolean"},
        "counts": COUNTS,
        "results": {"type": "array", "items": RESULT},
    },
    "required": ["mode", "applied", "counts", "results"],
}
BULK_REJECTED = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "enum": [
                "batch_rejected",
                "batch_too_large",
                "invalid",
                "parse_error",
                "idempotency_key_invalid",
            ],
        },
        **BULK_RESULT["properties"],
    },
    "required": ["detail", "code"],
}
BULK_REQUEST = {
    "type": "object",
    "properties": {
        "mode": {
            "type": "string",
            "enum": [ATOMIC, PARTIAL],
            "default": ATOMIC,
            "description": "atomic: all records or none; partial: the valid ones.",
        },
        "records": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "description": (
                    "A create body (GeoJSON Feature or plain JSON) with `source` and "
                    "`external_id`, top-level or among the Feature's properties."
                ),
            },
        },
    },
    "required": ["records"],
}
AUTH_ERRORS = {
    401: OpenApiResponse(
        ERROR_BODY, description=gettext_lazy("`token_invalid`, `token_expired`, `client_disabled`.")
    ),
    429: OpenApiResponse(ERROR_BODY, description=gettext_lazy("`throttled`.")),
}
SOURCE_PARAMS = [
    OpenApiParameter(
        "source",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=SOURCE_RE,
        description=gettext_lazy(
            "The system the record comes from: a token client's organisation code, e.g. VIETTEL."
        ),
    ),
    OpenApiParameter(
        "external_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=EXTERNAL_ID_RE,
        description=gettext_lazy("The record's id in that system (up to 128 characters, no /)."),
    ),
]


def sync_write_schema(serializer_class, summaries, example):
    """``extend_schema_view`` arguments documenting SyncWriteMixin's endpoints for a register whose
    Feature is ``serializer_class``. ``summaries`` has a whole sentence for each of "destroy",
    "get", "put", "delete" and "bulk" (translated whole, not pieced together); ``example`` is a
    create body (a Feature) the examples use."""
    stale = OpenApiResponse(
        PRECONDITION,
        description=gettext_lazy(
            "`precondition_failed`: If-Match names an older version; `current` is the record now "
            "and the ETag header its version."
        ),
    )
    not_found = OpenApiResponse(
        ERROR_BODY, description=gettext_lazy("`not_found` (no such record for you).")
    )
    forbidden = OpenApiResponse(
        ERROR_BODY,
        description=gettext_lazy(
            "`permission_denied`, `scope_missing`, `source_not_owned` (a client writes only its "
            "organisation's source)."
        ),
    )
    conflict = OpenApiResponse(
        ERROR_BODY, description=gettext_lazy("`conflict`: other records still refer to it.")
    )
    too_large = OpenApiResponse(
        ERROR_BODY,
        description=gettext_lazy("`payload_too_large`: over the body size limit."),
    )
    sync_result = OpenApiParameter(
        SYNC_RESULT,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 201],
        enum=[CREATED, UPDATED, UNCHANGED],
        description=gettext_lazy("What the call did."),
    )
    etag_header = OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 201],
        description=gettext_lazy("The record's version, for If-Match."),
    )
    properties = example.get("properties", {})
    keyed = [
        {
            **example,
            "properties": {**properties, "source": "VIETTEL", "external_id": f"A-{n}"},
        }
        for n in (1, 2)
    ]
    keyed[1]["properties"].pop(next(iter(properties)), None)  # the second one lacks a field
    return {
        "destroy": extend_schema(
            summary=summaries["destroy"],
            description=gettext_lazy(
                "Send the ETag of your last read as If-Match to be sure you delete what you saw. "
                "The change feed keeps a tombstone."
            ),
            parameters=[IF_MATCH],
            responses={
                204: OpenApiResponse(description=gettext_lazy("Deleted.")),
                403: forbidden,
                404: not_found,
                409: conflict,
                412: stale,
                **AUTH_ERRORS,
            },
        ),
        "by_source": [
            extend_schema(
                methods=["GET"],
                summary=summaries["get"],
                description=gettext_lazy(
                    "The record another system knows by (source, its id there), with its ETag."
                ),
                parameters=[*SOURCE_PARAMS, etag_header],
                responses={
                    200: OpenApiResponse(serializer_class, description=gettext_lazy("Found.")),
                    404: not_found,
                    **AUTH_ERRORS,
                },
            ),
            extend_schema(
                methods=["PUT"],
                summary=summaries["put"],
                description=gettext_lazy(
                    "The body is the same as a create's (a GeoJSON Feature or plain JSON); "
                    "`source` and `external_id` come from the URL (a body naming others is a "
                    "400). 201 when created, 200 when updated or unchanged; the `Sync-Result` "
                    "header says which. When every field already holds the value sent, nothing "
                    "is written (no history, no change-feed event): repeating a call is "
                    "harmless and returns the same body. With If-Match, an existing record "
                    "changed since is not overwritten (412 with its present state). A token "
                    "client writes only its own organisation's source."
                ),
                parameters=[*SOURCE_PARAMS, IF_MATCH, sync_result, etag_header],
                request=serializer_class,
                responses={
                    200: OpenApiResponse(
                        serializer_class, description=gettext_lazy("Updated or unchanged.")
                    ),
                    201: OpenApiResponse(serializer_class, description=gettext_lazy("Created.")),
                    400: OpenApiResponse(
                        FIELD_ERRORS,
                        description=gettext_lazy("`invalid` (field errors), `parse_error`."),
                    ),
                    403: forbidden,
                    412: stale,
                    413: too_large,
                    **AUTH_ERRORS,
                },
                examples=[
                    OpenApiExample("A record", request_only=True, value=example),
                    OpenApiExample(
                        "412",
                        response_only=True,
                        status_codes=["412"],
                        value={
                            "detail": "Someone else changed this record first. Reload it and "
                            "try again.",
                            "code": "precondition_failed",
                            "current": example,
                        },
                    ),
                ],
            ),
            extend_schema(
                methods=["DELETE"],
                summary=summaries["delete"],
                parameters=[*SOURCE_PARAMS, IF_MATCH],
                responses={
                    204: OpenApiResponse(description=gettext_lazy("Deleted.")),
                    403: forbidden,
                    404: not_found,
                    409: conflict,
                    412: stale,
                    **AUTH_ERRORS,
                },
            ),
        ],
        "bulk": extend_schema(
            summary=summaries["bulk"],
            description=gettext_lazy(
                "Up to 1,000 records, each a create body with `source` and `external_id` "
                "(top-level or among a Feature's properties). Every record is validated and gets "
                "a result (created, updated, unchanged or error with its field messages). Mode "
                "`atomic` (the default) applies all or none: with any error nothing is written "
                "and the answer is 400 `batch_rejected` with the results (valid records say "
                "`not_applied`). Mode `partial` writes the valid ones in one transaction and "
                "answers 200. A key twice in one batch is an error on the later record. Send an "
                "Idempotency-Key header to retry a call safely."
            ),
            request={"application/json": BULK_REQUEST},
            responses={
                200: OpenApiResponse(BULK_RESULT, description=gettext_lazy("Applied.")),
                400: OpenApiResponse(
                    {"anyOf": [BULK_REJECTED, FIELD_ERRORS]},
                    description=gettext_lazy(
                        "`batch_rejected` (atomic, with the results), `batch_too_large`, "
                        "`invalid`, `parse_error`, `idempotency_key_invalid` (an Idempotency-Key "
                        "header is 1 to 255 printable characters)."
                    ),
                ),
                403: forbidden,
                409: OpenApiResponse(
                    ERROR_BODY,
                    description=gettext_lazy(
                        "`idempotency_in_progress`: the first call with this key still runs."
                    ),
                ),
                413: too_large,
                422: OpenApiResponse(
                    ERROR_BODY,
                    description=gettext_lazy(
                        "`idempotency_key_reused`: the key was used for another request."
                    ),
                ),
                **AUTH_ERRORS,
            },
            parameters=[
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description=gettext_lazy(
                        "Any unique text (e.g. a UUID): a retry with the same key gets the first "
                        "answer again (Idempotent-Replayed: true)."
                    ),
                )
            ],
            examples=[
                OpenApiExample(
                    "Two records",
                    request_only=True,
                    value={"mode": PARTIAL, "records": keyed},
                ),
                OpenApiExample(
                    "Results",
                    response_only=True,
                    status_codes=["200"],
                    value={
                        "mode": PARTIAL,
                        "applied": True,
                        "counts": {
                            CREATED: 1,
                            UPDATED: 0,
                            UNCHANGED: 0,
                            ERROR: 1,
                            NOT_APPLIED: 0,
                        },
                        "results": [
                            {
                                "index": 0,
                                "source": "VIETTEL",
                                "external_id": "A-1",
                                "status": CREATED,
                                "id": "0b6c2f0e-3f1a-4c36-9d0e-6a1d1b2c3d4e",
                                "errors": {},
                            },
                            {
                                "index": 1,
                                "source": "VIETTEL",
                                "external_id": "A-2",
                                "status": ERROR,
                                "id": None,
                                "errors": {
                                    next(iter(properties), "name"): ["This field is required."]
                                },
                            },
                        ],
                    },
                ),
            ],
        ),
    }
