from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The handoff API reads an organization's handed-off leads by cursor: a small share of a
    # large table, indexed CONCURRENTLY, without blocking writes.
    atomic = False

    dependencies = [
        ("leads", "0035_api_key_scopes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("handed_off_at__isnull", False)),
                fields=["organization", "handed_off_at", "code"],
                name="lead_handoffs",
            ),
        ),
    ]
