import core.text
import django.contrib.postgres.fields
import django.db.models.deletion
import sync.models
import uuid
from django.conf import settings
from django.db import migrations, models


# The sync models, moved from the core app: their tables (core_…, created by core's 0003_sync and
# altered by its 0005_value_ranges) are already there, so this only adds them to this app's state.
class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("core", "0006_sync_models_moved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name="ChangeFeedState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("pruned_through", models.BigIntegerField(default=0)),
                ("pruned_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "db_table": "core_changefeedstate",
            },
        ),
        migrations.CreateModel(
            name="RegisterDownload",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("resource", models.CharField(max_length=32, verbose_name="register")),
                (
                    "format",
                    models.CharField(
                        choices=[("geojson", "GeoJSON"), ("csv", "CSV")],
                        max_length=8,
                        verbose_name="format",
                    ),
                ),
                ("file", models.FileField(upload_to="downloads/%Y/%m/", verbose_name="file")),
                ("built_at", models.DateTimeField(db_index=True, verbose_name="built at")),
                ("rows", models.PositiveIntegerField(verbose_name="records")),
                ("size", models.PositiveBigIntegerField(verbose_name="size (bytes)")),
                ("sha256", models.CharField(max_length=64)),
                (
                    "cursor_seq",
                    models.BigIntegerField(
                        default=0, help_text="The change feed position the file includes."
                    ),
                ),
            ],
            options={
                "verbose_name": "register download",
                "verbose_name_plural": "register downloads",
                "db_table": "core_registerdownload",
                "ordering": ["-built_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="SyncSource",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=500, unique=True, verbose_name="feed URL")),
                (
                    "source",
                    models.CharField(
                        help_text="The records it sends are stored with this source and their id there.",
                        max_length=64,
                        validators=[core.text.validate_identifier],
                        verbose_name="source name",
                    ),
                ),
                ("cursor", models.TextField(blank=True, verbose_name="cursor")),
                (
                    "applied",
                    models.PositiveBigIntegerField(default=0, verbose_name="changes applied"),
                ),
                (
                    "skipped",
                    models.PositiveBigIntegerField(default=0, verbose_name="changes skipped"),
                ),
                (
                    "failed",
                    models.PositiveBigIntegerField(default=0, verbose_name="changes refused"),
                ),
                (
                    "last_pulled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last pulled"),
                ),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
            ],
            options={
                "verbose_name": "sync source",
                "verbose_name_plural": "sync sources",
                "db_table": "core_syncsource",
            },
        ),
        migrations.CreateModel(
            name="ApiClient",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True, db_index=True, verbose_name="created at"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_index=True, verbose_name="updated at"),
                ),
                (
                    "public_id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
                    ),
                ),
                ("name", models.CharField(max_length=128, unique=True, verbose_name="name")),
                (
                    "scopes",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text='Per resource, "read" or "write" (write includes read); "*" stands for every resource, e.g. {"stations": "write", "*": "read"}.',
                        validators=[sync.models.validate_scopes],
                        verbose_name="scopes",
                    ),
                ),
                (
                    "allowed_networks",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=64),
                        blank=True,
                        default=list,
                        help_text="Addresses or networks it may call from (empty: anywhere).",
                        size=None,
                        validators=[sync.models.validate_networks],
                        verbose_name="allowed networks",
                    ),
                ),
                (
                    "expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="expires at"),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "throttle_rate",
                    models.CharField(
                        blank=True,
                        help_text="Requests per second, minute, hour or day, e.g. 600/minute (empty: default).",
                        max_length=32,
                        verbose_name="rate limit",
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="last used"
                    ),
                ),
                (
                    "last_used_ip",
                    models.GenericIPAddressField(
                        blank=True, editable=False, null=True, verbose_name="last address"
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="api_clients",
                        to="core.organization",
                        verbose_name="acts for",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="api_client_profile",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="service account",
                    ),
                ),
            ],
            options={
                "verbose_name": "API client",
                "verbose_name_plural": "API clients",
                "db_table": "core_apiclient",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "prefix",
                    models.CharField(editable=False, max_length=16, verbose_name="starts with"),
                ),
                ("digest", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="expires at"),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="last used"
                    ),
                ),
                (
                    "revoked_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="revoked at"),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tokens",
                        to="sync.apiclient",
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "verbose_name_plural": "API tokens",
                "db_table": "core_apitoken",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Change",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.BigIntegerField(editable=False, null=True)),
                ("txid", models.BigIntegerField(editable=False)),
                ("resource", models.CharField(max_length=32)),
                ("object_id", models.BigIntegerField()),
                ("public_id", models.UUIDField()),
                ("action", models.CharField(max_length=8)),
                ("version", models.PositiveIntegerField()),
                ("org_id", models.BigIntegerField(null=True)),
                ("data", models.JSONField(null=True)),
                ("changed_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "change",
                "verbose_name_plural": "changes",
                "db_table": "core_change",
                "indexes": [
                    models.Index(
                        condition=models.Q(("seq__isnull", True)),
                        fields=["txid"],
                        name="change_unsequenced_idx",
                    ),
                    models.Index(fields=["resource", "object_id", "id"], name="change_object_idx"),
                    models.Index(fields=["org_id", "seq"], name="change_org_seq_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("seq__isnull", False)),
                        fields=("seq",),
                        name="change_seq_uniq",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="IdempotencyRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("principal", models.CharField(max_length=80)),
                ("key", models.CharField(max_length=255)),
                ("method", models.CharField(max_length=8)),
                ("path", models.CharField(max_length=500)),
                ("fingerprint", models.CharField(max_length=64)),
                ("status_code", models.PositiveSmallIntegerField(null=True)),
                ("content_type", models.CharField(blank=True, max_length=100)),
                ("headers", models.JSONField(default=dict)),
                ("body", models.BinaryField(null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                "db_table": "core_idempotencyrecord",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("principal", "key"), name="idempotency_key_uniq"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Webhook",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True, db_index=True, verbose_name="created at"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_index=True, verbose_name="updated at"),
                ),
                (
                    "public_id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
                    ),
                ),
                ("url", models.URLField(max_length=500, verbose_name="URL")),
                (
                    "types",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=32),
                        blank=True,
                        default=list,
                        help_text="Resources whose changes are sent (empty: every resource the client may read).",
                        size=None,
                        verbose_name="event types",
                    ),
                ),
                (
                    "secret",
                    models.CharField(editable=False, max_length=128, verbose_name="signing secret"),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "after_seq",
                    models.BigIntegerField(
                        default=0,
                        help_text="The last change already queued.",
                        verbose_name="sent up to change",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhooks",
                        to="sync.apiclient",
                        verbose_name="API client",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook",
                "verbose_name_plural": "webhooks",
                "db_table": "core_webhook",
                "ordering": ["client", "url"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True, db_index=True, verbose_name="created at"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_index=True, verbose_name="updated at"),
                ),
                (
                    "public_id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
                    ),
                ),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField()),
                ("event_count", models.PositiveIntegerField(verbose_name="events")),
                ("payload", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                (
                    "last_attempt_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last attempt"),
                ),
                (
                    "next_attempt_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="next attempt"),
                ),
                (
                    "response_status",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="answer"),
                ),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "delivered_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="delivered at"),
                ),
                (
                    "webhook",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="sync.webhook",
                        verbose_name="webhook",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook delivery",
                "verbose_name_plural": "webhook deliveries",
                "db_table": "core_webhookdelivery",
                "ordering": ["-id"],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
