"""One place where domain and database errors become API responses (never a 500).

Every error answer names a machine-readable code: in the body (``"code"``) when the body is a
message (``{"detail": …, "code": "token_expired"}``), and always in the ``Error-Code`` header (a body
of field errors keeps DRF's shape ``{"field": ["message", …]}``, where a field may itself be called
"code").

Every error under /api/ answers in that shape, never an HTML page: an exception no branch here
knows is logged with its traceback and answers 500 ``{"detail", "code": "server_error"}``; the
project's handler404 / handler500 (``not_found`` / ``server_error`` below) answer JSON for /api/
paths (an unknown URL, an Http404 raised outside DRF, a crash outside a view) and the site's pages
otherwise. Any error answer rolls back the request's write (core.api.middleware)."""

import json
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.middleware import is_api, mark_rollback
from core.exceptions import Conflict, DomainError, InvalidInput, InvalidTransition, PermissionDenied

logger = logging.getLogger("core.api")

DOMAIN_CODES = {
    InvalidInput: "invalid",
    PermissionDenied: "permission_denied",
    Conflict: "conflict",
    InvalidTransition: "invalid_transition",
}


def domain_code(exc):
    code = getattr(exc, "code", None)
    if code:
        return code
    for cls in type(exc).__mro__:
        if cls in DOMAIN_CODES:
            return DOMAIN_CODES[cls]
    return "invalid"


def _coded(response, code):
    response["Error-Code"] = code
    return response


def exception_handler(exc, context):
    request = context.get("request")
    if request is not None:
        mark_rollback(request)  # an error answer keeps nothing of the write
    return _handle(exc, context)


def _handle(exc, context):
    if isinstance(exc, InvalidInput):
        # Field errors in DRF's own shape: {"field": ["message", ...]}.
        body = {k: [str(m) for m in v] for k, v in exc.errors.items()} or {
            "detail": str(exc.message),
            "code": "invalid",
        }
        return _coded(Response(body, status=exc.status_code), "invalid")
    if isinstance(exc, DomainError):
        code = domain_code(exc)
        body = {"detail": str(exc.message), "code": code}
        if exc.errors:
            body["errors"] = exc.errors
        return _coded(Response(body, status=exc.status_code), code)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return _coded(Response(detail, status=status.HTTP_400_BAD_REQUEST), "invalid")
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "invalid"
        if isinstance(response.data, dict) and set(response.data) == {"detail"}:
            response.data["code"] = code
        _coded(response, code)
    elif response is not None and isinstance(exc, Http404 | DjangoPermissionDenied):
        code = "not_found" if isinstance(exc, Http404) else "permission_denied"
        if isinstance(response.data, dict) and set(response.data) == {"detail"}:
            response.data["code"] = code
        _coded(response, code)
    if response is None:
        view = context.get("view")
        logger.error(
            "Unexpected error in %s", type(view).__name__ if view else "an API view", exc_info=exc
        )
        response = _coded(
            Response(
                {"detail": _("Something went wrong on our side."), "code": "server_error"},
                status=status.HTTP_500_INTERNAL_SERVER_ERROR,
            ),
            "server_error",
        )
    return response


# --- handler404 / handler500 (hanoi_infra.urls) ------------------------------------------------------


def json_error(status_code, code, detail):
    response = HttpResponse(
        json.dumps({"detail": str(detail), "code": code}, ensure_ascii=False),
        status=status_code,
        content_type="application/json",
    )
    response["Error-Code"] = code
    return response


def not_found(request, exception):
    if is_api(request):
        return json_error(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return json_error(500, "server_error", _("Something went wrong on our side."))
    return defaults.server_error(request)


def bad_request(request, exception):
    if is_api(request):
        return json_error(400, "bad_request", _("Bad request."))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return json_error(
            403, "permission_denied", _("You do not have permission to perform this action.")
        )
    return defaults.permission_denied(request, exception)
