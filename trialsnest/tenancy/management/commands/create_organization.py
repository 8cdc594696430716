"""A new organization and its first admin, for a site's IT person on a fresh install:

    python manage.py create_organization "Lakeside Research Network" admin@lakeside.org

The admin gets the invitation e-mail (through the worker) with a link to choose a password,
built on SITE_URL; from there they add sites, studies and the team in Settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from trialsnest.audit.services import Actor, audit_record
from trialsnest.tenancy.invitations import membership_invite
from trialsnest.tenancy.models import Organization, Role


class Command(BaseCommand):
    help = "Create an organization and invite its first admin by e-mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the organization's name, as members will see it")
        parser.add_argument("admin_email", help="the first org admin's e-mail address")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        name, email = options["name"].strip(), options["admin_email"].strip().lower()
        if not name:
            raise CommandError("Give the organization a name.")
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"{email!r} is not an e-mail address.") from error
        if Organization.objects.filter(name__iexact=name).exists():
            raise CommandError(f"An organization named {name!r} exists already.")
        if not settings.SITE_URL:
            self.stderr.write("SITE_URL is not set: the invitation's link will be relative.")
        with transaction.atomic():
            # A real install starts with the second factor required of every member.
            organization = Organization.objects.create(name=name, two_factor_required=True)
            audit_record(action="organization.created", organization=organization, obj=organization)
            try:
                membership = membership_invite(
                    organization=organization,
                    email=email,
                    role=Role.ORG_ADMIN,
                    actor=Actor(user=None),
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    base_url=settings.SITE_URL,
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            if membership is None:  # nothing is kept: the sponsor viewer's notice goes too
                raise CommandError(f"{email} belongs to a sponsor viewer; choose another admin.")
        self.stdout.write(
            self.style.SUCCESS(f"{name} is created; {email} is invited as its org admin.")
        )
