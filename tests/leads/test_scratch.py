from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import signed_in
from tests.factories import LeadFactory


def _count(client, url, **extra):
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url, **extra)
    assert r.status_code == 200, r.status_code
    return ctx.captured_queries


def test_scratch(world):
    leads = [LeadFactory(study_site=world.study_site_a) for _ in range(5)]
    for persona in ("coordinator", "site_lead", "admin"):
        m = getattr(world, persona)
        c = signed_in(m.user)
        q1 = _count(c, reverse("queue"))
        q2 = _count(c, reverse("queue"))
        print(persona, "queue first", len(q1), "second", len(q2))
        for q in q1:
            print("   ", q["sql"][:150])
        d1 = _count(c, reverse("lead_detail", kwargs={"code": leads[0].code}))
        d2 = _count(c, reverse("lead_detail", kwargs={"code": leads[0].code}))
        print(persona, "lead first", len(d1), "second", len(d2))
        for q in d2:
            print("   ", q["sql"][:150])
