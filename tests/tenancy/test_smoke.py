from __future__ import annotations

from tests.conftest import signed_in


def test_each_role_lands_on_its_own_page(world):
    assert signed_in(world.admin.user).get("/").url == "/settings/"
    assert signed_in(world.site_lead.user).get("/").url == "/dashboard/"
    assert signed_in(world.coordinator.user).get("/").url == "/queue/"
    assert signed_in(world.sponsor_viewer).get("/").url == "/reports/"
