"""Two guards every request passes, in one place each.

``QueryGuardMiddleware``: a NUL character or a lone surrogate in the path or in any query parameter
(a look-up, a filter, a search: ``/api/v1/units/resolve/?address=%00``) is refused with 400 before
a view sends it to PostgreSQL, which cannot hold it (a 500 before). Under /api/ the answer is the
API's field-error shape ``{"param": ["message"]}`` (``Error-Code: invalid``); on pages, Django's
400 page.

``AtomicApiWritesMiddleware``: every API write (POST, PUT, PATCH, DELETE under /api/: single,
bulk, steps, upserts by source) runs in one transaction, the answer rendered inside it. It rolls
back when the answer is a 5xx, or an error the API's exception handler turned into an answer
(core.api.exceptions marks the request), so a failure never leaves half of a write behind. The
savepoints the services open (bulk records in partial mode, races on a new key) work inside it as
before. It sits after ApiRequestMiddleware, so an Idempotency-Key's record is committed before
the write runs (a retry sees "in progress").
"""

import json

from django.core.exceptions import BadRequest
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from core.api.parsers import bad_character_message

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
ROLLBACK = "_api_rollback"


def is_api(request):
    return request.path_info.startswith("/api/")


def mark_rollback(request):
    """Ask AtomicApiWritesMiddleware to roll the request's transaction back."""
    setattr(getattr(request, "_request", request), ROLLBACK, True)


def field_error_response(errors):
    response = HttpResponse(
        json.dumps(errors, ensure_ascii=False),
        status=400,
        content_type="application/json",
    )
    response["Error-Code"] = "invalid"
    return response


def query_errors(request):
    """{parameter: [message]} for each parameter (or the path) holding a NUL or lone surrogate."""
    errors = {}
    problem = bad_character_message(request.path_info)
    if problem:
        errors["path"] = [problem]
    for key, values in request.GET.lists():
        for text in (key, *values):
            problem = bad_character_message(text)
            if problem:
                name = key if bad_character_message(key) is None else "query"
                errors.setdefault(name, []).append(problem)
                break
    return errors


class QueryGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        errors = query_errors(request)
        if errors:
            if is_api(request):
                return field_error_response(errors)
            raise BadRequest(_("The address holds characters that are not text."))
        return self.get_response(request)


class AtomicApiWritesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS or not is_api(request):
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)  # rendered by then (Django renders it)
            if response.status_code >= 500 or getattr(request, ROLLBACK, False):
                transaction.set_rollback(True)
        return response
