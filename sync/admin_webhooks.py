"""Administration of webhooks and their delivery log (imported by sync.admin).

Webhooks are saved and deleted through sync.services (a new one gets its secret and starts at
the feed's head; the secret is shown once, in a message). The delivery log is read-only; its
"Send again" action calls services.resend_delivery.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.exceptions import DomainError
from sync import services
from sync.models import Webhook, WebhookDelivery


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ["client", "url", "types", "is_active"]

    def clean(self):
        data = super().clean()
        url = data.get("url")
        # As the service does: the target is checked when new, changed or switched on.
        unchanged = (
            self.instance.pk is not None
            and url == self.initial.get("url")
            and (self.initial.get("is_active") or not data.get("is_active"))
        )
        if url and not unchanged:
            try:
                services.check_webhook_url(url)
            except DomainError as exc:
                for message in (exc.errors or {}).get("url", [exc.message]):
                    self.add_error("url", message)
        client = data.get("client") or getattr(self.instance, "client", None)
        if client is not None and "types" in data:
            try:
                services.check_webhook_types(client, data.get("types") or [])
            except DomainError as exc:
                for field, errors in (exc.errors or {}).items():
                    self.add_error(field if field in self.fields else None, list(errors))
        return data


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["url", "client", "event_types", "is_active", "after_seq", "log", "updated_at"]
    list_filter = ["is_active", "client"]
    list_select_related = ["client"]
    search_fields = ["url", "client__name"]
    fields = ["client", "url", "types", "is_active", "public_id", "after_seq", "created_at"]
    readonly_fields = ["public_id", "after_seq", "created_at"]

    @admin.display(description=_("event types"))
    def event_types(self, webhook):
        return ", ".join(webhook.types) or _("all it may read")

    @admin.display(description=_("deliveries"))
    def log(self, webhook):
        url = reverse("admin:sync_webhookdelivery_changelist") + f"?webhook__id__exact={webhook.pk}"
        return format_html('<a href="{}">{}</a>', url, _("log"))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "client"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        new = obj.pk is None
        services.save_webhook(
            request.user,
            obj.client,
            obj,
            url=obj.url,
            types=list(obj.types or []),
            is_active=obj.is_active,
        )
        if new:
            self.message_user(
                request,
                _("Signing secret of this webhook (shown once, give it to the subscriber): %(s)s")
                % {"s": obj.secret},
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        services.delete_webhook(request.user, obj)

    def delete_queryset(self, request, queryset):
        for webhook in queryset:
            services.delete_webhook(request.user, webhook)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only; a delivery can be sent again."""

    list_display = [
        "public_id",
        "webhook",
        "status",
        "span",
        "event_count",
        "attempts",
        "response_status",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "webhook__client"]
    list_select_related = ["webhook"]
    search_fields = ["public_id", "webhook__url"]
    actions = ["resend"]
    readonly_fields = [
        "public_id",
        "webhook",
        "status",
        "first_seq",
        "last_seq",
        "event_count",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "response_status",
        "error",
        "delivered_at",
        "created_at",
        "payload",
    ]
    fields = readonly_fields

    @admin.display(description=_("changes"))
    def span(self, delivery):
        return f"{delivery.first_seq}–{delivery.last_seq}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again"), permissions=["view"])
    def resend(self, request, queryset):
        sent, refused = 0, []
        for delivery in queryset.select_related("webhook"):
            try:
                services.resend_delivery(request.user, delivery)
                sent += 1
            except DomainError as exc:
                refused.append(f"{delivery.public_id}: {exc.message}")
        if sent:
            self.message_user(
                request,
                ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", sent)
                % {"n": sent},
                messages.SUCCESS,
            )
        for text in refused:
            self.message_user(request, text, messages.ERROR)
