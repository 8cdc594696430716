from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Reporting's rollups read leads by StudySite and day received, and the leads that moved
    # since the last refresh. The leads table is large: built CONCURRENTLY, without blocking writes.
    atomic = False

    dependencies = [
        ("leads", "0031_inbound_email_sender"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lead",
            index=models.Index(fields=["study_site", "received_at"], name="lead_cohort"),
        ),
        AddIndexConcurrently(
            model_name="lead",
            index=models.Index(fields=["last_movement_at"], name="lead_moved"),
        ),
    ]
