"""The change feed over HTTP: /api/v1/changes/ and /api/v1/changes/head/ (sync.feed)."""

import json

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from sync import feed

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
EVENT = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer", "description": "Position in the feed (grows in commit order)."},
        "type": {"type": "string", "description": "The resource, e.g. stations."},
        "id": {"type": "string", "format": "uuid", "description": "The record's public id."},
        "action": {"type": "string", "enum": ["create", "update", "delete"]},
        "version": {"type": "integer", "description": "The record's version (1 at creation)."},
        "changed_at": {"type": "string", "format": "date-time"},
        "data": {
            "type": "object",
            "nullable": True,
            "description": "The record's GeoJSON Feature after the change; null for a delete.",
        },
    },
}
PAGE = {
    "type": "object",
    "properties": {
        "results": {"type": "array", "items": EVENT},
        "next": {"type": "string", "description": "The cursor to send as `after` next time."},
        "has_more": {"type": "boolean", "description": "True: call again at once with `next`."},
    },
}


def _types(request):
    values = []
    for value in request.query_params.getlist("types"):
        values += [v.strip() for v in value.split(",") if v.strip()]
    return values or None


def _limit(request):
    raw = request.query_params.get("limit")
    if raw is None:
        return feed.DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= feed.MAX_LIMIT:
        raise feed.InvalidLimit()
    return int(raw)


class ChangesView(APIView):
    """Every create, update and delete of the synced resources, in commit order."""

    @extend_schema(
        summary=_("The change feed"),
        description=_(
            "Changes after the cursor `after` (omit it the first time), oldest first, each with "
            "the record's public id, version and full new state (its GeoJSON Feature) or null "
            "for a delete. Store `next` and send it as `after` on the next call; while "
            "`has_more` is true call again at once. A consumer never misses a change and never "
            "gets one twice, however many transactions commit concurrently. An operator's "
            "client sees its own records' changes. A cursor older than the retention gets 410 "
            "`cursor_expired`: start again from a full download (its `cursor`)."
        ),
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.STR, description=_("The cursor of the last call.")
            ),
            OpenApiParameter(
                "types",
                OpenApiTypes.STR,
                description=_(
                    "Comma-separated resources, e.g. stations,assets (default: all you may read)."
                ),
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=_("Events per page, 1–5000 (default 1000).")
            ),
        ],
        responses={
            200: OpenApiResponse(PAGE),
            400: OpenApiResponse(
                ERROR,
                description=_(
                    "`invalid_cursor` (never issued here), `unknown_type`, `invalid_limit`."
                ),
            ),
            401: OpenApiResponse(
                ERROR, description=_("`token_invalid`, `token_expired`, `client_disabled`.")
            ),
            403: OpenApiResponse(ERROR, description=_("`network_not_allowed`.")),
            410: OpenApiResponse(
                ERROR, description=_("`cursor_expired`: older than what is kept.")
            ),
            429: OpenApiResponse(
                ERROR, description=_("`throttled`: wait the seconds the `Retry-After` header says.")
            ),
        },
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "results": [
                        {
                            "seq": 1042,
                            "type": "stations",
                            "id": "0b6c2f0e-3f1a-4c36-9d0e-6a1d1b2c3d4e",
                            "action": "update",
                            "version": 3,
                            "changed_at": "2026-11-28T09:15:02.113+07:00",
                            "data": {
                                "type": "Feature",
                                "id": "0b6c2f0e-3f1a-4c36-9d0e-6a1d1b2c3d4e",
                                "geometry": {"type": "Point", "coordinates": [105.85, 21.03]},
                                "properties": {"code": "HN-0001", "operator": "VIETTEL"},
                            },
                        }
                    ],
                    "next": "YzEuMTA0Mjp4eXo",
                    "has_more": False,
                },
            )
        ],
    )
    def get(self, request):
        page = feed.read(
            request.user,
            after=request.query_params.get("after"),
            types=_types(request),
            limit=_limit(request),
        )
        cursor = json.dumps(feed.encode_cursor(page.next_seq))
        body = (
            f'{{"results":{page.text},"next":{cursor},'
            f'"has_more":{"true" if page.has_more else "false"}}}'
        )
        return HttpResponse(body, content_type="application/json")


class ChangesHeadView(APIView):
    """The feed's current end: follow the feed from here after a full download of today's data."""

    @extend_schema(
        summary=_("The change feed's current position"),
        description=_(
            "A cursor at the feed's end: changes committed after this call come after it. "
            "Mostly useful right after a full copy of the data taken at the same moment."
        ),
        responses={
            200: OpenApiResponse({"type": "object", "properties": {"cursor": {"type": "string"}}}),
            401: OpenApiResponse(
                ERROR, description=_("`token_invalid`, `token_expired`, `client_disabled`.")
            ),
        },
    )
    def get(self, request):
        return Response({"cursor": feed.encode_cursor(feed.head_seq())})
