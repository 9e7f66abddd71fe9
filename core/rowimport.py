"""Imports of small registers row by row through their own save service (public sites,
shareable assets …): the same reading, column mapping and error report as every import
(core.tabular, core.importmap), each row given to the register's service, the rules it keeps.

A kind supplies ``lookups(user)`` (what rows look up, read once), ``to_data(values, lookups) ->
(instance or None, {field: value})`` (raising InvalidInput with field errors) and ``save(user,
instance, **data)`` (the register's service).
``atomic``: all rows in one transaction, any refused row refuses the file and nothing is written;
``partial``: each row in its own savepoint, the valid ones stored; ``dry_run``: checked, then
rolled back.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError, ImportRejected, InvalidInput
from core.importmap import header_test, require, resolve, unknown_unit

PROGRESS_EVERY = 200


class _DryRun(Exception):
    pass


def handler(fields, to_data, save, lookups=lambda user: {}):
    """A core.imports handler for a row-by-row register."""

    def run(job, progress):
        from core.tabular import read_table

        options = job.options
        mapping = options.get("mapping")
        read_notices = []  # its totals rows
        with job.file.open("rb") as handle:
            header, rows = read_table(
                handle, is_header=header_test(fields, mapping), notices=read_notices
            )
        resolution = resolve(header, fields, mapping)
        require(resolution, fields)
        mode, dry = options.get("mode", "atomic"), bool(options.get("dry_run"))
        context = lookups(job.created_by)  # what every row looks up, read once
        errors, created, updated = [], 0, 0
        total = len(rows)
        progress(0, total=total)
        try:
            with transaction.atomic():
                for index, (number, raw) in enumerate(rows, start=1):
                    values = resolution.row(raw)
                    try:
                        with transaction.atomic():  # a savepoint: a refused row leaves nothing
                            instance, data = to_data(values, context)
                            save(job.created_by, instance, **data)
                    except InvalidInput as exc:
                        errors += _errors(number, exc.errors, values)
                    except DomainError as exc:  # not allowed for this user …
                        errors.append(_error(number, "", "", exc.message))
                    else:
                        created, updated = (
                            (created + 1, updated)
                            if instance is None
                            else (
                                created,
                                updated + 1,
                            )
                        )
                    if index % PROGRESS_EVERY == 0:
                        progress(index, total=total)
                if errors and mode != "partial":
                    raise ImportRejected(errors=errors)
                if dry:
                    raise _DryRun
        except _DryRun:
            pass
        refused = len({e["row"] for e in errors})
        progress(
            total,
            total=total,
            created_count=0 if dry else created + updated,
            error_count=refused,
            errors=errors,
            notices=[*resolution.notices(), *read_notices],
        )
        values = {"created": created, "updated": updated, "refused": refused}
        if dry:
            return (
                _(
                    "Checked, nothing stored: %(created)d would be created, %(updated)d updated, "
                    "%(refused)d rows refused."
                )
                % values
            )
        return _("%(created)d created, %(updated)d updated, %(refused)d rows refused.") % values

    return run


def _error(number, column, value, message):
    return {"row": number, "column": column, "value": str(value)[:200], "message": str(message)}


def _errors(number, errors, values):
    if not isinstance(errors, dict):
        return [_error(number, "", "", m) for m in (errors or [_("The row is refused.")])]
    out = []
    for column, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            column = "lon" if column == "location" else column
            out.append(_error(number, column, values.get(column, ""), message))
    return out


# --- What the registers' rows look up alike -------------------------------------------------------


def reference_lookups():
    """Organisations (by code, short name or name, any case or accents) and Hanoi's units, read
    once for a whole file."""
    from core.importmap import Choices
    from core.models import AdministrativeUnit, Organization

    organizations = {o.code: o for o in Organization.objects.all()}
    return {
        "organizations": organizations,
        "organization_names": Choices(
            [(o.code, o.short_name or o.name) for o in organizations.values()],
            extra={o.name: o.code for o in organizations.values()},
        ),
        "communes": {u.code: u for u in AdministrativeUnit.objects.all()},
    }


def organization(lookups, text, errors, field="owner"):
    """The organisation ``text`` names (None when empty; an error on ``field`` when unknown)."""
    if not text:
        return None
    found = lookups["organizations"].get(lookups["organization_names"].find(text).upper())
    if found is None:
        errors[field] = [_("Unknown organisation %(name)s.") % {"name": text}]
    return found


def commune(lookups, code, errors):
    """The unit with ``code`` (None when empty; an error on ``commune`` when unknown)."""
    if code and code not in lookups["communes"]:
        errors["commune"] = [unknown_unit(code)]
    return lookups["communes"].get(code) if code else None


def point(values):
    """The row's lon / lat as a WGS 84 point; ValueError when they are not finite numbers."""
    import math

    from django.contrib.gis.geos import Point

    try:
        lon, lat = float(values.get("lon", "")), float(values.get("lat", ""))
    except (TypeError, ValueError):
        raise ValueError("lon/lat") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("lon/lat")
    return Point(lon, lat, srid=4326)


def decimal(text):
    """A decimal as people write it (24, 24.5, 24,5); None when empty; ValueError when it is
    no finite number (NaN and Infinity are refused: they would break every comparison)."""
    from decimal import Decimal, InvalidOperation

    text = str(text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value
