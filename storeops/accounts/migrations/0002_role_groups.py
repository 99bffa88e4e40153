"""Create the seven role groups of SOP STORE-04. Their permissions are synced from
``storeops.accounts.roles`` after every migrate (see AccountsConfig.ready)."""

from django.db import migrations

ROLES = ["owner", "operations", "marketing", "customer_service", "warehouse", "finance", "analyst"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
