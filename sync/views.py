"""The page of the nightly register downloads (/downloads/): what was built, when, and links."""

from django.views.generic import TemplateView

from sync import downloads
from sync.api.downloads import describe


class DownloadListView(TemplateView):
    """The newest GeoJSON and CSV of each public register, with its date (any portal role: core.access)."""

    template_name = "sync/download_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        registers = downloads.public_resources()
        rows = []
        for download in downloads.latest(self.request.user):  # only the files offered to the user
            info = describe(download)
            info["label"] = registers[download.resource].label
            info["built_at"] = download.built_at
            info["name"] = downloads.download_name(download)
            rows.append(info)
        ctx["downloads"] = rows
        ctx["registers"] = registers
        return ctx
