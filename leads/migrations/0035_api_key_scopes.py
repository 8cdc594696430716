import django.contrib.postgres.fields
from django.db import migrations, models

import leads.models


class Migration(migrations.Migration):
    # Keys made before scopes existed sent leads: they keep doing that and nothing more.
    dependencies = [
        ("leads", "0034_policy_study_team"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("intake", "Send leads and follow the ones it sent"),
                        (
                            "handoff",
                            "Read the leads handed off to the study team (patient details)",
                        ),
                    ],
                    max_length=20,
                ),
                default=leads.models._intake_only,
            ),
        ),
    ]
