"""English and Spanish public pages; staff pages stay English."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.utils import translation

from leads.models import Lead
from leads.public.forms import CONSENT_TEXT_VERSION, InterestForm, SearchForm
from tests.conftest import World, signed_in
from tests.leads.visitors import interest_form

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.mo"
TEMPLATES = Path(settings.BASE_DIR) / "templates" / "public"


def test_spanish_pages_render_in_spanish(world: World, visitor: Client):
    search = visitor.get("/es/studies/").content.decode()
    study = visitor.get(f"/es/studies/{world.study_site_a.study.code}/").content.decode()
    thanks = visitor.get(f"/es/studies/{world.study_site_a.study.code}/thanks/").content.decode()

    assert '<html lang="es">' in search
    assert "Busque un estudio que necesita voluntarios" in search
    assert "Código postal, ciudad o estado" in search
    assert "Quiero saber más" in study
    assert "Nombre" in study
    assert "¿Cómo puede contactarle el equipo del estudio?" in study
    assert "Gracias: recibimos su solicitud" in thanks
    assert "elegib" not in thanks.lower()
    for page in (search, study, thanks):
        assert "Find a clinical study" not in page


def test_spanish_errors_are_in_spanish(world: World, visitor: Client):
    response = visitor.post(
        f"/es/studies/{world.study_site_a.study.code}/", interest_form(first_name="", phone="12")
    )

    page = response.content.decode()
    assert "Revise el formulario" in page
    assert "Este campo es obligatorio." in page  # Django's own catalog
    assert "Escriba un número de teléfono con su código de área" in page


def test_a_spanish_submission_records_spanish_and_its_consent_text(world: World, visitor: Client):
    response = visitor.post(f"/es/studies/{world.study_site_a.study.code}/", interest_form())

    assert response["Location"] == f"/es/studies/{world.study_site_a.study.code}/thanks/"
    person = Lead.objects.get().person
    assert person.preferred_language == "es"
    assert person.consent_text_version == f"{CONSENT_TEXT_VERSION}/es"


def test_the_language_switch_links_to_the_same_page_in_the_other_language(
    world: World, visitor: Client
):
    english = visitor.get("/studies/", {"q": "melanoma"}).content.decode()
    spanish = visitor.get("/es/studies/", {"q": "melanoma"}).content.decode()

    assert re.search(
        r'<a href="/es/studies/\?q=melanoma" hreflang="es" lang="es">Español</a>', english
    )
    assert re.search(
        r'<a href="/studies/\?q=melanoma" hreflang="en" lang="en">English</a>', spanish
    )


def test_the_browser_language_does_not_change_a_pages_language(world: World):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")

    public = browser.get("/studies/").content.decode()
    sign_in = browser.get("/accounts/login/").content.decode()

    assert '<html lang="en">' in public
    assert "Find a study that is looking for volunteers" in public
    assert "This field is required" not in sign_in
    assert (
        browser.post("/accounts/login/", {}).content.decode().count("This field is required.") >= 1
    )
    assert browser.get("/en/studies/").status_code == 404


def _article(page: str, code: object) -> str:
    start = page.index(f'id="site-{code}"')
    return page[start : page.index("</article>", start)]


def test_a_spanish_page_shows_a_sites_spanish_lay_summary_where_it_wrote_one(
    world: World, visitor: Client
):
    study = world.study_site_a.study
    study.brief_summary = "The registry's summary."
    study.save()
    world.study_site_a.lay_summary = "Our words about the study."
    world.study_site_a.lay_summary_es = "Nuestras palabras sobre el estudio."
    world.study_site_a.save()

    spanish = visitor.get(f"/es/studies/{study.code}/").content.decode()
    english = visitor.get(f"/studies/{study.code}/").content.decode()

    assert 'lang="es">' + "<p>Nuestras palabras sobre el estudio.</p>" in _article(
        spanish, world.study_site_a.code
    )
    # A site without a Spanish summary shows what it has, marked as English.
    assert 'lang="en"><p>The registry&#x27;s summary.</p>' in _article(
        spanish, world.study_site_b.code
    )
    assert "Our words about the study." in _article(english, world.study_site_a.code)
    assert "Nuestras palabras" not in english


def test_the_spanish_search_shows_and_finds_the_spanish_lay_summary(world: World, visitor: Client):
    world.study_site_a.lay_summary = "A study of an immunotherapy."
    world.study_site_a.lay_summary_es = "Un estudio de una inmunoterapia para el cáncer de piel."
    world.study_site_a.save()
    title = world.study_site_a.study.brief_title

    found = visitor.get("/es/studies/", {"q": "inmunoterapia piel"}).content.decode()
    english = visitor.get("/studies/", {"q": "inmunoterapia"}).content.decode()

    assert f">{title}</a></h3>" in found
    assert "Un estudio de una inmunoterapia para el cáncer de piel." in found
    assert "A study of an immunotherapy." not in found
    # The same card in English says the site's English words.
    assert "A study of an immunotherapy." in english


def test_spanish_pages_say_the_official_title_is_only_in_english(world: World, visitor: Client):
    study = world.study_site_a.study
    study.official_title = "A Phase 2 Randomized Study of Something"
    study.save()

    spanish = visitor.get(f"/es/studies/{study.code}/").content.decode()
    search = visitor.get("/es/studies/").content.decode()
    english = visitor.get(f"/studies/{study.code}/").content.decode()

    assert "El título oficial de este estudio" in spanish
    assert "solo están en inglés" in spanish
    assert f'<h1 lang="en">{study.brief_title}</h1>' in spanish
    assert '<span lang="en">A Phase 2 Randomized Study of Something</span>' in spanish
    assert "solo están en inglés" in search
    assert f'<h3 lang="en"><a href="/es/studies/{study.code}/">' in search
    assert "only in English" not in english
    assert "A Phase 2 Randomized Study of Something" in english


def test_an_org_admin_writes_the_spanish_lay_summary_where_the_english_one_is_written(
    world: World, visitor: Client
):
    admin = signed_in(world.admin.user)
    url = f"/settings/studies/{world.study_site_a.code}/"

    form = admin.get(url).content.decode()
    saved = admin.post(
        url,
        {
            "recruitment_status": "recruiting",
            "rank": 100,
            "lay_summary": "In English.",
            "lay_summary_es": "En español.",
        },
    )

    assert 'name="lay_summary_es"' in form
    assert saved.status_code == 302
    world.study_site_a.refresh_from_db()
    assert world.study_site_a.lay_summary_es == "En español."
    page = visitor.get(f"/es/studies/{world.study_site_a.study.code}/").content.decode()
    assert "En español." in page
    refused = admin.post(
        url, {"recruitment_status": "recruiting", "rank": 100, "lay_summary_es": "x" * 5001}
    )
    assert "Shorten this to 5000 characters" in refused.content.decode()


def test_every_public_string_has_a_spanish_translation_in_the_committed_catalog():
    with CATALOG.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    in_templates = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        in_templates |= set(re.findall(r'{% translate "([^"]+)" %}', text))
        in_templates |= set(re.findall(r"{% translate '([^']+)' %}", text))
        for block in re.findall(r"{% blocktranslate[^%]*%}(.*?){% (?:plural|endblock)", text):
            in_templates.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", block))
    assert in_templates
    translated = catalog._catalog  # msgid -> msgstr of the compiled file
    for text in in_templates:
        assert translated.get(text) or translated.get((text, 0)), text  # (msgid, n): plurals
    with translation.override("es"):
        labels = [
            (str(field.label), name)
            for form in (InterestForm(sites=[]), SearchForm())
            for name, field in form.fields.items()
        ]
    with translation.override("en"):
        english = {
            name: str(field.label)
            for form in (InterestForm(sites=[]), SearchForm())
            for name, field in form.fields.items()
        }
    for spanish, name in labels:
        assert spanish != english[name], name
