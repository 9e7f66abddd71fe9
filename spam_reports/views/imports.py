"""The import page (the progress is core's import-job page) and the empty CSV templates."""

import csv
import io

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse

from core.web import ServiceFormView
from spam_reports import services
from spam_reports.forms import ImportForm
from spam_reports.models import Origin

TEMPLATE_COLUMNS = {
    Origin.OPERATOR_FEED: [*services.GENERIC_COLUMNS, *services.OPTIONAL_COLUMNS],
    Origin.EXPORT_5656: list(services.EXPORT_5656_COLUMNS),
}


class ImportView(ServiceFormView):
    template_name = "spam_reports/import.html"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        if not services.can_import(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            templates=[
                {
                    "kind": kind,
                    "columns": columns,
                    "url": reverse("spam_reports:import-template", args=[kind]),
                }
                for kind, columns in TEMPLATE_COLUMNS.items()
            ],
            max_mb=settings.SPAM_IMPORT_MAX_BYTES // (1024 * 1024),
            tab="import",
            **kwargs,
        )

    def perform(self, form):
        """The job waits for the mapping step when its columns or its dates need it
        (core.importsteps); otherwise it goes to the worker."""
        from core import imports, importsteps
        from core.exceptions import ImportRejected

        job = services.start_import(
            self.request.user,
            form.cleaned_data["file"],
            origin=form.cleaned_data["kind"],
            date_order=form.cleaned_data["date_order"] or None,
            enqueue=False,
        )
        try:
            return importsteps.submit(job, inline=False)
        except ImportRejected:  # not a table it can read: the worker refuses it, saying why
            return imports.queue(job)

    def success_url_for(self, obj):
        if obj.status == obj.Status.DRAFT:
            return reverse("core:import-job-mapping", args=[obj.public_id])
        return reverse("core:import-job", args=[obj.public_id])


def import_template(request, kind):
    """An empty CSV (UTF-8 with a BOM, for Excel) with the columns of one kind of import."""
    if kind not in TEMPLATE_COLUMNS:
        raise Http404
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerow(TEMPLATE_COLUMNS[kind])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="spam-import-{kind}.csv"'
    return response
