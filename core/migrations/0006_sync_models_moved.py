from django.db import migrations


# The sync models moved to the sync app (sync/migrations/0001_initial.py), their tables unchanged:
# this removes them from core's state only; no table is dropped.
class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_value_ranges"),
    ]

    state_operations = [
        migrations.RemoveField(
            model_name="apiclient",
            name="created_by",
        ),
        migrations.RemoveField(
            model_name="apiclient",
            name="organization",
        ),
        migrations.RemoveField(
            model_name="apiclient",
            name="user",
        ),
        migrations.RemoveField(
            model_name="apitoken",
            name="client",
        ),
        migrations.RemoveField(
            model_name="webhook",
            name="client",
        ),
        migrations.DeleteModel(
            name="Change",
        ),
        migrations.DeleteModel(
            name="ChangeFeedState",
        ),
        migrations.DeleteModel(
            name="IdempotencyRecord",
        ),
        migrations.DeleteModel(
            name="RegisterDownload",
        ),
        migrations.DeleteModel(
            name="SyncSource",
        ),
        migrations.RemoveField(
            model_name="webhookdelivery",
            name="webhook",
        ),
        migrations.DeleteModel(
            name="ApiToken",
        ),
        migrations.DeleteModel(
            name="ApiClient",
        ),
        migrations.DeleteModel(
            name="Webhook",
        ),
        migrations.DeleteModel(
            name="WebhookDelivery",
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
