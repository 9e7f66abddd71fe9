"""Following another instance's change feed (``manage.py sync_pull``).

A ``Puller`` reads the other portal's /api/v1/changes/ page by page and applies every event here
through the same services the API uses (``sync`` registry: ``serializer``, ``save``,
``delete``). A record from the other instance is stored with ``source`` = the SyncSource's name and
``external_id`` = its public id there, so applying an event is an upsert: applying it twice changes
nothing.

Why a crash never applies a page twice nor skips one: a page's events and the cursor after it are
saved in ONE transaction (the SyncSource row is locked, and its cursor must still be the one the
page was read from). A crash before the commit leaves both as they were, so the next run reads the
same page again; after it, the next run starts from the page after.

Each event runs in its own savepoint: one that the local services refuse (InvalidInput,
PermissionDenied, Conflict, a serializer error) is counted as failed, logged and kept in
``SyncSource.last_error``, and the pull goes on (``strict`` stops instead, keeping the page unapplied).

HTTP is plain ``urllib``: a timeout per call, retries with exponential backoff on connection
errors, 5xx and 429 (``Retry-After`` honoured); 401/403 (the token), 410 (a cursor older than what the
other instance keeps) and other 4xx stop with a message saying what to do.
"""

import contextlib
import email.utils
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as DrfValidationError

import sync
from core.exceptions import DomainError
from core.geojson import feature_expression
from core.history import acting_as
from sync.models import SyncSource

log = logging.getLogger(__name__)

FEED_PATH = "/api/v1/changes/"
USER_AGENT = "hanoi_infra-sync_pull/1"
ACTIONS = ("create", "update", "delete")
# Properties of the other instance's Feature that are not input here: its own identity and clock.
REMOTE_ONLY = frozenset({"id", "updated_at", "source", "external_id"})
MAX_WAIT = 300.0  # the longest pause honoured from a Retry-After header (seconds)
LOCK_BASE = 730_100  # pg advisory lock namespace of sync_pull (one lock per feed URL)


class PullStopped(Exception):
    """The pull cannot go on: ``message`` says why and what to do. ``retryable``: the other
    instance could not be reached (a later run may succeed); otherwise it refused us."""

    def __init__(self, message, *, status=None, code="", retryable=False):
        self.message = str(message)
        self.status = status
        self.code = code
        self.retryable = retryable
        super().__init__(self.message)


class EventRefused(Exception):
    """One event the local services refused (counted as failed)."""


def feed_url(url):
    """The change feed URL of an instance given by its base URL (http://host:8000) or by the feed
    URL itself; the query string is dropped (the puller adds its own)."""
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PullStopped(
            _("Give the other instance's address as http(s)://host[:port], not %(url)r.")
            % {"url": url}
        )
    path = parts.path.rstrip("/")
    if path.endswith(FEED_PATH.rstrip("/")):
        path = path[: -len(FEED_PATH.rstrip("/"))]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path + FEED_PATH, "", ""))


def lock_key(url):
    """The second int4 of the advisory lock (LOCK_BASE, key) a puller of ``url`` holds."""
    return zlib.crc32(url.encode()) - 2**31


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def applied(self):
        return self.created + self.updated + self.deleted

    @property
    def total(self):
        return self.applied + self.skipped + self.failed

    def add(self, outcome, n=1):
        setattr(self, outcome, getattr(self, outcome) + n)

    def __iadd__(self, other):
        for name in ("created", "updated", "deleted", "skipped", "failed"):
            self.add(name, getattr(other, name))
        return self

    def describe(self):
        return _(
            "created %(created)d, updated %(updated)d, deleted %(deleted)d, skipped %(skipped)d, "
            "failed %(failed)d"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "failed": self.failed,
        }


@dataclass
class PageResult:
    number: int
    counts: Counts
    cursor: str
    has_more: bool
    errors: list = field(default_factory=list)


def _retry_after(value):
    """Seconds to wait from a Retry-After header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _detail(body):
    """(code, message) from an error answer of the other instance ({"detail", "code"} or fields)."""
    try:
        data = json.loads(body or b"")
    except ValueError:
        text = (body or b"")[:200].decode("utf-8", "replace").strip()
        return "", text
    if isinstance(data, dict):
        code = str(data.get("code") or "")
        if "detail" in data:
            return code, str(data["detail"])
        return code, "; ".join(f"{k}: {v}" for k, v in data.items())
    return "", str(data)[:200]


def _is_uuid(value):
    try:
        uuid.UUID(value)
    except (TypeError, ValueError):
        return False
    return True


def _error_text(exc):
    """A refusal as one line: the message and any field errors."""
    if isinstance(exc, DomainError):
        errors = exc.errors
        if isinstance(errors, dict) and errors:
            fields = "; ".join(
                f"{name}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))}"
                for name, msgs in errors.items()
            )
            return fields
        return str(exc.message)
    if isinstance(exc, DrfValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            return "; ".join(
                f"{name}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))}"
                for name, msgs in detail.items()
            )
        return " ".join(str(m) for m in detail) if isinstance(detail, list) else str(detail)
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages)
    return str(exc)


class Puller:
    """Pull the change feed at ``state.url`` into this instance as ``user``.

    ``state`` is the SyncSource (its ``source`` names the records, its ``cursor`` is where to go
    on). ``types``: the resources to ask for (None: every one the token may read). ``strict``: a
    refused event stops the pull (its page is not applied). ``sleep`` is replaceable in tests.
    """

    def __init__(
        self,
        state,
        token,
        user,
        *,
        types=None,
        limit=1000,
        strict=False,
        timeout=30.0,
        retries=5,
        backoff=1.0,
        sleep=time.sleep,
    ):
        if not token:
            raise PullStopped(
                _("A token is needed: give --token or set SYNC_PULL_TOKEN."), code="token_missing"
            )
        self.state = state
        self.token = token
        self.user = user
        self.types = list(types) if types else None
        self.limit = int(limit)
        self.strict = strict
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.pages = 0
        self.counts = Counts()

    # --- Reading the other instance's feed ---------------------------------------------------

    def page_url(self, cursor):
        query = {"limit": str(self.limit)}
        if cursor:
            query["after"] = cursor
        if self.types:
            query["types"] = ",".join(self.types)
        return f"{self.state.url}?{urllib.parse.urlencode(query)}"

    def _refusal(self, status, body):
        code, detail = _detail(body)
        where = {"status": status, "code": code or "-", "detail": detail}
        if status in (401, 403):
            message = _(
                "The other instance refused the token (%(status)s %(code)s: %(detail)s). Check "
                "--token / SYNC_PULL_TOKEN and that its API client may read the change feed."
            )
        elif status == 410:
            message = _(
                "The cursor is older than the changes the other instance keeps (%(status)s "
                "%(code)s). Run sync_pull again with --reset to download everything from the "
                "start of its feed (a full download)."
            )
        elif status == 400 and code == "invalid_cursor":
            message = _(
                "The other instance does not know this cursor (%(status)s %(code)s: %(detail)s). "
                "Run sync_pull again with --reset to download everything from the start."
            )
        elif status == 404:
            message = _(
                "No change feed at this address (%(status)s). Give the other instance's base "
                "URL, e.g. http://host:8000."
            )
        else:
            message = _("The other instance refused the request (%(status)s %(code)s: %(detail)s).")
        return PullStopped(message % where, status=status, code=code)

    def fetch(self, cursor):
        """One page of the feed after ``cursor``: {"results", "next", "has_more"}; retries what may
        pass (no connection, 5xx, 429), raises PullStopped for the rest."""
        url = self.page_url(cursor)
        request = urllib.request.Request(
            url,
            headers={
                "Accept": "application/json",
                "Accept-Language": "en",
                "Accept-Encoding": "gzip",
                "User-Agent": USER_AGENT,
            },
        )
        # Not forwarded if a redirect leads elsewhere: the token stays with this host.
        request.add_unredirected_header("Authorization", f"Bearer {self.token}")
        attempt = 0
        while True:
            attempt += 1
            wait = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = response.read()
                    encoding = response.headers.get("Content-Encoding")
                return self._parse(body, encoding)
            except urllib.error.HTTPError as exc:
                body = exc.read()
                if exc.code != 429 and exc.code < 500:
                    raise self._refusal(exc.code, body) from None
                wait = _retry_after(exc.headers.get("Retry-After"))
                problem = f"{exc.code} {_detail(body)[1]}".strip()
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
                problem = str(getattr(exc, "reason", exc))
            if attempt > self.retries:
                raise PullStopped(
                    _("Could not read %(url)s after %(n)d attempts: %(problem)s")
                    % {"url": self.state.url, "n": attempt, "problem": problem},
                    retryable=True,
                )
            if wait is None:
                wait = self.backoff * 2 ** (attempt - 1)
            wait = min(max(wait, 0.0), MAX_WAIT)
            log.warning(
                "sync_pull %s: %s; attempt %d again in %.1f s",
                self.state.url,
                problem,
                attempt + 1,
                wait,
            )
            self.sleep(wait)

    def _parse(self, body, encoding=None):
        try:
            if encoding == "gzip":
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            page = json.loads(body)
        except (ValueError, zlib.error):
            page = None
        if (
            not isinstance(page, dict)
            or not isinstance(page.get("results"), list)
            or not isinstance(page.get("next"), str)
        ):
            raise PullStopped(
                _("The answer of %(url)s is not a change feed page.") % {"url": self.state.url}
            )
        page["has_more"] = bool(page.get("has_more"))
        return page

    # --- Applying a page here ----------------------------------------------------------------

    def run(self, max_pages=None, on_page=None):
        """Read and apply pages until the feed has no more (or ``max_pages``); returns the counts.
        ``on_page(PageResult)`` is called after each page is committed."""
        with self._exclusive():
            pages_this_run = 0
            while max_pages is None or pages_this_run < max_pages:
                cursor = self.state.cursor
                try:
                    result = self.apply_page(self.fetch(cursor), cursor)
                except PullStopped as exc:
                    self._note_error(exc.message)
                    raise
                pages_this_run += 1
                if on_page is not None:
                    on_page(result)
                if not result.has_more:
                    break
        return self.counts

    @contextlib.contextmanager
    def _exclusive(self):
        """One puller per feed at a time (a PostgreSQL advisory lock held by this session)."""
        key = lock_key(self.state.url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_BASE, key])
            if not cursor.fetchone()[0]:
                raise PullStopped(
                    _("Another sync_pull is following %(url)s now.") % {"url": self.state.url}
                )
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_BASE, key])

    def _note_error(self, message):
        SyncSource.objects.filter(pk=self.state.pk).update(last_error=message[:4000])
        self.state.last_error = message

    def apply_page(self, page, cursor):
        """Apply one page's events and save the cursor after it, in one transaction."""
        counts = Counts()
        errors = []
        with transaction.atomic():
            state = SyncSource.objects.select_for_update().get(pk=self.state.pk)
            if state.cursor != cursor:
                raise PullStopped(
                    _("Another sync_pull moved the cursor of %(url)s meanwhile; nothing applied.")
                    % {"url": state.url}
                )
            for event in page["results"]:
                try:
                    outcome = self.apply_event(state, event)
                except EventRefused as exc:
                    message = str(exc)
                    if self.strict:
                        raise PullStopped(
                            _("Refused (nothing of this page applied): %(message)s")
                            % {"message": message}
                        ) from exc
                    log.warning("sync_pull %s: %s", state.url, message)
                    errors.append(message)
                    outcome = "failed"
                counts.add(outcome)
            state.cursor = page["next"]
            state.applied += counts.applied
            state.skipped += counts.skipped
            state.failed += counts.failed
            state.last_pulled_at = timezone.now()
            if errors:
                state.last_error = f"{timezone.now():%Y-%m-%d %H:%M:%S %Z} {errors[-1]}"[:4000]
            state.save(
                update_fields=[
                    "cursor",
                    "applied",
                    "skipped",
                    "failed",
                    "last_pulled_at",
                    "last_error",
                ]
            )
        self.state = state
        self.pages += 1
        self.counts += counts
        return PageResult(
            number=self.pages,
            counts=counts,
            cursor=page["next"],
            has_more=page["has_more"],
            errors=errors,
        )

    def apply_event(self, state, event):
        """Apply one event; returns "created", "updated", "deleted" or "skipped"; raises
        EventRefused when the local services (or the serializer) refuse it."""
        if not isinstance(event, dict):
            raise EventRefused(_("Not a change event: %(event).200s") % {"event": event})
        kind = event.get("type")
        remote_id = str(event.get("id") or "")
        action = event.get("action")
        label = f"{kind} {remote_id} {action} (seq {event.get('seq')})"
        if not kind or action not in ACTIONS or not _is_uuid(remote_id):
            raise EventRefused(_("%(event)s: not a change event.") % {"event": label})
        resource = sync.resources().get(kind)
        if resource is None or not resource.writable:
            return "skipped"  # unknown here, or read-only (cable segments)
        try:
            with (
                transaction.atomic(),
                acting_as(
                    self.user,
                    command="sync_pull",
                    source=state.source,
                    feed=state.url,
                    remote_id=remote_id,
                    remote_seq=event.get("seq"),
                ),
            ):
                local = (
                    resource.model._base_manager.select_for_update()
                    .filter(source=state.source, external_id=remote_id)
                    .first()
                )
                if action == "delete":
                    if local is None:
                        return "skipped"
                    resource.delete(self.user, local)
                    return "deleted"
                return self._upsert(resource, state, remote_id, local, event["data"])
        except (DomainError, DrfValidationError, DjangoValidationError, IntegrityError) as exc:
            raise EventRefused(f"{label}: {_error_text(exc)}") from exc

    def _writable(self, serializer_class):
        fields = serializer_class().fields
        return {name for name, f in fields.items() if not f.read_only} - REMOTE_ONLY

    def _upsert(self, resource, state, remote_id, local, feature):
        if not isinstance(feature, dict):
            raise DrfValidationError({"data": [_("Not a GeoJSON Feature.")]})
        serializer_class = resource.get_serializer_class()
        writable = self._writable(serializer_class)
        properties = feature.get("properties") or {}
        given = {k: v for k, v in properties.items() if k in writable}
        if local is not None and self._unchanged(resource, local, feature, given):
            return "skipped"
        body = {"type": "Feature", "geometry": feature.get("geometry"), "properties": given}
        serializer = serializer_class(
            local, data=body, context={"request": SimpleNamespace(user=self.user)}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        for name in REMOTE_ONLY:
            data.pop(name, None)
        data["source"] = state.source
        data["external_id"] = remote_id
        resource.save(self.user, local, data)
        return "created" if local is None else "updated"

    def _unchanged(self, resource, local, feature, given):
        """Whether the local record already has the incoming state (the same Feature written by
        PostgreSQL, compared on the geometry and the writable properties)."""
        current = (
            resource.state_queryset()
            .filter(pk=local.pk)
            .annotate(
                sync_state=feature_expression(
                    geometry=resource.geometry,
                    properties=resource.properties,
                    id_field="public_id",
                )
            )
            .values_list("sync_state", flat=True)
            .first()
        )
        if isinstance(current, str):
            current = json.loads(current)
        if not current:
            return False
        mine = current.get("properties") or {}
        if resource.geometry and current.get("geometry") != feature.get("geometry"):
            return False
        return all(mine.get(name) == value for name, value in given.items())
