"""Document and application types the city starts with (administrators edit them afterwards)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from stations import reference

    reference.load(
        apps.get_model("stations", "DocumentType"), apps.get_model("stations", "ApplicationType")
    )


class Migration(migrations.Migration):
    dependencies = [("stations", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
