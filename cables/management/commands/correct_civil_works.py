"""List, and with --apply correct, progress updates whose duct or poles were posted by an operator
other than the segment's responsible operator before every door refused them."""

from django.core.management.base import BaseCommand, CommandError

from cables import services
from core.models import User


class Command(BaseCommand):
    help = (
        "Progress updates reporting duct built or poles removed by an operator that does not "
        "report them (the segment's responsible operator does). Without --apply: list them. With "
        "--apply: post a correction of each in its reporter's name (cable and overhead kept, duct "
        "and poles dropped), recorded as the city official named by --as."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True, help="a city official")
        parser.add_argument("--apply", action="store_true", help="post the corrections")

    def handle(self, *args, username, apply, **options):
        user = User.objects.filter(username=username).first()
        if user is None or not services.is_city_official(user):
            raise CommandError(f"{username!r} is not a city official.")
        found = services.misreported_civil_works()
        for update in found:
            self.stdout.write(
                f"update {update.pk} · segment {update.segment.pk} ({update.segment.project.code}) · {update.reported_on:%d/%m/%Y}"
                f" · by {update.operator.code} (responsible: {update.segment.operator.code}) · "
                f"duct {update.duct_built_m:g} m · poles {update.poles_removed}"
            )
        if not apply:
            self.stdout.write(f"{len(found)} update(s) to correct; run again with --apply.")
            return
        corrections = services.correct_misreported_civil_works(user)
        self.stdout.write(self.style.SUCCESS(f"{len(corrections)} correction(s) posted."))
