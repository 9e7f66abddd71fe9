"""The nightly downloads of the public registers over HTTP (sync.downloads).

- GET /api/v1/downloads/: the newest file of each register and format, with its date, size,
  SHA-256 and the change-feed cursor to follow after loading it;
- GET /api/v1/downloads/<register>.<format>: that file, streamed (ETag = its SHA-256,
  Last-Modified = when it was built; a conditional GET gets 304).
"""

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from sync import downloads

ITEM = {
    "type": "object",
    "properties": {
        "resource": {"type": "string", "description": "The register, e.g. stations."},
        "format": {"type": "string", "enum": list(downloads.FORMATS)},
        "built_at": {
            "type": "string",
            "format": "date-time",
            "description": "When it was built (Asia/Ho_Chi_Minh time).",
        },
        "rows": {"type": "integer", "description": "Records in the file."},
        "size": {"type": "integer", "description": "Bytes."},
        "sha256": {"type": "string", "description": "SHA-256 of the file (its ETag)."},
        "cursor": {
            "type": "string",
            "description": "Send it as `after` to /api/v1/changes/ to follow the changes made "
            "after the file was built.",
        },
        "url": {"type": "string", "format": "uri"},
    },
}


def describe(download, request=None):
    url = reverse(
        "register-download-file", kwargs={"resource": download.resource, "fmt": download.format}
    )
    return {
        "resource": download.resource,
        "format": download.format,
        "built_at": timezone.localtime(download.built_at).isoformat(),
        "rows": download.rows,
        "size": download.size,
        "sha256": download.sha256,
        "cursor": downloads.cursor_of(download),
        "url": request.build_absolute_uri(url) if request is not None else url,
    }


class DownloadListView(APIView):
    """The newest full download of each public register."""

    @extend_schema(
        summary=_("Full downloads of the public registers"),
        description=_(
            "Built every night from one snapshot of the database: GeoJSON and CSV (UTF-8 with a "
            "byte-order mark) of stations, public sites, shareable assets and cable segments, "
            "with public fields only. Public sites and shareable assets are offered to everyone; "
            "stations and cable segments (every operator's) only to officials and state "
            "agencies' clients. Load a file, then read /api/v1/changes/ with its `cursor` as "
            "`after`: you get every change made since, and none the file already has."
        ),
        responses={200: OpenApiResponse({"type": "array", "items": ITEM})},
    )
    def get(self, request):
        return Response([describe(d, request) for d in downloads.latest(request.user)])


class AnyContent(BaseContentNegotiation):
    """A file is what it is, whatever the Accept header says (errors are JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DownloadFileView(APIView):
    """The newest file of a register in a format."""

    content_negotiation_class = AnyContent

    @extend_schema(
        operation_id="v1_downloads_file_retrieve",
        summary=_("Download a public register"),
        description=_(
            "The newest GeoJSON or CSV file of the register, e.g. /api/v1/downloads/"
            "stations.geojson. `ETag` is the file's SHA-256 and `X-Hanoi-Cursor` the change "
            "feed cursor to follow after loading it."
        ),
        responses={
            (200, "application/geo+json"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The GeoJSON file.")
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=_("The CSV file.")),
            404: OpenApiResponse(description=_("Unknown register or not built yet.")),
        },
    )
    def get(self, request, resource, fmt):
        # A register the user may not download is not there for it (sync.downloads).
        if (
            resource not in downloads.offered_resources(request.user)
            or fmt not in downloads.FORMATS
        ):
            raise Http404
        download = downloads.latest_of(resource, fmt)
        if download is None or not download.file:
            raise Http404
        try:
            handle = download.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=downloads.download_name(download),
            content_type=downloads.CONTENT_TYPES[fmt],
        )
        response["ETag"] = f'"{download.sha256}"'
        response["Last-Modified"] = http_date(download.built_at.timestamp())
        response["X-Hanoi-Cursor"] = downloads.cursor_of(download)
        response["X-Hanoi-Rows"] = str(download.rows)
        return response
