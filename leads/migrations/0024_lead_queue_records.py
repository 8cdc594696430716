from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The leads table is large: the index is built CONCURRENTLY, without blocking writes.
    atomic = False

    dependencies = [
        ("leads", "0023_activity_kinds_records_and_messages"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("status", "records_pending")),
                fields=["organization", "attention_at", "id"],
                name="lead_queue_records",
            ),
        ),
    ]
