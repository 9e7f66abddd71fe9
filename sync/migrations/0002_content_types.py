from django.db import migrations

MODELS = [
    "apiclient",
    "apitoken",
    "change",
    "changefeedstate",
    "idempotencyrecord",
    "webhook",
    "webhookdelivery",
    "registerdownload",
    "syncsource",
]


def forwards(apps, schema_editor):
    """A database migrated before the move has these models' content types (and so their
    permissions, as granted to groups, and the admin's log) under "core": move them to "sync"
    rather than leave them stale beside new ones."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(
        ContentType.objects.using(db)
        .filter(app_label="sync", model__in=MODELS)
        .values_list("model", flat=True)
    )
    ContentType.objects.using(db).filter(app_label="core", model__in=MODELS).exclude(
        model__in=taken
    ).update(app_label="sync")


def backwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label="sync", model__in=MODELS).update(
        app_label="core"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
