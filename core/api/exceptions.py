"""One place where domain and database errors become API responses (never a 500).

Every error answer names a machine-readable code: in the body (``"code"``) when the body is a
message (``{"detail": …, "code": "token_expired"}``), and always in the ``Error-Code`` header (a body
of field errors keeps DRF's shape ``{"field": ["message", …]}``, where a field may itself be called
"code")."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import Conflict, DomainError, InvalidInput, InvalidTransition, PermissionDenied

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
    return response
