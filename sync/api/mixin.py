"""Writes for machine clients on any synced register's API: delete, upsert by the sender's id, bulk.

A viewset that mixes in ``SyncWriteMixin`` and names its registered resource (``sync_resource =
"stations"``, see sync) gets:

- ``DELETE <prefix>/<id>/``: through the resource's ``delete`` service, guarded by If-Match (a
  stale ETag gets 412 with the record as it is now);
- ``GET / PUT / DELETE <prefix>/by-source/<source>/<external_id>/``: the record another system
  knows by (source, its id there). PUT creates or updates it from the same body as a POST create
  and answers 201 / 200 with ``Sync-Result: created | updated | unchanged``. A PUT that changes
  nothing writes nothing (no history, no change-feed event), so repeating it is harmless. The
  first PUTs of a new key racing each other end as one create and one update, never a 500.
- ``POST <prefix>/bulk/``: up to ``SYNC_BULK_MAX`` records, each validated, with a result per
  record; ``mode`` "atomic" applies all or none, "partial" the valid ones, in one transaction. The
  resource's ``bulk`` service does the work when it has one (a batched upsert); otherwise each
  record goes through its ``save`` service in a savepoint of its own.

A token client writes only its own organisation's source (``source_not_owned``), and so do people
signed in for an operator (sync.services.may_use_source; city officials may use any).
Permission, scope and business rules stay in the services.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

import sync
from core.api.mixins import check_if_match
from core.exceptions import InvalidInput, PermissionDenied
from sync import services as sync_services
from sync.api.batch import (
    BatchLookups,
    Entry,
)
from sync.api.records import (
    ATOMIC,
    CREATED,
    ERROR,
    EXTERNAL_ID_RE,
    NON_FIELD,
    NOT_APPLIED,
    PARTIAL,
    SAVE_ERRORS,
    SOURCE_RE,
    SYNC_RESULT,
    UNCHANGED,
    UNEXPECTED,
    UPDATED,
    BatchTooLarge,
    error_of,
    field_errors,
    key_errors,
    split_key,
    unchanged,
)

logger = logging.getLogger("core.api")

# --- The mixin --------------------------------------------------------------------------------------


class SyncWriteMixin:
    """Delete, upsert by (source, external_id) and bulk writes for a registered resource.

    The viewset sets ``sync_resource`` (its name in sync) and may override ``may_write(user,
    instance)`` (the service's own "may change this record" rule, applied when nothing is saved
    because nothing changed). It must be a FeatureWriteMixin (``respond``, ``lock``,
    ``geojson_geometry``).
    """

    sync_resource: str | None = None
    sync_derived = ("commune",)  # sent as null (or left out): the service finds it again

    @property
    def resource(self):
        return sync.get(self.sync_resource)

    def may_write(self, user, instance):
        return True

    # --- helpers ---

    def check_source_owned(self, source):
        sync_services.ensure_source_owned(self.request.user, source)

    def source_error(self, source):
        if not isinstance(source, str):
            return {}
        try:
            sync_services.ensure_source_owned(self.request.user, source)
        except sync_services.SourceNotOwned as exc:
            return {"source": [str(exc.message)]}
        return {}

    def get_object(self):
        """On a by-source URL, the record of (source, external_id): what OPTIONS (DRF's metadata)
        and the permission checks ask for there, where there is no public id."""
        if "source" in self.kwargs and "external_id" in self.kwargs:
            instance = self.find_by_source(self.kwargs["source"], self.kwargs["external_id"])
            if instance is None:
                raise NotFound()
            self.check_object_permissions(self.request, instance)
            return instance
        return super().get_object()

    def find_by_source(self, source, external_id, lock=False):
        queryset = self.get_queryset()
        instance = queryset.filter(source=source, external_id=external_id).first()
        if instance is None or not lock:
            return instance
        try:
            return self.lock(instance, lambda: queryset.get(pk=instance.pk))
        except instance.DoesNotExist:
            return None

    def update_data(self, data):
        """An update that moves the geometry without naming a commune: the service finds it."""
        data = dict(data)
        if self.geojson_geometry in data and "commune" not in data:
            data["commune"] = None
        return data

    def upsert(self, instance, data):
        """Create (``instance`` None) or update one record from validated ``data``; returns
        (result, saved instance). Runs inside the caller's transaction. A create that loses the
        race for a new key to another writer (unique constraint) is retried as an update."""
        user = self.request.user
        if instance is None:
            try:
                with transaction.atomic():
                    return CREATED, self.resource.save(user, None, dict(data))
            except (IntegrityError, InvalidInput):
                instance = self.find_by_source(data["source"], data["external_id"], lock=True)
                if instance is None:
                    raise
        return self.change(instance, data)

    def change(self, instance, data):
        if not self.may_write(self.request.user, instance):
            raise PermissionDenied()
        if unchanged(instance, data, derived=self.sync_derived):
            return UNCHANGED, instance
        return UPDATED, self.resource.save(self.request.user, instance, self.update_data(data))

    def current_state(self, instance):
        return lambda: self.get_serializer(instance).data

    def sync_response(self, instance, result):
        response = self.respond(
            instance, status.HTTP_201_CREATED if result == CREATED else status.HTTP_200_OK
        )
        response[SYNC_RESULT] = result
        return response

    # --- DELETE <prefix>/<id>/ ---

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            instance = self.locked_object()
            check_if_match(request, instance, current=self.current_state(instance))
            self.resource.delete(request.user, instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- <prefix>/by-source/<source>/<external_id>/ ---

    @action(
        detail=False,
        methods=["get", "put", "delete"],
        url_path=rf"by-source/(?P<source>{SOURCE_RE})/(?P<external_id>{EXTERNAL_ID_RE})",
        url_name="by-source",
    )
    def by_source(self, request, source=None, external_id=None):
        if request.method in ("GET", "HEAD"):
            instance = self.find_by_source(source, external_id)
            if instance is None:
                raise NotFound()
            return self.respond(instance)
        self.check_source_owned(source)
        if request.method == "DELETE":
            with transaction.atomic():
                instance = self.find_by_source(source, external_id, lock=True)
                if instance is None:
                    raise NotFound()
                check_if_match(request, instance, current=self.current_state(instance))
                self.resource.delete(request.user, instance)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = self.validated_put(request.data, source, external_id)
        with transaction.atomic():
            instance = self.find_by_source(source, external_id, lock=True)
            if instance is not None:
                check_if_match(request, instance, current=self.current_state(instance))
            result, saved = self.upsert(instance, data)
        return self.sync_response(saved, result)

    def validated_put(self, body, source, external_id):
        if not isinstance(body, dict):
            raise ValidationError(
                {NON_FIELD: [_("Send a JSON object (a GeoJSON Feature or plain fields).")]}
            )
        sent_source, sent_id, body = split_key(body)
        errors = {}
        for name, sent, expected in (
            ("source", sent_source, source),
            ("external_id", sent_id, external_id),
        ):
            if sent is not None and sent != expected:
                errors[name] = [
                    _("It is “%(value)s” in the URL; leave it out or send the same.")
                    % {"value": expected}
                ]
        if errors:
            raise ValidationError(errors)
        serializer = self.get_serializer(data=body)
        serializer.is_valid(raise_exception=True)
        return {**serializer.validated_data, "source": source, "external_id": external_id}

    # --- POST <prefix>/bulk/ ---

    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request):
        mode, records = self.batch_of(request.data)
        entries = self.validate_batch(records)
        valid = [e for e in entries if not e.errors]
        atomic = mode == ATOMIC
        if atomic and len(valid) < len(entries):
            applied = False
        elif self.resource.bulk is not None:
            applied = self.apply_bulk(valid, atomic)
        else:
            applied = self.apply_each(valid, atomic)
        if not applied:
            for entry in entries:
                if not entry.errors:
                    entry.status, entry.public_id = NOT_APPLIED, None
        results = [e.result() for e in entries]
        counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED), 0)
        for result in results:
            counts[result["status"]] += 1
        body = {"mode": mode, "applied": applied, "counts": counts, "results": results}
        if applied:
            return Response(body)
        response = Response(
            {
                "detail": _("Some records are not valid; nothing was applied."),
                "code": "batch_rejected",
                **body,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
        response["Error-Code"] = "batch_rejected"
        return response

    def batch_of(self, body):
        if not isinstance(body, dict):
            raise ValidationError(
                {NON_FIELD: [_('Send a JSON object: {"mode": "atomic", "records": [ … ]}.')]}
            )
        mode = body.get("mode", ATOMIC)
        if mode not in (ATOMIC, PARTIAL):
            raise ValidationError({"mode": [_('Use "atomic" or "partial".')]})
        records = body.get("records")
        if records is None or records == []:
            raise ValidationError({"records": [_("Send at least one record.")]})
        if not isinstance(records, list):
            raise ValidationError({"records": [_("Send the records as a JSON list.")]})
        limit = settings.SYNC_BULK_MAX
        if len(records) > limit:
            raise BatchTooLarge(
                _("%(count)d records; at most %(limit)d in one call.")
                % {"count": len(records), "limit": limit}
            )
        return mode, records

    def validate_batch(self, records):
        """Each record checked by the viewset's serializer (built once; lookups remembered), its
        key checked, and a key seen earlier in the batch refused."""
        lookups = BatchLookups(self.get_serializer())
        serializer = lookups.serializer
        entries, bodies, seen = [], {}, {}
        for index, raw in enumerate(records):
            entry = Entry(index=index)
            entries.append(entry)
            if not isinstance(raw, dict):
                entry.fail(
                    {NON_FIELD: [_("A record is a JSON object (a GeoJSON Feature or fields).")]}
                )
                continue
            entry.source, entry.external_id, bodies[index] = split_key(raw)
        lookups.prefetch(bodies.values())
        for entry in entries:
            index = entry.index
            if index not in bodies:
                continue
            body = bodies[index]
            entry.fail(key_errors(entry.source, entry.external_id))
            entry.fail(self.source_error(entry.source))
            try:
                data = serializer.run_validation(body)
            except ValidationError as exc:
                entry.fail(field_errors(exc.detail))
            else:
                entry.data = {**data, "source": entry.source, "external_id": entry.external_id}
            if not isinstance(entry.source, str) or not isinstance(entry.external_id, str):
                continue
            key = (entry.source, entry.external_id)
            if key in seen:
                entry.fail(
                    {
                        "external_id": [
                            _("Record %(index)d of this batch has the same source and id.")
                            % {"index": seen[key]}
                        ]
                    }
                )
            else:
                seen[key] = index
        return entries

    def apply_bulk(self, entries, atomic):
        """The resource's batched upsert: it returns one outcome per record, in order."""
        if not entries:
            return True
        outcomes = self.resource.bulk(self.request.user, [e.data for e in entries], atomic)
        failed = False
        for entry, outcome in zip(entries, outcomes, strict=True):
            entry.status = outcome["status"]
            entry.public_id = outcome.get("id")
            if outcome.get("errors"):
                entry.fail(field_errors(outcome["errors"]))
                failed = True
        return not (atomic and failed)

    def apply_each(self, entries, atomic):
        """Each record through the resource's save service, in a savepoint of its own, all in one
        transaction (rolled back whole in atomic mode when one fails)."""
        if not entries:
            return True
        failed = False
        with transaction.atomic():
            existing = self.existing(entries)
            for entry in entries:
                instance = existing.get((entry.source, entry.external_id))
                try:
                    with transaction.atomic():
                        entry.status, saved = self.upsert(instance, entry.data)
                    entry.public_id = saved.public_id
                except SAVE_ERRORS as exc:
                    entry.fail(error_of(exc))
                    failed = True
                except Exception as exc:
                    # Partial mode: an unexpected failure is this record's error (its savepoint
                    # rolled back), not a 500 for the others. Atomic mode: a 500, all rolled back.
                    if atomic:
                        raise
                    logger.error(
                        "Bulk %s: record %d failed", self.sync_resource, entry.index, exc_info=exc
                    )
                    entry.fail({NON_FIELD: [str(UNEXPECTED)]})
                    failed = True
            if atomic and failed:
                transaction.set_rollback(True)
        return not (atomic and failed)

    def existing(self, entries):
        """{(source, external_id): record in scope, its row locked} for the entries' keys."""
        sources = {e.source for e in entries}
        ids = {e.external_id for e in entries}
        keys = {(e.source, e.external_id) for e in entries}
        found = {
            (obj.source, obj.external_id): obj
            for obj in self.get_queryset().filter(source__in=sources, external_id__in=ids)
            if (obj.source, obj.external_id) in keys
        }
        if found:
            model = self.get_queryset().model
            stamps = dict(
                model._default_manager.select_for_update()
                .filter(pk__in=[o.pk for o in found.values()])
                .order_by("pk")
                .values_list("pk", "updated_at")
            )
            stale = [k for k, o in found.items() if stamps.get(o.pk) != o.updated_at]
            if stale:
                fresh = self.get_queryset().in_bulk([found[k].pk for k in stale])
                for key in stale:
                    if found[key].pk in fresh:
                        found[key] = fresh[found[key].pk]
                    else:
                        del found[key]
        return found
