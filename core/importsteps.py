"""The mapping step of an import, for every kind that declares its fields (core.imports.Kind).

A page stores the upload as a job without sending it (``core.imports.start(enqueue=False)``) and
asks ``prepare(job)``:

- the file's header feeds every required field by itself (names, labels, synonyms), or through a
  mapping the user chose or the organisation saved for files with these columns (applied by
  itself, and said in the job's notices), and its dates say their order: the job is ready;
- otherwise the job waits (status "draft") and the page sends the user to the mapping step
  (``/imports/<id>/mapping/``): the file's columns with sample values beside the template's
  fields, pre-filled; the user maps, ignores, sets constants, chooses the date order and may save
  the mapping under a name (``apply_mapping``), and the job goes to the worker.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core import imports
from core.dateorder import ORDERS, DateOrder
from core.exceptions import ImportRejected, InvalidInput
from core.importmap import check_mapping, header_test, parse_mapping, require, resolve

SAMPLES = 3


@dataclass
class Preview:
    header: list
    samples: dict  # file column -> up to SAMPLES values
    suggested: dict  # file column -> field ("" when none)
    missing: list = field(default_factory=list)  # required fields nothing feeds
    date_problem: str = ""  # the date order the file needs to be told
    rows: list = field(default_factory=list)


def _read(job, mapping=None):
    from core.tabular import read_table

    fields = imports.KINDS[job.kind].fields
    with job.file.open("rb") as handle:
        test = header_test(fields, mapping)
        header, rows = read_table(handle, is_header=test)
    if not [h for h in header if h]:
        raise ImportRejected(_("The file has no header row."))
    return header, rows


def preview(job, mapping=None, date_order=None):
    """What the mapping step shows and checks for ``job`` with ``mapping`` (None: the job's)."""
    kind = imports.KINDS[job.kind]
    mapping = job.options.get("mapping") if mapping is None else mapping
    header, rows = _read(job, mapping)
    fields = kind.fields
    resolution = resolve(header, fields, mapping)
    for other in kind.field_sets:  # a file may follow another template of the kind wholly
        try:
            alternative = resolve(header, other, mapping)
        except ImportRejected:
            continue
        if resolution.missing(kind.fields) and not alternative.missing(other):
            resolution, fields = alternative, other
            break
    samples = {column: [] for column in header if column}
    for _number, values in rows[: SAMPLES * 4]:
        for column in samples:
            value = values.get(column, "")
            if value and len(samples[column]) < SAMPLES:
                samples[column].append(value)
    problem = ""
    order = date_order or job.options.get("date_order")
    for name in kind.date_fields:
        columns = [c for c, f in resolution.columns.items() if f == name]
        if not columns:
            continue
        found = DateOrder(columns[0])
        for number, values in rows:
            found.see(number, values.get(columns[0]))
        try:
            found.decide(order)
        except ImportRejected as exc:
            problem = str(exc.message)
    return Preview(
        header=[h for h in header if h],
        samples=samples,
        suggested={c: resolution.columns.get(c, "") for c in samples},
        missing=resolution.missing(fields),
        date_problem=problem,
        rows=rows,
    )


def saved_mapping_for(job, header):
    """The organisation's saved mapping for this kind that reads a file with ``header`` whole."""
    from core.models import ImportMapping

    fields = imports.KINDS[job.kind].fields
    saved = ImportMapping.objects.filter(
        kind=job.kind, organization_id__in=[job.organization_id, None]
    ).order_by("organization_id", "name")
    for candidate in saved:
        columns = {str(c) for c in candidate.columns}
        written = {str(h) for h in header}
        if (
            columns
            and columns <= written
            and not resolve(header, fields, candidate.mapping).missing(fields)
        ):
            return candidate
    return None


def prepare(job):
    """True when the job may go to the worker; False when it waits for the mapping step (the job is
    then a draft). A saved mapping that reads the file is applied by itself."""
    from core.models import ImportJob

    kind = imports.KINDS.get(job.kind)
    if kind is None or not kind.fields:
        return True
    found = preview(job)
    if found.missing and not job.options.get("mapping"):
        saved = saved_mapping_for(job, found.header)
        if saved is not None:
            job.options = {**job.options, "mapping": saved.mapping, "mapping_used": saved.name}
            if saved.date_order and not job.options.get("date_order"):
                job.options["date_order"] = saved.date_order
            found = preview(job)
    ready = not found.missing and not found.date_problem
    job.status = ImportJob.Status.QUEUED if ready else ImportJob.Status.DRAFT
    ImportJob.objects.filter(pk=job.pk).update(status=job.status, options=job.options)
    return ready


def mapping_from_form(data, header, fields):
    """The mapping a posted mapping step says: ``column-<i>`` (a field or "") for each file column,
    ``constant-<field>`` for a value every row gets."""
    names = {f.name for f in fields}
    columns, constants = {}, {}
    for index, column in enumerate(header):
        chosen = str(data.get(f"column-{index}", "")).strip()
        if chosen and chosen not in names:
            raise InvalidInput({f"column-{index}": [_("Choose one of the template's fields.")]})
        columns[column] = chosen
    for f in fields:
        value = str(data.get(f"constant-{f.name}", "")).strip()
        if value:
            constants[f.name] = value
    return {"columns": columns, "constants": constants}


def apply_mapping(user, job, mapping, date_order=None, save_as="", inline=True):
    """Check the draft ``job`` read with ``mapping`` (and ``date_order``), keep both on the job,
    save the mapping under ``save_as`` if given, and send the job on (imported here and now when
    small and ``inline``, else by the worker). Returns the job."""
    from core.models import ImportJob

    if job.status != ImportJob.Status.DRAFT:
        raise InvalidInput({"__all__": [_("This import is no longer waiting for its mapping.")]})
    if date_order not in (None, "", *ORDERS):
        raise InvalidInput({"date_order": [_("Choose day/month/year or month/day/year.")]})
    check_mapping(mapping)
    kind = imports.KINDS[job.kind]
    columns, constants = parse_mapping(mapping)
    fed = [f for f in columns.values() if f]
    twice = sorted({f for f in fed if fed.count(f) > 1})
    if twice:
        raise InvalidInput(
            {"__all__": [_("Each field is fed by one column: %(f)s") % {"f": ", ".join(twice)}]}
        )
    found = preview(job, mapping, date_order)
    try:
        require(resolve(found.header, kind.fields, mapping), kind.fields)
    except ImportRejected as exc:
        raise InvalidInput({"__all__": [str(exc.message)]}) from exc
    if found.date_problem:
        raise InvalidInput({"date_order": [found.date_problem]})
    job.options = {
        **job.options,
        "mapping": {"columns": columns, "constants": constants},
        **({"date_order": date_order} if date_order else {}),
    }
    if save_as:
        saved = imports.save_mapping(
            user, job.kind, save_as, job.options["mapping"], date_order or ""
        )
        job.options["mapping_used"] = saved.name
    return imports.run_or_queue(job) if inline else imports.queue(job)


def submit(job, inline=True):
    """A page's next step for a job it just stored: the job, waiting for its mapping step (a
    draft) or sent on, imported here and now when small and ``inline``, else queued for the
    worker."""
    if not prepare(job):
        return job
    return imports.run_or_queue(job) if inline else imports.queue(job)
