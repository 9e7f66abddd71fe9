"""The report run's workflow contract (core.testing.workflows): approving, submitting, computing
again and retrying a run behave alike through the run's page and the API (an official's moves)."""

from core.testing.workflows import WorkflowContract
from reports import services
from reports.models import ReportRun
from reports.tests import factories
from reports.workflows import REPORT_RUN

S = ReportRun.Status


class TestReportRunContract(WorkflowContract):
    """Only officials see a run before it is submitted (reports.selectors): anyone else, whom the
    workflow refuses, is answered 404 by both doors (the run is not shown to exist), not 403. An
    agency that sees its submitted run is refused 403, but no move starts from “submitted”."""

    workflow = REPORT_RUN
    api_refused_status = 404

    def html_refused(self, response):
        return response.status_code == 404

    def person(self, name):
        people = self.__dict__.setdefault("_people", {})
        if name not in people:
            people[name] = self.fixture("role_user")(name)
        return people[name]

    def make_case(self, state, action, refused=False):
        official = self.person("city_official")
        report = factories.definition(self.person("administrator"))
        run = factories.requested(official, report)  # queued, the worker not asked
        if state == S.RUNNING:
            REPORT_RUN.perform(None, run, "start")
        elif state == S.FAILED:
            services.fail_run(run.pk, "The indicator failed.")
        elif state != S.QUEUED:
            run = services.compute(run.pk)
            assert run.status == S.READY, run.error
            if state in (S.APPROVED, S.SUBMITTED):
                run = services.approve(official, run)
            if state == S.SUBMITTED:
                services.submit(official, run)
        user = self.person("operator_viettel" if refused else "city_official")
        return ReportRun.objects.get(pk=run.pk), user

    def html(self, client, case, action, version, inputs):
        url = f"/reports/runs/{case.public_id}/{action}/"
        return client.post(url, {**inputs, "version": version}, follow=True)

    def api(self, client, case, action, version, inputs):
        url = f"/api/v1/report-runs/{case.public_id}/{action}/"
        return client.post(url, {**inputs, "version": version}, format="json")
