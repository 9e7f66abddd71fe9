"""One place where domain and database errors become API responses (never a 500)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError, InvalidInput


def exception_handler(exc, context):
    if isinstance(exc, InvalidInput):
        # Field errors in DRF's own shape: {"field": ["message", ...]}.
        body = {k: [str(m) for m in v] for k, v in exc.errors.items()} or {
            "detail": str(exc.message)
        }
        return Response(body, status=exc.status_code)
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message)}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
