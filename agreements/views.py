"""HTML pages of the agreements app: the list of coordination programmes, an agreement's overview
(parties, period, progress per content area, overdue tasks first, the task board, the timeline of
updates, meetings), its XLSX status and printable page, a task's page with its updates, and the
forms for agreements, content areas, tasks, meetings and renewal.

Views parse the request, call a selector or a service and render. Every write goes through
``agreements.services``; a domain error becomes a form error or a message, never a 500. Selectors
are scoped: an organisation that is not a party sees nothing (another agreement is a 404).
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements import selectors, services
from agreements.filters import AgreementFilter
from agreements.forms import (
    AgreementForm,
    AreaForm,
    DecisionFormSet,
    MeetingForm,
    RenewForm,
    TaskForm,
    UpdateForm,
    party_formset,
    task_initial,
)
from agreements.models import Agreement, ProgressUpdate, Task, UpdateEvidence
from agreements.workflows import AGREEMENT, AGREEMENT_TASK
from core import indicators
from core.exceptions import DomainError, InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.exports import xlsx_response
from core.web import ListPage, ServiceFormView, history_rows

# --- Shared helpers ---------------------------------------------------------------------------------


def _agreement_or_404(user, public_id):
    agreement = selectors.agreements(user).filter(public_id=public_id).first()
    if agreement is None:
        raise Http404
    return agreement


def _task_or_404(user, public_id):
    task = selectors.tasks(user).filter(public_id=public_id).first()
    if task is None:
        raise Http404
    return task


def _posted_version(request):
    """The version of the record the page showed (None when the form sent none)."""
    version = request.POST.get("version", "").strip()
    if not version:
        return None
    if not version.isdigit():
        raise InvalidInput(message=_("The form was incomplete. Reload the page and try again."))
    return int(version)


def _require_official(user):
    if not services.is_agreement_official(user):
        raise DjangoPermissionDenied


def org_name(org):
    return (org.short_name or org.name) if org else ""


def with_successor(org):
    """The organisation as signed, and today's successor when it has one."""
    if org is None:
        return ""
    if org.successor_id:
        return _("%(org)s (now: %(successor)s)") % {
            "org": org_name(org),
            "successor": org_name(org.successor),
        }
    return org_name(org)


def successor_of(agreement):
    return Agreement.objects.filter(predecessor=agreement).only("pk", "public_id", "code").first()


def _shift_years(text, old_start, old_end, new_start, new_end):
    """ "…2020–2025…" becomes "…2026–2030…" (the end year first, so 2020 → 2025 → 2030 cannot
    chain)."""
    marker = "\x00"
    text = text.replace(str(old_end), marker)
    text = text.replace(str(old_start), str(new_start))
    return text.replace(marker, str(new_end))


RENEWAL_YEARS = 5


def renewal_initial(agreement):
    """The next five years from the day after this period ends; the years in the code and the
    title moved along."""
    start = agreement.period_end + timedelta(days=1)
    years = RENEWAL_YEARS
    try:
        end = start.replace(year=start.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28) - timedelta(days=1)
    old = (agreement.period_start.year, agreement.period_end.year)
    new = (start.year, end.year)
    code = _shift_years(agreement.code, *old, *new)
    title = _shift_years(agreement.title, *old, *new)
    if code == agreement.code:
        code = f"{agreement.code}-{start.year}"
    return {"code": code[:50], "title": title, "period_start": start, "period_end": end}


# --- The list --------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    (gettext_lazy("Code"), "code"),
    (gettext_lazy("Title"), "title"),
    (gettext_lazy("Status"), "get_status_display"),
    (gettext_lazy("Signed on"), "signed_on"),
    (gettext_lazy("Period from"), "period_start"),
    (gettext_lazy("Period to"), "period_end"),
    (
        gettext_lazy("Parties"),
        lambda a: [with_successor(p.organization) for p in a.parties.all()],
    ),
    (gettext_lazy("Renews"), lambda a: a.predecessor.code if a.predecessor else ""),
]


class AgreementListView(ListPage):
    template_name = "agreements/agreement_list.html"
    filterset_class = AgreementFilter
    export_name = "agreements"
    export_title = gettext_lazy("Agreements")

    def get_queryset(self):
        return selectors.agreements(self.request.user).order_by("-period_start", "code", "id")

    def export_columns(self, queryset):
        return EXPORT_COLUMNS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object_list=list(ctx["object_list"]),
            can_create=services.is_agreement_official(self.request.user),
            today=timezone.localdate(),
        )
        return ctx


# --- Agreement forms --------------------------------------------------------------------------------


def agreement_form(request, public_id=None):
    """Create an agreement, or change one (with its parties)."""
    agreement = _agreement_or_404(request.user, public_id) if public_id else None
    _require_official(request.user)
    if request.method == "POST":
        form = AgreementForm(request.POST, request.FILES, instance=agreement)
        formset = party_formset(data=request.POST)
        if form.is_valid() and formset.is_valid():
            data, document = form.service_data()
            try:
                saved = services.save_agreement(
                    request.user,
                    agreement,
                    parties=formset.parties(),
                    document=document,
                    **data,
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except ServicePermissionDenied as exc:
                raise DjangoPermissionDenied(str(exc.message)) from exc
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Agreement %(a)s saved.") % {"a": saved.code})
                return redirect("agreements:agreement-detail", public_id=saved.public_id)
        if agreement is not None:
            agreement.refresh_from_db()
    else:
        form = AgreementForm(instance=agreement)
        formset = party_formset(agreement)
    return render(
        request,
        "agreements/agreement_form.html",
        {"form": form, "formset": formset, "agreement": agreement},
    )


# --- The overview ----------------------------------------------------------------------------------


def corrected_ids(updates):
    """Ids of updates that a later one corrects (one query)."""
    return set(
        ProgressUpdate.objects.filter(corrects__in=[u.pk for u in updates]).values_list(
            "corrects_id", flat=True
        )
    )


def indicator_labels():
    return {i.key: i for i in indicators.all_indicators()}


def with_indicators(areas):
    """Each task of the overview gets ``indicator_def``: its registered indicator (or None)."""
    known = indicator_labels()
    for area in areas:
        for task in area.task_list:
            task.indicator_def = known.get(task.indicator) if task.indicator else None
    return areas


def render_agreement(request, agreement, status=200, renew_form=None):
    user = request.user
    data = selectors.overview(agreement)
    official = services.is_agreement_official(user)
    successor = successor_of(agreement)
    corrected = corrected_ids(data["timeline"])
    for update in data["timeline"]:
        update.is_corrected = update.pk in corrected
    board = [
        {"status": value, "label": label, "tasks": data["board"][value]}
        for value, label in Task.Status.choices
    ]
    can_renew = official and successor is None and agreement.status != Agreement.Status.DRAFT
    can_bring_into_force = "in_force" in AGREEMENT.allowed_actions(user, agreement)
    context = {
        "agreement": agreement,
        "parties": list(agreement.parties.all()),
        "successor": successor,
        "areas": with_indicators(data["areas"]),
        "overdue": data["overdue"],
        "board": board,
        "timeline": data["timeline"],
        "meetings": data["meetings"],
        "official": official,
        "can_renew": can_renew,
        "can_bring_into_force": can_bring_into_force,
        "renew_form": (renew_form or RenewForm(initial=renewal_initial(agreement)))
        if can_renew
        else None,
        "history": history_rows(agreement, Agreement),
        "today": timezone.localdate(),
    }
    return render(request, "agreements/agreement_detail.html", context, status=status)


def agreement_detail(request, public_id):
    return render_agreement(request, _agreement_or_404(request.user, public_id))


def agreement_renew(request, public_id):
    """Create the draft successor (same parties, content areas and open tasks)."""
    if request.method != "POST":
        return redirect("agreements:agreement-detail", public_id=public_id)
    agreement = _agreement_or_404(request.user, public_id)
    _require_official(request.user)
    form = RenewForm(request.POST)
    if form.is_valid():
        try:
            successor = services.renew(request.user, agreement, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except ServicePermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("agreements:agreement-detail", public_id=agreement.public_id)
        else:
            messages.success(
                request,
                _(
                    "Draft successor %(code)s created: check its tasks and dates, then bring it into force."
                )
                % {"code": successor.code},
            )
            return redirect("agreements:agreement-detail", public_id=successor.public_id)
    return render_agreement(request, agreement, status=400, renew_form=form)


def agreement_in_force(request, public_id):
    if request.method != "POST":
        return redirect("agreements:agreement-detail", public_id=public_id)
    agreement = _agreement_or_404(request.user, public_id)
    _require_official(request.user)
    try:
        version = _posted_version(request)
        services.bring_into_force(request.user, agreement, expected_version=version)
    except InvalidInput as exc:
        for messages_ in (exc.errors or {None: [exc.message]}).values():
            for message in messages_:
                messages.error(request, str(message))
    except ServicePermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The agreement is in force."))
    return redirect("agreements:agreement-detail", public_id=agreement.public_id)


def agreement_document(request, public_id):
    """The signed PDF of an agreement the user may see (never by a public media URL)."""
    agreement = _agreement_or_404(request.user, public_id)
    if not agreement.document:
        raise Http404
    return FileResponse(
        agreement.document.open("rb"),
        content_type="application/pdf",
        filename=f"{agreement.code}.pdf",
    )


# --- Export and print ---------------------------------------------------------------------------------


def status_columns(progress, area_percent):
    """Columns of the agreement's status sheet: a row per task, with its area and progress."""
    known = indicator_labels()

    def prog(key):
        return lambda t: progress.get(t.pk, {}).get(key)

    def indicator_label(t):
        if not t.indicator:
            return ""
        found = known.get(t.indicator)
        return f"{found.label} ({found.unit_label})" if found else t.indicator

    return [
        (gettext_lazy("Area"), "area.number"),
        (gettext_lazy("Content area"), "area.title"),
        (gettext_lazy("Area progress (%)"), lambda t: area_percent.get(t.area_id)),
        (gettext_lazy("Task"), "title"),
        (gettext_lazy("Responsible party"), lambda t: with_successor(t.responsible)),
        (
            gettext_lazy("Supporting parties"),
            lambda t: [org_name(o) for o in t.supporting.all()],
        ),
        (gettext_lazy("Due date"), "due_date"),
        (gettext_lazy("Recurrence"), "get_recurrence_display"),
        (gettext_lazy("Status"), "get_status_display"),
        (gettext_lazy("Progress (%)"), prog("percent")),
        (gettext_lazy("Indicator"), indicator_label),
        (gettext_lazy("Baseline"), "baseline_value"),
        (gettext_lazy("Value"), prog("value")),
        (gettext_lazy("Target"), "target_value"),
        (gettext_lazy("Target date"), "target_date"),
    ]


def agreement_export(request, public_id):
    """The agreement's status as XLSX: one sheet, a row per task, progress computed as on the
    overview."""
    agreement = _agreement_or_404(request.user, public_id)
    data = selectors.overview(agreement)
    progress = {t.pk: t.progress for area in data["areas"] for t in area.task_list}
    area_percent = {area.pk: area.percent for area in data["areas"]}
    tasks = (
        Task.objects.filter(area__agreement=agreement)
        .select_related("area", "responsible", "responsible__successor")
        .prefetch_related("supporting")
        .order_by("area__number", "due_date", "id")
    )
    return xlsx_response(
        tasks,
        status_columns(progress, area_percent),
        f"agreement-{agreement.code}",
        title=agreement.code,
    )


def agreement_print(request, public_id):
    """A printable page of the agreement's status (no navigation; print CSS)."""
    agreement = _agreement_or_404(request.user, public_id)
    data = selectors.overview(agreement)
    return render(
        request,
        "agreements/agreement_print.html",
        {
            "agreement": agreement,
            "parties": list(agreement.parties.all()),
            "areas": with_indicators(data["areas"]),
            "overdue": data["overdue"],
            "meetings": data["meetings"],
            "today": timezone.localdate(),
        },
    )


# --- Content areas and tasks ----------------------------------------------------------------------


class AgreementScopedFormView(ServiceFormView):
    """A form page under an agreement, for officials."""

    def dispatch(self, request, *args, **kwargs):
        self.agreement = _agreement_or_404(request.user, kwargs["public_id"])
        _require_official(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "agreement": self.agreement}

    def success_url_for(self, obj):
        return reverse("agreements:agreement-detail", args=[self.agreement.public_id])


class AreaCreateView(AgreementScopedFormView):
    template_name = "agreements/area_form.html"
    form_class = AreaForm

    def get_initial(self):
        last = self.agreement.areas.order_by("-number").values_list("number", flat=True).first()
        return {"number": (last or 0) + 1}

    def perform(self, form):
        area = services.save_area(self.request.user, self.agreement, **form.cleaned_data)
        messages.success(self.request, _("Content area %(a)s added.") % {"a": area})
        return area

    def success_url_for(self, obj):
        return super().success_url_for(obj) + "#areas"


class TaskCreateView(AgreementScopedFormView):
    template_name = "agreements/task_form.html"
    form_class = TaskForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agreement": self.agreement}

    def get_initial(self):
        area = self.request.GET.get("area")
        if area and area.isdigit():
            found = self.agreement.areas.filter(number=int(area)).first()
            if found:
                return {"area": found.pk}
        return {}

    def perform(self, form):
        supporting, data = form.service_data()
        task = services.save_task(self.request.user, supporting=supporting, **data)
        messages.success(self.request, _("Task “%(t)s” added.") % {"t": task.title})
        return task

    def success_url_for(self, obj):
        return reverse("agreements:task-detail", args=[obj.public_id])


class TaskEditView(TaskCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.task = _task_or_404(request.user, kwargs["public_id"])
        self.agreement = self.task.area.agreement
        _require_official(request.user)
        return ServiceFormView.dispatch(self, request, *args, **kwargs)

    def get_initial(self):
        return task_initial(self.task)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "task": self.task}

    def perform(self, form):
        supporting, data = form.service_data()
        task = services.save_task(self.request.user, self.task, supporting=supporting, **data)
        messages.success(self.request, _("Task “%(t)s” saved.") % {"t": task.title})
        return task


# --- A task's page --------------------------------------------------------------------------------


def party_acting_as(user, agreement):
    """The party an official's update is for by default: their own organisation, or the party
    their organisation succeeded (the Sở KH&CN for the Sở TT&TT); None when neither."""
    if not user.organization_id:
        return None
    for party in agreement.parties.select_related("organization"):
        org, seen = party.organization, set()
        while org is not None and org.pk not in seen:
            if org.pk == user.organization_id:
                return party.organization_id
            seen.add(org.pk)
            org = org.successor if org.successor_id else None
    return None


def render_task(request, task, status=200, form=None):
    user = request.user
    agreement = task.area.agreement
    official = services.is_agreement_official(user)
    updates = list(
        task.updates.select_related("organization", "author", "corrects")
        .prefetch_related("evidence")
        .order_by("-reported_on", "-id")
    )
    corrected = corrected_ids(updates)
    for update in updates:
        update.is_corrected = update.pk in corrected
    can_update = services.can_update(user, task)
    allowed = AGREEMENT_TASK.allowed_actions(user, task)
    moves = [(value, label) for value, label in Task.Status.choices if value in allowed]
    indicator = indicators.get(task.indicator) if indicators.exists(task.indicator) else None
    if form is None and can_update:
        form = UpdateForm(
            task=task,
            official=official,
            initial={
                "reported_on": timezone.localdate(),
                "organization": party_acting_as(user, agreement),
            },
        )
    context = {
        "task": task,
        "agreement": agreement,
        "area": task.area,
        "supporting": list(task.supporting.all()),
        "progress": services.task_progress(task),
        "indicator": indicator,
        "updates": updates,
        "decisions": list(task.decisions.select_related("meeting").order_by("-meeting__held_on")),
        "official": official,
        "moves": moves,
        "form": form if can_update else None,
        "history": history_rows(task, Task, hidden=("reminded_on",)),
        "today": timezone.localdate(),
    }
    return render(request, "agreements/task_detail.html", context, status=status)


def task_detail(request, public_id):
    return render_task(request, _task_or_404(request.user, public_id))


def update_create(request, public_id):
    if request.method != "POST":
        return redirect("agreements:task-detail", public_id=public_id)
    task = _task_or_404(request.user, public_id)
    if not services.can_update(request.user, task):
        raise DjangoPermissionDenied
    official = services.is_agreement_official(request.user)
    form = UpdateForm(request.POST, request.FILES, task=task, official=official)
    if form.is_valid():
        try:
            services.post_update(request.user, task, **form.service_data())
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except ServicePermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Update posted."))
            return redirect(reverse("agreements:task-detail", args=[task.public_id]) + "#updates")
    return render_task(request, task, status=400, form=form)


def task_status(request, public_id):
    if request.method != "POST":
        return redirect("agreements:task-detail", public_id=public_id)
    task = _task_or_404(request.user, public_id)
    status = request.POST.get("status", "")
    if status not in Task.Status.values:
        messages.error(request, _("Unknown status."))
        return redirect("agreements:task-detail", public_id=task.public_id)
    try:
        version = _posted_version(request)
        task = services.set_task_status(request.user, task, status, expected_version=version)
    except ServicePermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The task is now “%(s)s”.") % {"s": task.get_status_display()})
    return redirect("agreements:task-detail", public_id=task.public_id)


def evidence_file(request, pk):
    """An evidence file of an update the user may see."""
    item = get_object_or_404(UpdateEvidence, pk=pk)
    if not selectors.updates(request.user).filter(pk=item.update_id).exists():
        raise Http404
    return FileResponse(
        item.file.open("rb"), content_type=item.content_type, filename=item.original_name
    )


# --- Meetings ----------------------------------------------------------------------------------------


def meeting_create(request, public_id):
    agreement = _agreement_or_404(request.user, public_id)
    _require_official(request.user)
    kwargs = {"agreement": agreement}
    if request.method == "POST":
        form = MeetingForm(request.POST, **kwargs)
        formset = DecisionFormSet(request.POST, prefix="decisions", form_kwargs=kwargs)
        if form.is_valid() and formset.is_valid():
            try:
                meeting = services.record_meeting(
                    request.user,
                    agreement,
                    held_on=form.cleaned_data["held_on"],
                    title=form.cleaned_data["title"],
                    present=list(form.cleaned_data["present"]),
                    minutes=form.cleaned_data["minutes"],
                    decisions=formset.decisions(),
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except ServicePermissionDenied as exc:
                raise DjangoPermissionDenied(str(exc.message)) from exc
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Meeting “%(m)s” recorded.") % {"m": meeting.title})
                return redirect(
                    reverse("agreements:agreement-detail", args=[agreement.public_id]) + "#meetings"
                )
    else:
        form = MeetingForm(
            initial={"held_on": timezone.localdate(), "present": services.party_ids(agreement)},
            **kwargs,
        )
        formset = DecisionFormSet(prefix="decisions", form_kwargs=kwargs)
    return render(
        request,
        "agreements/meeting_form.html",
        {"form": form, "formset": formset, "agreement": agreement},
    )
