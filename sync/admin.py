"""Administration of API clients (sync): only administrators (superusers or holders of the
administrator role) see it, whatever Django permissions a staff member holds.

A client is created through ``sync.services.create_client`` and edited through ``save_client``.
A raw token exists only in the answer to the request that issued it (the add form and the
"issue" and "rotate" actions render it on a page that is not cached, nothing stores it: not the
database, not the session, not a message); afterwards only its first characters are shown.
"""

import datetime
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import roles
from sync import services
from sync.auth import SCOPE_FREE
from sync.models import ApiClient, ApiToken


def is_administrator(user):
    """The Django admin already requires an active staff member; here also an administrator."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_role(roles.ADMINISTRATOR))
    )


class AdministratorsOnly:
    """Every permission of the admin is "is an administrator" (a staff member with model
    permissions but no administrator role is refused)."""

    def has_module_permission(self, request):
        return is_administrator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_add_permission(self, request, *args):
        return is_administrator(request.user)

    def has_change_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        # A client is disabled, not deleted: the history names it.
        return False


# --- Form ------------------------------------------------------------------------------------------


class NetworksField(forms.CharField):
    """Networks one per line (or separated by commas or spaces), as a list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return list(value)
        return [v for v in re.split(r"[\s,;]+", value or "") if v]


class EndOfDayDateTimeField(forms.SplitDateTimeField):
    """A date and time; a date without a time is the end of that day."""

    def compress(self, data_list):
        date_only = data_list and data_list[0] not in self.empty_values
        if date_only and (len(data_list) < 2 or data_list[1] in self.empty_values):
            data_list = [data_list[0], datetime.time(23, 59, 59)]
        return super().compress(data_list)


def scopes_help_text():
    free = sorted(n for n in SCOPE_FREE if n)
    names = [n for n in services.scope_names() if n not in SCOPE_FREE]
    return _(
        'A JSON object: per resource "read" or "write" (write includes read); "*" stands for '
        'every resource, e.g. {"stations": "write", "*": "read"}. Resources (the URL\'s first '
        "segment after /api/v1/): %(names)s. Open to every client without a scope: %(free)s."
    ) % {"names": ", ".join(names), "free": ", ".join(free)}


class ApiClientForm(forms.ModelForm):
    allowed_networks = NetworksField(
        label=_("allowed networks"),
        required=False,
        help_text=_(
            "Addresses or networks it may call from, one per line, e.g. 203.0.113.0/24 or "
            "2001:db8::/32 (empty: anywhere)."
        ),
    )

    class Meta:
        model = ApiClient
        fields = [
            "name",
            "organization",
            "is_active",
            "scopes",
            "allowed_networks",
            "expires_at",
            "throttle_rate",
        ]
        widgets = {"scopes": forms.Textarea(attrs={"rows": 5, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].help_text = scopes_help_text()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if self.instance._state.adding and services.name_in_use(name):
            raise forms.ValidationError(_("An API client or a user with this name exists."))
        return name

    def clean_scopes(self):
        scopes = self.cleaned_data.get("scopes")
        if scopes in (None, ""):
            return {}
        if isinstance(scopes, dict):
            unknown = services.unknown_scope_names(scopes)
            if unknown:
                raise forms.ValidationError(
                    _("Unknown resource(s): %(names)s.") % {"names": ", ".join(unknown)}
                )
        return scopes  # its values are checked by the model (validate_scopes)


# --- Tokens ----------------------------------------------------------------------------------------


class ApiTokenInline(AdministratorsOnly, admin.TabularInline):
    """The client's tokens, read-only: their first characters and dates, never the token itself
    (which is not stored) nor its digest."""

    model = ApiToken
    extra = 0
    can_delete = False
    fields = ["shown_prefix", "state", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    verbose_name_plural = _("tokens (each shown once, when it was issued)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("starts with"))
    def shown_prefix(self, token):
        return f"{token.prefix}…"

    @admin.display(description=_("state"))
    def state(self, token):
        return token_state(token)


def token_state(token, now=None):
    if token.revoked_at is not None:
        return _("revoked")
    if token.expired(now):
        return _("expired")
    return _("valid")


class ExpiryFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [
            ("expired", _("Expired")),
            ("valid", _("Not expired")),
            ("never", _("Never expires")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "valid":
            return queryset.exclude(expires_at__lte=now)
        if self.value() == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


# --- Clients ---------------------------------------------------------------------------------------


@admin.register(ApiClient)
class ApiClientAdmin(AdministratorsOnly, admin.ModelAdmin):
    form = ApiClientForm
    list_display = [
        "name",
        "organization",
        "is_active",
        "expires_at",
        "scopes_summary",
        "last_used_at",
        "last_used_ip",
    ]
    list_filter = [
        "is_active",
        ExpiryFilter,
        "organization__kind",
        ("organization", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "organization__code", "organization__name", "organization__short_name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    actions = ["issue_new_token", "rotate_tokens", "revoke_all_tokens"]
    tokens_template = "admin/sync/apiclient/tokens.html"
    confirm_template = "admin/sync/apiclient/confirm_action.html"

    add_fieldsets = [
        (None, {"fields": ["name", "organization", "is_active"]}),
        (_("Access"), {"fields": ["scopes", "allowed_networks", "expires_at", "throttle_rate"]}),
    ]
    change_fieldsets = [
        *add_fieldsets,
        (
            _("Use"),
            {
                "fields": [
                    "last_used_at",
                    "last_used_ip",
                    "service_account",
                    "created_by",
                    "created_at",
                    "updated_at",
                    "public_id",
                ]
            },
        ),
    ]
    change_readonly_fields = [
        "last_used_at",
        "last_used_ip",
        "service_account",
        "created_by",
        "created_at",
        "updated_at",
        "public_id",
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "expires_at":
            kwargs["form_class"] = EndOfDayDateTimeField
            kwargs["help_text"] = _("Empty: never. A date without a time: the end of that day.")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.change_fieldsets if obj is not None else self.add_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.change_readonly_fields if obj is not None else []

    def get_inlines(self, request, obj):
        return [ApiTokenInline] if obj is not None else []

    @admin.display(description=_("scopes"))
    def scopes_summary(self, client):
        scopes = client.scopes or {}
        if not scopes:
            return _("none")
        names = sorted(scopes, key=lambda n: (n != "*", n))
        return ", ".join(f"{n}: {scopes[n]}" for n in names)

    @admin.display(description=_("service account"))
    def service_account(self, client):
        return client.user.username

    # Saving goes through the services: a new client gets its service account and a first token.

    def save_model(self, request, obj, form, change):
        if change:
            services.save_client(request.user, obj)
            return
        client, raw = services.create_client(
            request.user,
            name=obj.name,
            organization=obj.organization,
            scopes=obj.scopes,
            allowed_networks=obj.allowed_networks,
            expires_at=obj.expires_at,
            throttle_rate=obj.throttle_rate,
        )
        if not obj.is_active:
            client.is_active = False
            services.save_client(request.user, client)
        for field in ApiClient._meta.concrete_fields:
            setattr(obj, field.attname, getattr(client, field.attname))
        obj._state.adding = False
        obj._state.db = client._state.db
        request._api_tokens_shown = [(client, raw)]

    def response_add(self, request, obj, post_url_continue=None):
        shown = getattr(request, "_api_tokens_shown", None)
        if shown:
            return self.tokens_response(request, shown, _("API client created"))
        return super().response_add(request, obj, post_url_continue)

    def tokens_response(self, request, shown, title):
        """The page that shows new tokens, once: never cached, stored nowhere."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "shown": shown,
            "changelist_url": reverse("admin:sync_apiclient_changelist"),
        }
        response = TemplateResponse(request, self.tokens_template, context)
        add_never_cache_headers(response)
        return response

    def confirm_response(self, request, queryset, action, question):
        """Ask before an action that cuts clients off (answered by posting it again)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Are you sure?"),
            "question": question,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.confirm_template, context)

    def _usable(self, request, queryset):
        """The selected clients a token can be issued for (active and not expired)."""
        usable, refused = [], []
        for client in queryset.select_related("organization"):
            (usable if client.is_active and not client.expired() else refused).append(client)
        if refused:
            self.message_user(
                request,
                _("No token issued for %(names)s: disabled or expired (change the client first).")
                % {"names": ", ".join(c.name for c in refused)},
                messages.WARNING,
            )
        return usable

    @admin.action(description=_("Issue a new token (the others stay valid)"))
    def issue_new_token(self, request, queryset):
        shown = [
            (c, services.issue_token(request.user, c)) for c in self._usable(request, queryset)
        ]
        if shown:
            return self.tokens_response(request, shown, _("New tokens"))
        return None

    @admin.action(description=_("Rotate: issue a new token and revoke the others"))
    def rotate_tokens(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return self.confirm_response(
                request,
                queryset,
                "rotate_tokens",
                _(
                    "Each selected client gets a new token, and its other tokens stop working "
                    "at once: its systems must switch to the new token."
                ),
            )
        shown = [
            (c, services.issue_token(request.user, c, revoke_others=True))
            for c in self._usable(request, queryset)
        ]
        if shown:
            return self.tokens_response(request, shown, _("Tokens rotated"))
        return None

    @admin.action(description=_("Revoke all tokens"))
    def revoke_all_tokens(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return self.confirm_response(
                request,
                queryset,
                "revoke_all_tokens",
                _("Every token of the selected clients stops working at once."),
            )
        count = sum(services.revoke_tokens(request.user, c) for c in queryset)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
        return None


from sync import admin_webhooks  # noqa: E402,F401  (webhooks and their delivery log)
