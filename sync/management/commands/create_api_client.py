"""Create an API client (sync) from the shell, or rotate its token; the token is printed once.

    manage.py create_api_client cucvt-sync --org CUC_VT --scope stations=write --scope '*=read' \\
        --network 10.0.0.0/8 --expires 2027-12-31 --rate 600/minute
    manage.py create_api_client --rotate cucvt-sync
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import InvalidInput
from core.models import Organization
from sync import services
from sync.auth import parse_rate
from sync.models import SCOPE_LEVELS, ApiClient, validate_networks

END_OF_DAY = datetime.time(23, 59, 59)


def parse_expiry(value, now=None):
    """'2027-12-31' (valid through that day, local time) or an ISO date and time -> an aware
    datetime in the future."""
    value = value.strip()
    try:
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError:
        day = moment = None
    if day is None and moment is None:
        raise CommandError(
            _("--expires %(value)s: write a date as 2027-12-31 (or 2027-12-31T18:00).")
            % {"value": value}
        )
    if day is not None:
        moment = datetime.datetime.combine(day, END_OF_DAY)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment <= (now or timezone.now()):
        raise CommandError(_("--expires %(value)s is in the past.") % {"value": value})
    return moment


def parse_scopes(values):
    """['stations=write', '*=read'] -> {"stations": "write", "*": "read"}."""
    scopes = {}
    for value in values:
        resource, sep, level = value.partition("=")
        resource, level = resource.strip(), level.strip().lower()
        if not sep or not resource or level not in SCOPE_LEVELS:
            raise CommandError(
                _("--scope %(value)s: write it as RESOURCE=read or RESOURCE=write (* for all).")
                % {"value": value}
            )
        if scopes.get(resource, level) != level:
            raise CommandError(
                _("--scope %(resource)s is given twice, as %(a)s and %(b)s.")
                % {"resource": resource, "a": scopes[resource], "b": level}
            )
        scopes[resource] = level
    unknown = services.unknown_scope_names(scopes)
    if unknown:
        raise CommandError(
            _("--scope: unknown resource(s) %(names)s. Known: %(known)s (or * for all).")
            % {"names": ", ".join(unknown), "known": ", ".join(services.scope_names())}
        )
    return scopes


def _messages(exc):
    if isinstance(exc, InvalidInput) and isinstance(exc.errors, dict) and exc.errors:
        return "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in exc.errors.items()
        )
    return str(getattr(exc, "message", exc))


class Command(BaseCommand):
    help = (
        "Create an API client acting for an organisation, with its scopes, allowed networks, "
        "expiry and rate limit, and print its token (once: it is stored hashed). With --rotate "
        "NAME, issue a new token for an existing client and revoke its others."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="The new client's name, e.g. cucvt-sync.")
        parser.add_argument("--org", help="The code of the organisation it acts for, e.g. CUC_VT.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            metavar="RESOURCE=LEVEL",
            help="stations=write, '*=read' … (repeat it; none: reference data only).",
        )
        parser.add_argument(
            "--network",
            action="append",
            default=[],
            metavar="NETWORK",
            help="An address or network it may call from (repeat it; none: anywhere).",
        )
        parser.add_argument(
            "--expires",
            metavar="DATE",
            help="Last day it works (2027-12-31) or a date and time; with --rotate, the token's.",
        )
        parser.add_argument(
            "--rate", help="Its rate limit, e.g. 600/minute (default: the setting)."
        )
        parser.add_argument(
            "--rotate",
            metavar="NAME",
            help="Issue a new token for this existing client and revoke its other tokens.",
        )

    def handle(self, *args, **options):
        if options["rotate"]:
            return self.rotate(options)
        return self.create(options)

    def create(self, options):
        name = (options["name"] or "").strip()
        if not name:
            raise CommandError(_("Give the new client's name (or --rotate NAME)."))
        if not options["org"]:
            raise CommandError(_("Give the organisation it acts for: --org CODE."))
        organization = Organization.objects.filter(code=options["org"].strip().upper()).first()
        if organization is None:
            raise CommandError(
                _("No organisation has the code %(code)s.") % {"code": options["org"]}
            )
        scopes = parse_scopes(options["scope"])
        networks = [n.strip() for n in options["network"] if n.strip()]
        try:
            validate_networks(networks)
        except ValidationError as exc:
            raise CommandError(f"--network: {' '.join(exc.messages)}") from None
        expires_at = parse_expiry(options["expires"]) if options["expires"] else None
        rate = (options["rate"] or "").strip()
        if rate:
            try:
                parse_rate(rate)
            except ValueError:
                raise CommandError(
                    _(
                        "--rate %(rate)s: write it as a number, a slash and second, minute, hour or day."
                    )
                    % {"rate": rate}
                ) from None
        try:
            client, raw = services.create_client(
                None,
                name=name,
                organization=organization,
                scopes=scopes,
                allowed_networks=networks,
                expires_at=expires_at,
                throttle_rate=rate,
            )
        except InvalidInput as exc:
            raise CommandError(_messages(exc)) from None
        self.stdout.write(
            _("Created the API client %(name)s acting for %(org)s.")
            % {"name": client.name, "org": f"{organization.code} ({organization})"}
        )
        self.describe(client)
        self.print_token(raw)

    def rotate(self, options):
        name = options["rotate"].strip()
        if options["name"] and options["name"].strip() != name:
            raise CommandError(_("Give the client's name once: --rotate NAME."))
        extra = [f"--{o}" for o in ("org", "scope", "network", "rate") if options[o]]
        if extra:
            raise CommandError(
                _("--rotate takes only --expires (change %(options)s in the admin).")
                % {"options": ", ".join(extra)}
            )
        client = ApiClient.objects.select_related("organization").filter(name=name).first()
        if client is None:
            raise CommandError(_("No API client is called %(name)s.") % {"name": name})
        if not client.is_active:
            raise CommandError(
                _("The API client %(name)s is disabled: enable it first.") % {"name": name}
            )
        if client.expired():
            raise CommandError(
                _("The API client %(name)s expired on %(date)s: extend it first.")
                % {"name": name, "date": timezone.localtime(client.expires_at).isoformat()}
            )
        expires_at = parse_expiry(options["expires"]) if options["expires"] else None
        if expires_at and client.expires_at and expires_at > client.expires_at:
            raise CommandError(
                _("--expires is after the client's own expiry (%(date)s).")
                % {"date": timezone.localtime(client.expires_at).isoformat()}
            )
        raw = services.issue_token(None, client, expires_at=expires_at, revoke_others=True)
        self.stdout.write(
            _("Issued a new token for %(name)s; its other tokens are revoked.") % {"name": name}
        )
        self.describe(client)
        self.print_token(raw)

    def describe(self, client):
        scopes = client.scopes or {}
        self.stdout.write(
            _("Scopes: %(scopes)s")
            % {
                "scopes": ", ".join(f"{k}={v}" for k, v in sorted(scopes.items()))
                or _("none (reference data only)")
            }
        )
        self.stdout.write(
            _("Networks: %(networks)s")
            % {"networks": ", ".join(client.allowed_networks) or _("anywhere")}
        )
        self.stdout.write(
            _("Expires: %(date)s")
            % {
                "date": timezone.localtime(client.expires_at).isoformat()
                if client.expires_at
                else _("never")
            }
        )

    def print_token(self, raw):
        self.stdout.write(
            _("Token (shown once, it cannot be retrieved later; send it as Authorization: Bearer):")
        )
        self.stdout.write(raw)
