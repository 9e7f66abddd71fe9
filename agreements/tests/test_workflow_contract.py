"""The agreements' workflow contracts (core.testing.workflows): a task's moves (its responsible
party's staff) and bringing an agreement into force (an official) behave alike through the page
and the API. A task's page form and API step ask for the status to reach (the action's target)."""

from datetime import timedelta

from django.utils import timezone

from agreements import services
from agreements.models import Agreement, Task
from agreements.tests import factories
from agreements.workflows import AGREEMENT, AGREEMENT_TASK
from core.testing.workflows import WorkflowContract

S = Task.Status
A = Agreement.Status
PARTIES = ("SO_KHCN_HN", "VIETTEL", "MOBIFONE")


def around_today():
    today = timezone.localdate()
    return {"period": (today - timedelta(days=400), today + timedelta(days=800))}


class _Agreements(WorkflowContract):
    def person(self, name):
        people = self.__dict__.setdefault("_people", {})
        if name not in people:
            people[name] = self.fixture("role_user")(name)
        return people[name]


class TestAgreementTaskContract(_Agreements):
    workflow = AGREEMENT_TASK

    def make_case(self, state, action, refused=False):
        official = self.person("city_official")
        agreement = factories.agreement(
            official,
            PARTIES,
            signed_on=timezone.localdate() - timedelta(days=400),
            **around_today(),
        )
        area = factories.area(official, agreement)
        task = factories.task(
            official,
            area,
            "VIETTEL",
            ("MOBIFONE",),
            due_date=timezone.localdate() + timedelta(days=365),
        )
        if state == S.OVERDUE:  # the reminders' move
            AGREEMENT_TASK.perform(None, task, "mark_overdue")
        elif state != S.NOT_STARTED:
            services.set_task_status(official, task, state)
        # Viettel leads the task; MobiFone supports it: it sees the task and reports, not moves.
        user = self.person("operator_mobifone" if refused else "operator_viettel")
        return Task.objects.get(pk=task.pk), user

    def html(self, client, case, action, version, inputs):
        data = {"status": self.workflow.actions[action].target, **inputs, "version": version}
        return client.post(f"/agreements/tasks/{case.public_id}/status/", data, follow=True)

    def api(self, client, case, action, version, inputs):
        body = {"status": self.workflow.actions[action].target, **inputs, "version": version}
        url = f"/api/v1/agreement-tasks/{case.public_id}/status/"
        return client.post(url, body, format="json")


class TestAgreementContract(_Agreements):
    workflow = AGREEMENT
    makeable_states = [A.DRAFT, A.IN_FORCE, A.RENEWED]

    def make_case(self, state, action, refused=False):
        official = self.person("city_official")
        agreement = factories.agreement(
            official,
            PARTIES,
            in_force=state != A.DRAFT,
            signed_on=timezone.localdate() - timedelta(days=30),
            **around_today(),
        )
        if state == A.RENEWED:
            AGREEMENT.perform(official, agreement, "renewed")
        # Viettel is a party: it sees the agreement; only officials bring it into force.
        user = self.person("operator_viettel" if refused else "city_official")
        return Agreement.objects.get(pk=agreement.pk), user

    def html(self, client, case, action, version, inputs):
        url = f"/agreements/{case.public_id}/{action.replace('_', '-')}/"
        return client.post(url, {**inputs, "version": version}, follow=True)

    def api(self, client, case, action, version, inputs):
        url = f"/api/v1/agreements/{case.public_id}/{action.replace('_', '-')}/"
        return client.post(url, {**inputs, "version": version}, format="json")
