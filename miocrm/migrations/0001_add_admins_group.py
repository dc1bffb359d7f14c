"""Create the group whose members are admins (see miocrm.access)."""

from django.db import migrations

ADMIN_GROUP = "Admins"  # miocrm.access.ADMIN_GROUP, frozen as of this migration


def add_admins_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=ADMIN_GROUP)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(add_admins_group, migrations.RunPython.noop),
    ]
