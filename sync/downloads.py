"""Nightly full downloads of the public registers, as GeoJSON and CSV (RegisterDownload).

Every resource registered with ``public=True`` (sync: stations, public sites, shareable assets,
cable segments) is written to two files under MEDIA_ROOT, the way national registers publish their
bulk files:

- ``<resource>.geojson``: a FeatureCollection of the same Features the API and the change feed give
  (``id`` = the public id), with two foreign members: ``cursor`` and ``built_at``;
- ``<resource>.csv``: one row per record, the properties as columns, then ``longitude`` and
  ``latitude`` for points or ``wkt`` for other geometries; UTF-8 with a byte-order mark so that Excel
  shows Vietnamese names; values as in the GeoJSON (ISO dates, ``true``/``false``, lists joined
  with ``;``, a geometry property as WKT); text that a spreadsheet would run as a formula starts with
  a quote.

**What is in them.** These files are the public face of the registers (``downloads`` needs no
scope; who is offered which register: below). They carry every record of the register (the record
set is the register itself, as the domain app declared it public) but only its public fields: ``source`` and ``external_id`` are left out (``PRIVATE``). Those
two are another agency's bookkeeping (which system sent the record and its key there), meaningful
only to that agency, which reads them through the scoped API and the change feed; they say nothing
about the infrastructure itself. Records are matched across the file and the feed by ``id`` (the
public id), which every Feature carries.

**Who gets which file.** One rule, declared once in the registry (sync ``open_to_all``, set by
each app's ``sync.py``): a register whose lists are open to every role (the public-site catalogue,
the shareable-assets register) is offered to every portal user and API client; a register that
lists scope to the user's own organisation (stations, cable segments) is a full copy of every
organisation's records, so it is offered only to those who see every record (officials,
administrators, state agencies' clients: core.scoping.sees_everything). Operators and operators'
clients read their own stations and segments through the scoped API lists and the change feed; the
list, the page and the file all answer as if the others' files did not exist (404).

**Following changes after a download.** All the files of one build are read in one REPEATABLE READ
transaction that also reads the feed's head (``cursor_seq``): the data are exactly the state after
change ``cursor_seq``. The feed numbers changes in commit order (sync.feed), so a consumer who
loads a file and then reads /api/v1/changes/?after=<cursor> gets every change the file does not
include, and none that it does.

**Memory stays flat.** Records are read in keyset batches (``id > last ORDER BY id LIMIT n``);
PostgreSQL writes each batch's Features and CSV rows as two pieces of text, which go straight to
temporary files (hashed as they are written) and then into the storage in chunks.
"""

import hashlib
import json
import logging
import os
import tempfile
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

import sync
from core.geojson import _KEY, feature_expression
from sync.feed import encode_cursor, head_seq
from sync.models import RegisterDownload

log = logging.getLogger(__name__)

PRIVATE = ("source", "external_id")
FORMATS = ("geojson", "csv")
CONTENT_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8"}
BOM = "\ufeff"
DEFAULT_BATCH = 5000


def public_resources():
    """The registers published as downloads, by name."""
    return {name: r for name, r in sync.resources().items() if r.public}


def may_download(user, resource):
    """Whether ``user`` gets the full download of ``resource`` (see "Who gets which file")."""
    from core.scoping import sees_everything

    return bool(resource.open_to_all or sees_everything(user))


def offered_resources(user):
    """The public registers whose downloads ``user`` may have, by name."""
    return {n: r for n, r in public_resources().items() if may_download(user, r)}


def public_properties(resource):
    """The properties a download carries: the resource's Feature properties but the private ones."""
    return {k: v for k, v in resource.properties.items() if k not in PRIVATE}


def _is_point(resource):
    if not resource.geometry:
        return False
    geom_type = getattr(resource.model._meta.get_field(resource.geometry), "geom_type", "")
    return geom_type.upper() == "POINT"


def csv_columns(resource):
    """The CSV header: the public properties, then longitude/latitude (points) or wkt."""
    columns = list(resource.csv_columns) or list(public_properties(resource))
    if _is_point(resource):
        columns += ["longitude", "latitude"]
    elif resource.geometry:
        columns += ["wkt"]
    return columns


# --- SQL --------------------------------------------------------------------------------------------


def _quoted(text_sql):
    """A CSV cell, always quoted (never NULL)."""
    return f"""('"' || replace(COALESCE({text_sql}, ''), '"', '""') || '"')"""


def _cell(value):
    """The CSV cell of a JSON value ``value`` (SQL of type jsonb)."""
    text = f"({value} #>> '{{}}')"
    guarded = (
        f"CASE WHEN left({text}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {text} ELSE {text} END"
    )
    array = f"(SELECT string_agg(e, ';') FROM jsonb_array_elements_text({value}) e)"
    geometry = f"ST_AsText(ST_GeomFromGeoJSON(({value})::text))"
    return f"""CASE jsonb_typeof({value})
        WHEN 'string' THEN {_quoted(guarded)}
        WHEN 'array' THEN {_quoted(array)}
        WHEN 'object' THEN CASE WHEN ({value}) -> 'coordinates' IS NOT NULL
                                THEN {_quoted(geometry)} ELSE {_quoted(f"({value})::text")} END
        WHEN 'number' THEN ({value})::text
        WHEN 'boolean' THEN ({value})::text
        ELSE '' END"""


def _row_sql(resource):
    """One CSV line (without its end) of the Feature ``s.b`` (jsonb)."""
    cells = []
    for column in csv_columns(resource):
        if column in ("longitude", "latitude") and _is_point(resource):
            index = 0 if column == "longitude" else 1
            cells.append(_cell(f"(s.b -> 'geometry' -> 'coordinates' -> {index})"))
        elif column == "wkt" and resource.geometry:
            cells.append(_cell("(s.b -> 'geometry')"))
        else:
            if not _KEY.match(column):
                raise ValueError(f"Not a plain column name: {column!r}")
            cells.append(_cell(f"(s.b -> 'properties' -> '{column}')"))
    return " || ',' || ".join(f"({c})" for c in cells)


def _bounds(resource, last_id, size):
    """(rows, last id) of the next batch: the ``size`` ids after ``last_id`` (an index range)."""
    table = connection.ops.quote_name(resource.table)
    pk = connection.ops.quote_name(resource.model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), max(b.id) FROM (SELECT {pk} AS id FROM {table} WHERE {pk} > %s "
            f"ORDER BY {pk} LIMIT %s) b",
            [last_id, size],
        )
        return cursor.fetchone()


def _batch_sql(resource, after_id, last_id):
    """(rows, Features joined by ',\\n', CSV lines joined by CRLF) of the records whose id is in
    (``after_id``, ``last_id``]. PostgreSQL writes the Feature once (json, key order kept) and
    reads the CSV cells from it as jsonb (parsed once per row)."""
    feature = feature_expression(
        geometry=resource.geometry,
        properties=public_properties(resource),
        id_field="public_id",
    )
    inner_sql, params = (
        resource.state_queryset()
        .filter(pk__gt=after_id, pk__lte=last_id)
        .order_by()
        .annotate(dl_key=F("pk"), dl_feature=feature)
        .values("dl_key", "dl_feature")
        .query.sql_with_params()
    )
    # MATERIALIZED: each row's Feature is built once (an inlined subquery would build it again
    # for every reference to it in the CSV cells).
    sql = f"""
        WITH s AS MATERIALIZED (
            SELECT q.dl_key AS k, q.dl_feature AS f, q.dl_feature::jsonb AS b FROM ({inner_sql}) q
        )
        SELECT count(*),
               string_agg(s.f::text, E',\\n' ORDER BY s.k),
               string_agg({_row_sql(resource)}, E'\\r\\n' ORDER BY s.k)
        FROM s
    """
    return sql, params


# --- Writing ----------------------------------------------------------------------------------------


class _HashedFile:
    """A temporary file that counts and hashes what is written to it."""

    def __init__(self, suffix):
        fd, self.path = tempfile.mkstemp(prefix="register-", suffix=suffix)
        self.handle = os.fdopen(fd, "wb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, text):
        data = text.encode("utf-8")
        self.handle.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def close(self):
        if not self.handle.closed:
            self.handle.close()

    def remove(self):
        self.close()
        with suppress(FileNotFoundError):
            os.unlink(self.path)


@dataclass
class _Built:
    resource: str
    rows: int = 0
    files: dict = field(default_factory=dict)  # format -> _HashedFile


@contextmanager
def snapshot():
    """One REPEATABLE READ, read-only transaction: every query inside it sees the same committed
    state. Inside a caller's transaction (tests) the caller's transaction is used as it is."""
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _write(resource, cursor_value, built_at, batch_size):
    """Write one resource's GeoJSON and CSV into temporary files (inside the snapshot)."""
    built = _Built(resource.name)
    geojson = built.files["geojson"] = _HashedFile(".geojson")
    csv_file = built.files["csv"] = _HashedFile(".csv")
    header = {
        "type": "FeatureCollection",
        "name": resource.name,
        "cursor": cursor_value,
        "built_at": built_at.isoformat(),
    }
    geojson.write(json.dumps(header, ensure_ascii=False)[:-1] + ',"features":[')
    csv_file.write(BOM + ",".join(f'"{c}"' for c in csv_columns(resource)) + "\r\n")
    last_id, first = 0, True
    with connection.cursor() as cursor:
        while True:
            expected, upper = _bounds(resource, last_id, batch_size)
            if not expected:
                break
            sql, params = _batch_sql(resource, last_id, upper)
            cursor.execute(sql, params)
            count, features, lines = cursor.fetchone()
            if count:
                geojson.write(("\n" if first else ",\n") + features)
                csv_file.write(lines + "\r\n")
                built.rows += count
                first = False
            last_id = upper
            if expected < batch_size:
                break
    geojson.write("\n]}\n")
    for f in built.files.values():
        f.close()
    return built


def _file_name(resource, fmt, built_at):
    return f"{resource}-{timezone.localtime(built_at):%Y-%m-%d}.{fmt}"


def download_name(download):
    """The name a download is served under: stations-2026-11-28.geojson (local date)."""
    return _file_name(download.resource, download.format, download.built_at)


def build(names=None, *, batch_size=None, now=None):
    """Build the GeoJSON and CSV of every public register (or of ``names``) from one snapshot;
    store them as RegisterDownload rows and prune the old ones. Returns the new rows."""
    registers = public_resources()
    if names:
        unknown = [n for n in names if n not in registers]
        if unknown:
            raise ValueError(f"Not a public register: {', '.join(unknown)}")
        registers = {n: registers[n] for n in names}
    batch_size = int(batch_size or getattr(settings, "SYNC_DOWNLOADS_BATCH", DEFAULT_BATCH))
    built_at = now or timezone.now()
    results = []
    try:
        with snapshot():
            cursor_seq = head_seq()
            cursor_value = encode_cursor(cursor_seq)
            for resource in registers.values():
                results.append(_write(resource, cursor_value, built_at, batch_size))
        downloads = _store(results, built_at, cursor_seq)
    finally:
        for built in results:
            for f in built.files.values():
                f.remove()
    prune()
    return downloads


def _store(results, built_at, cursor_seq):
    saved, downloads = [], []
    try:
        with transaction.atomic():
            for built in results:
                for fmt, tmp in built.files.items():
                    download = RegisterDownload(
                        resource=built.resource,
                        format=fmt,
                        built_at=built_at,
                        rows=built.rows,
                        size=tmp.size,
                        sha256=tmp.sha256.hexdigest(),
                        cursor_seq=cursor_seq,
                    )
                    with open(tmp.path, "rb") as handle:
                        download.file.save(
                            _file_name(built.resource, fmt, built_at), File(handle), save=False
                        )
                    saved.append(download.file.name)
                    download.save()
                    downloads.append(download)
    except Exception:
        for name in saved:
            RegisterDownload.file.field.storage.delete(name)
        raise
    return downloads


def prune(keep=None):
    """Keep the newest ``keep`` (SYNC_DOWNLOADS_KEEP) files of each register and format; delete the
    older rows and, once that is committed, their files. Returns how many were removed."""
    keep = max(1, int(keep or settings.SYNC_DOWNLOADS_KEEP))
    old = []
    with transaction.atomic():
        for resource, fmt in (
            RegisterDownload.objects.values_list("resource", "format").distinct().order_by()
        ):
            rows = RegisterDownload.objects.filter(resource=resource, format=fmt).order_by(
                "-built_at", "-id"
            )
            old += list(rows.values_list("id", "file")[keep:])
        if not old:
            return 0
        RegisterDownload.objects.filter(id__in=[pk for pk, _name in old]).delete()
        storage = RegisterDownload.file.field.storage
        names = [name for _pk, name in old if name]
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(old)


def latest(user=None):
    """The newest download of each register and format, in registry order (csv after geojson):
    those offered to ``user`` (every public register when None, for the system)."""
    order = {name: i for i, name in enumerate(sync.resources())}
    registers = public_resources() if user is None else offered_resources(user)
    rows = (
        RegisterDownload.objects.order_by("resource", "format", "-built_at", "-id")
        .distinct("resource", "format")
        .filter(resource__in=list(registers))
    )
    return sorted(rows, key=lambda d: (order.get(d.resource, 99), FORMATS.index(d.format)))


def latest_of(resource, fmt):
    return (
        RegisterDownload.objects.filter(resource=resource, format=fmt)
        .order_by("-built_at", "-id")
        .first()
    )


def cursor_of(download):
    return encode_cursor(download.cursor_seq)
