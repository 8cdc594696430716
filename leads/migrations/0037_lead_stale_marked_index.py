from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # "What changed since the last review" counts the leads newly marked stale: the marked ones
    # only, indexed CONCURRENTLY, without blocking writes.
    atomic = False

    dependencies = [
        ("leads", "0036_lead_handoffs_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("stale_marked_at__isnull", False)),
                fields=["organization", "stale_marked_at"],
                name="lead_stale_marked",
            ),
        ),
    ]
