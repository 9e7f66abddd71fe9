import os
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

import sync
from core.permissions import is_city_official
from sync.feed import MAX_LIMIT
from sync.models import SyncSource
from sync.pull import Counts, Puller, PullStopped, feed_url


class Command(BaseCommand):
    help = (
        "Follow another instance's change feed and apply its creates, updates and deletes here "
        "through the same services (records stored as --source with their id there). Resumes "
        "where the last run stopped; a page and its cursor are saved together."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "url", help="The other instance's base URL (http://host:8000) or its /api/v1/changes/."
        )
        parser.add_argument(
            "--token",
            default=os.environ.get("SYNC_PULL_TOKEN", ""),
            help="Its API token (default: the SYNC_PULL_TOKEN environment variable).",
        )
        parser.add_argument(
            "--source",
            help="Name the records are stored under here (required the first time), e.g. cuc_vt.",
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            required=True,
            metavar="USERNAME",
            help="The local user the writes are made as (an active city official or administrator).",
        )
        parser.add_argument(
            "--types", help="Comma-separated resources, e.g. stations,assets (default: all)."
        )
        parser.add_argument("--limit", type=int, default=1000, help="Changes per page (1-5000).")
        parser.add_argument("--max-pages", type=int, help="Stop after this many pages.")
        parser.add_argument(
            "--follow", action="store_true", help="Keep polling for new changes until stopped."
        )
        parser.add_argument(
            "--interval", type=float, default=30.0, help="Seconds between polls with --follow."
        )
        parser.add_argument(
            "--reset", action="store_true", help="Forget the cursor and start from the beginning."
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Stop at the first refused change (its page is not applied).",
        )
        parser.add_argument("--timeout", type=float, default=30.0, help="Seconds per HTTP call.")
        parser.add_argument(
            "--retries", type=int, default=5, help="Retries of a failed HTTP call (with backoff)."
        )

    def handle(self, *args, **options):
        try:
            url = feed_url(options["url"])
        except PullStopped as exc:
            raise CommandError(exc.message) from None
        limit = options["limit"]
        if not 1 <= limit <= MAX_LIMIT:
            raise CommandError(
                _("--limit is a whole number from 1 to %(max)d.") % {"max": MAX_LIMIT}
            )
        if options["max_pages"] is not None and options["max_pages"] < 1:
            raise CommandError(_("--max-pages is at least 1."))
        types = None
        if options["types"]:
            types = [t.strip() for t in options["types"].split(",") if t.strip()]
            unknown = [t for t in types if t not in sync.resources()]
            if unknown:
                raise CommandError(
                    _("Unknown type(s): %(types)s. Known: %(known)s.")
                    % {"types": ", ".join(unknown), "known": ", ".join(sync.resources())}
                )
        if not options["token"]:
            raise CommandError(_("A token is needed: give --token or set SYNC_PULL_TOKEN."))
        user = self.acting_user(options["as_user"])
        state = self.source_state(url, options["source"], options["reset"])
        try:
            puller = Puller(
                state,
                options["token"],
                user,
                types=types,
                limit=limit,
                strict=options["strict"],
                timeout=options["timeout"],
                retries=options["retries"],
            )
        except PullStopped as exc:
            raise CommandError(exc.message) from None
        self.totals = Counts()
        self.started = time.monotonic()
        self.follow = options["follow"]
        if state.cursor:
            self.stdout.write(
                _("Following %(url)s as source “%(source)s” from cursor %(cursor)s.")
                % {"url": url, "source": state.source, "cursor": state.cursor}
            )
        else:
            self.stdout.write(
                _("Following %(url)s as source “%(source)s” from the beginning.")
                % {"url": url, "source": state.source}
            )
        try:
            self.pull(puller, options["max_pages"], options["interval"])
        except PullStopped as exc:
            self.summary(puller)
            raise CommandError(exc.message) from None
        except KeyboardInterrupt:
            self.stdout.write(_("Interrupted: every page shown above is saved."))
        self.summary(puller)

    def pull(self, puller, max_pages, interval):
        while True:
            left = None if max_pages is None else max_pages - puller.pages
            try:
                puller.run(max_pages=left, on_page=self.progress)
            except PullStopped as exc:
                if not (self.follow and exc.retryable):
                    raise
                self.stderr.write(exc.message)
            if not self.follow or (max_pages is not None and puller.pages >= max_pages):
                return
            time.sleep(interval)

    def progress(self, page):
        self.totals += page.counts
        for error in page.errors:
            self.stderr.write(self.style.WARNING(_("refused: %(error)s") % {"error": error}))
        if self.follow and not page.counts.total:
            return
        self.stdout.write(
            _("page %(n)d: %(count)d changes (%(counts)s) — %(total)d in all, cursor %(cursor)s")
            % {
                "n": page.number,
                "count": page.counts.total,
                "counts": page.counts.describe(),
                "total": self.totals.total,
                "cursor": page.cursor,
            }
        )

    def summary(self, puller):
        counts = puller.counts
        message = _("%(pages)d page(s), %(count)d changes (%(counts)s) in %(seconds).1f s.") % {
            "pages": puller.pages,
            "count": counts.total,
            "counts": counts.describe(),
            "seconds": time.monotonic() - self.started,
        }
        if counts.failed:
            self.stdout.write(self.style.WARNING(message))
            self.stdout.write(
                self.style.WARNING(
                    _("%(n)d change(s) refused here; the last: %(error)s")
                    % {"n": counts.failed, "error": puller.state.last_error}
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(message))

    def acting_user(self, username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No user “%(name)s” here.") % {"name": username})
        if not user.is_active:
            raise CommandError(_("The user “%(name)s” is not active.") % {"name": username})
        if not is_city_official(user):
            raise CommandError(
                _(
                    "The user “%(name)s” may not write every register: --as needs a city official "
                    "or an administrator."
                )
                % {"name": username}
            )
        return user

    def source_state(self, url, source, reset):
        state = SyncSource.objects.filter(url=url).first()
        source = (source or "").strip()
        if state is None:
            if not source:
                raise CommandError(
                    _("Name the source the records are stored under here: --source NAME.")
                )
            if len(source) > 64:
                raise CommandError(_("--source is at most 64 characters."))
            return SyncSource.objects.create(url=url, source=source)
        if source and source != state.source and not reset:
            raise CommandError(
                _(
                    "This feed's records are stored as source “%(stored)s”, not “%(given)s”. "
                    "Give --source %(stored)s (or --reset to start over under the new name)."
                )
                % {"stored": state.source, "given": source}
            )
        if reset:
            state.source = source or state.source
            state.cursor = ""
            state.last_error = ""
            state.save(update_fields=["source", "cursor", "last_error"])
            self.stdout.write(_("Cursor forgotten: reading the feed from the beginning."))
        return state
