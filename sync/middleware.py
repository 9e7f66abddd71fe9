"""API middleware for machine clients: a size limit on JSON bodies and replayed POSTs.

- A JSON (or other non-multipart) body over ``SYNC_MAX_BODY_BYTES`` is refused with 413
  ``payload_too_large`` before anything reads it.
- A POST with an ``Idempotency-Key`` header runs once per caller and key: a retry with the same key
  and the same request gets the first answer again (with ``Idempotent-Replayed: true``); the same key
  with a different request is refused (422 ``idempotency_key_reused``); a retry while the first call
  still runs gets 409 ``idempotency_in_progress``. Answers that say the call was not carried out
  (5xx, and 401/403/429: a bad token, a missing scope, a rate limit) are not kept, so a retry runs
  again once the cause is gone. Keys are kept ``SYNC_IDEMPOTENCY_HOURS`` (pruned by a nightly task).
"""

import hashlib
import json
import tempfile

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from sync.models import ApiToken, IdempotencyRecord, digest

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("ETag", "Location", "Content-Language", "Error-Code", "Sync-Result")
NOT_KEPT = {401, 403, 429}  # refused at the door: the call did not run
CHUNK = 64 * 1024


def error(status, code, detail, **headers):
    response = HttpResponse(
        json.dumps({"detail": str(detail), "code": code}),
        status=status,
        content_type="application/json",
    )
    response["Error-Code"] = code
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def principal_of(request):
    """Who sends the request, before DRF authenticates it: the token's client or the session's user."""
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) == 2 and header[0].lower() in ("bearer", "token"):
        client_id = (
            ApiToken.objects.filter(digest=digest(header[1]), revoked_at__isnull=True)
            .values_list("client_id", flat=True)
            .first()
        )
        return f"client:{client_id}" if client_id else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def fingerprint_of(request):
    """SHA-256 of the method, the path and the body. A body over DATA_UPLOAD_MAX_MEMORY_SIZE (a
    multipart upload: files have their own, larger limit) is not read into memory, where
    ``request.body`` would refuse it: it is hashed while spooled to a temporary file, which the
    request then reads instead."""
    hasher = hashlib.sha256(b"\n".join([request.method.encode(), request.get_full_path().encode()]))
    hasher.update(b"\n")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or length <= limit or getattr(request, "_read_started", False):
        hasher.update(request.body)
        return hasher.hexdigest()
    # Lives as long as the request (closed and removed when collected).
    spool = tempfile.SpooledTemporaryFile(max_size=CHUNK * 16)  # noqa: SIM115
    while chunk := request._stream.read(CHUNK):
        hasher.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    request._stream = spool
    return hasher.hexdigest()


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        too_large = self.check_size(request)
        if too_large is not None:
            return too_large
        if request.method == "POST" and request.headers.get(HEADER):
            return self.idempotent(request, request.headers[HEADER])
        return self.get_response(request)

    def check_size(self, request):
        if request.content_type.startswith("multipart/"):
            return None  # files have their own limits (core.files)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.SYNC_MAX_BODY_BYTES
        if length > limit:
            return error(
                413,
                "payload_too_large",
                _("The request body is %(size)d bytes; the limit is %(limit)d.")
                % {"size": length, "limit": limit},
            )
        return None

    def idempotent(self, request, key):
        key = key.strip()
        if not key or len(key) > 255 or not key.isprintable():
            return error(
                400,
                "idempotency_key_invalid",
                _("An Idempotency-Key is 1 to 255 printable characters."),
            )
        principal = principal_of(request)
        if principal is None:
            return self.get_response(request)  # authentication will refuse it
        fingerprint = fingerprint_of(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal,
                    key=key,
                    method=request.method,
                    path=request.get_full_path()[:500],
                    fingerprint=fingerprint,
                )
        except IntegrityError:
            return self.replay(principal, key, fingerprint)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            headers={h: response[h] for h in KEPT_HEADERS if response.has_header(h)},
            body=bytes(response.content),
        )
        return response

    def replay(self, principal, key, fingerprint):
        record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if record is None:  # removed meanwhile (a 5xx): the caller may retry
            return error(
                409, "idempotency_in_progress", _("The first call with this key failed; retry.")
            )
        if record.fingerprint != fingerprint:
            return error(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was used for a different request."),
            )
        if record.status_code is None:
            return error(
                409,
                "idempotency_in_progress",
                _("The first call with this Idempotency-Key is still running."),
                Retry_After="1",
            )
        response = HttpResponse(
            bytes(record.body or b""), status=record.status_code, content_type=record.content_type
        )
        for name, value in record.headers.items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response
