"""Searching recruiting studies by words, condition and place, ranked and paged."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from leads.public.catalog import PAGE_SIZE
from tests.leads.visitors import recruiting
from trialsnest.studies.models import RecruitmentStatus


def _titles(response) -> list[str]:
    return re.findall(
        r'<h3><a href="/studies/[0-9a-f-]+/">([^<]+)</a></h3>', response.content.decode()
    )


def test_it_lists_only_studies_recruiting_somewhere(db, visitor: Client):
    recruiting(study_brief_title="Open melanoma study")
    recruiting(
        study_brief_title="Paused melanoma study", recruitment_status=RecruitmentStatus.PAUSED
    )
    recruiting(
        study_brief_title="Closed melanoma study", recruitment_status=RecruitmentStatus.CLOSED
    )

    response = visitor.get("/studies/")

    assert response.status_code == 200
    assert _titles(response) == ["Open melanoma study"]


def test_it_finds_studies_by_words(db, visitor: Client):
    recruiting(
        study_brief_title="Immunotherapy for advanced melanoma", study_conditions=["Melanoma"]
    )
    recruiting(study_brief_title="Insulin pump trial", study_conditions=["Type 1 Diabetes"])

    response = visitor.get("/studies/", {"q": "immunotherapy"})

    assert _titles(response) == ["Immunotherapy for advanced melanoma"]
    # websearch syntax: quoted phrases and "or" work as people type them.
    either = visitor.get("/studies/", {"q": "insulin or immunotherapy"})
    assert sorted(_titles(either)) == ["Immunotherapy for advanced melanoma", "Insulin pump trial"]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_summary(db, visitor: Client):
    recruiting(
        study_brief_title="A study of sleep",
        study_conditions=["Insomnia"],
        study_brief_summary="Participants with asthma may also join.",
    )
    recruiting(study_brief_title="Asthma inhaler study", study_conditions=["Asthma"])

    response = visitor.get("/studies/", {"q": "asthma"})

    assert _titles(response) == ["Asthma inhaler study", "A study of sleep"]


def test_it_finds_studies_by_condition_in_any_case(db, visitor: Client):
    recruiting(study_brief_title="Heart study", study_conditions=["Heart Failure", "Hypertension"])
    recruiting(study_brief_title="Skin study", study_conditions=["Melanoma"])

    assert _titles(visitor.get("/studies/", {"condition": "heart failure"})) == ["Heart study"]
    assert _titles(visitor.get("/studies/", {"condition": "hypertens"})) == ["Heart study"]
    assert _titles(visitor.get("/studies/", {"condition": "asthma"})) == []


def test_the_condition_box_suggests_the_conditions_of_recruiting_studies(db, visitor: Client):
    recruiting(study_conditions=["Heart Failure"])
    recruiting(study_conditions=["Gout"], recruitment_status=RecruitmentStatus.CLOSED)

    page = visitor.get("/studies/").content.decode()

    assert '<option value="Heart Failure">' in page
    assert "Gout" not in page


@pytest.mark.parametrize(
    "place", ["60601", "606", "60601-1234", "chicago", "IL", "Illinois", "Chicago, IL"]
)
def test_it_finds_studies_by_zip_code_city_or_state(db, visitor: Client, place):
    recruiting(
        study_brief_title="Chicago study", city="Chicago", state="Illinois", postal_code="60601"
    )
    recruiting(
        study_brief_title="Denver study", city="Denver", state="Colorado", postal_code="80218"
    )

    assert _titles(visitor.get("/studies/", {"location": place})) == ["Chicago study"]


def test_a_place_lists_only_the_studys_sites_there(db, visitor: Client):
    chicago = recruiting(name="Lakeside Chicago", city="Chicago", state="Illinois")
    recruiting(name="Lakeside Denver", city="Denver", state="Colorado", study=chicago.study)

    everywhere = visitor.get("/studies/").content.decode()
    in_denver = visitor.get("/studies/", {"location": "Denver, CO"}).content.decode()

    assert "Lakeside Chicago" in everywhere
    assert "Lakeside Denver" in everywhere
    assert "Lakeside Denver" in in_denver
    assert "Lakeside Chicago" not in in_denver


def test_words_condition_and_place_combine(db, visitor: Client):
    recruiting(
        study_brief_title="Melanoma vaccine",
        study_conditions=["Melanoma"],
        city="Denver",
        state="Colorado",
    )
    recruiting(
        study_brief_title="Melanoma vaccine two", study_conditions=["Melanoma"], city="Chicago"
    )
    recruiting(
        study_brief_title="Asthma vaccine",
        study_conditions=["Asthma"],
        city="Denver",
        state="Colorado",
    )

    response = visitor.get(
        "/studies/", {"q": "vaccine", "condition": "melanoma", "location": "denver"}
    )

    assert _titles(response) == ["Melanoma vaccine"]


def test_results_come_in_pages_that_keep_the_search(db, visitor: Client):
    for n in range(PAGE_SIZE + 2):
        recruiting(study_brief_title=f"Gout study {n:02d}", study_conditions=["Gout"])

    first = visitor.get("/studies/", {"condition": "gout"})
    second = visitor.get("/studies/", {"condition": "gout", "page": "2"})
    beyond = visitor.get("/studies/", {"condition": "gout", "page": "99"})

    assert len(_titles(first)) == PAGE_SIZE
    assert _titles(second) == ["Gout study 10", "Gout study 11"]
    assert _titles(beyond) == _titles(second)
    assert 'href="?condition=gout&amp;page=2" rel="next"' in first.content.decode()
    assert "12 recruiting studies" in first.content.decode()


def test_a_two_digit_zip_code_is_explained_next_to_the_box(db, visitor: Client):
    response = visitor.get("/studies/", {"location": "60"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_location_error"' in page
    assert "at least the first 3 digits" in page
    assert 'aria-invalid="true"' in page


def test_odd_input_is_a_message_never_an_error(db, visitor: Client):
    recruiting()
    for query in ({"q": "melanoma\x00"}, {"q": "!!! & | :*"}, {"q": "x" * 500}, {"page": "-1"}):
        assert visitor.get("/studies/", query).status_code == 200


def test_the_search_page_costs_the_same_queries_for_one_result_or_a_full_page(
    db, visitor: Client, django_assert_num_queries
):
    first = recruiting(study_conditions=["Gout"])
    recruiting(study=first.study)
    visitor.get("/studies/")  # sessions, content types and the like, once
    with django_assert_num_queries(4) as few:  # count, page, its sites, suggestions
        visitor.get("/studies/", {"condition": "gout"})
    for _ in range(PAGE_SIZE + 3):
        study_site = recruiting(study_conditions=["Gout"])
        recruiting(study=study_site.study)

    with django_assert_num_queries(len(few.captured_queries)):
        visitor.get("/studies/", {"condition": "gout", "q": "study"})


# Search that finds what the cards show ------------------------------------------------------


def _card(response, title: str) -> str:
    """The result card of the study with this title."""
    page: str = response.content.decode()
    start = page.index(f">{title}</a></h3>")
    return page[start : page.index("</li>\n", start)]


def test_every_word_on_a_result_card_finds_it(db, visitor: Client):
    recruiting(
        study_brief_title="Radiation for mucosal melanoma",
        study_conditions=["Mucosal Melanoma of the Head and Neck"],
        study_interventions=["Pembrolizumab", "Hypofractionated radiation therapy"],
        study_keywords=["checkpoint inhibitor"],
        lay_summary="A study of a standard immunotherapy with short-course radiation.",
    )
    recruiting(study_brief_title="Insulin pump trial", study_conditions=["Type 1 Diabetes"])
    words = ["immunotherapy", "pembrolizumab", "hypofractionated", "checkpoint", "mucosal",
             "neck", "short-course", "radiation"]  # fmt: skip

    card = _card(visitor.get("/studies/"), "Radiation for mucosal melanoma")
    assert "Treatments studied:" in card
    assert "Keywords:" in card
    for word in words:
        assert word in card.lower(), word  # the card shows it...
        found = visitor.get("/studies/", {"q": word})
        assert _titles(found) == ["Radiation for mucosal melanoma"], word  # ...and it finds it


def test_a_sites_lay_summary_finds_the_study_and_the_card_shows_that_sites_words(
    db, visitor: Client
):
    denver = recruiting(
        name="Lakeside Denver", lay_summary="Supervised resistance exercise, twice a week."
    )
    recruiting(
        name="Harbor Seattle", study=denver.study, lay_summary="Walking outdoors with a coach."
    )

    walking = visitor.get("/studies/", {"q": "walking"})
    exercise = visitor.get("/studies/", {"q": "resistance exercise"})

    assert _titles(walking) == [denver.study.brief_title]
    assert "Walking outdoors with a coach." in _card(walking, denver.study.brief_title)
    assert "Supervised resistance" not in _card(walking, denver.study.brief_title)
    assert "Supervised resistance" in _card(exercise, denver.study.brief_title)


def test_a_site_that_is_not_recruiting_lends_its_words_to_no_one(db, visitor: Client):
    open_site = recruiting(study_brief_title="Gout study", lay_summary="Diet advice.")
    recruiting(
        study=open_site.study,
        lay_summary="Acupuncture sessions.",
        recruitment_status=RecruitmentStatus.PAUSED,
    )

    assert _titles(visitor.get("/studies/", {"q": "acupuncture"})) == []
    assert _titles(visitor.get("/studies/", {"q": "diet"})) == ["Gout study"]


@pytest.mark.parametrize("typed", ["melanom", "Melan", "ocular melanom", "radiatio", "pembroli"])
def test_the_start_of_the_last_word_finds_studies_as_it_is_typed(db, visitor: Client, typed):
    recruiting(
        study_brief_title="Ocular melanoma and radiation",
        study_conditions=["Ocular Melanoma"],
        study_interventions=["Pembrolizumab"],
    )
    recruiting(study_brief_title="Asthma inhaler study", study_conditions=["Asthma"])

    assert _titles(visitor.get("/studies/", {"q": typed})) == ["Ocular melanoma and radiation"]


def test_a_quoted_or_excluded_last_word_is_no_prefix(db, visitor: Client):
    recruiting(study_brief_title="Melanoma study", study_conditions=["Melanoma"])
    recruiting(study_brief_title="Asthma study", study_conditions=["Asthma"])

    assert _titles(visitor.get("/studies/", {"q": '"melanom"'})) == []
    assert _titles(visitor.get("/studies/", {"q": "study -melanoma"})) == ["Asthma study"]
    assert _titles(visitor.get("/studies/", {"q": '"melanoma study"'})) == ["Melanoma study"]


def test_a_title_that_is_what_was_typed_comes_first_then_whole_words_then_prefixes(
    db, visitor: Client
):
    recruiting(
        study_brief_title="Melanoma vaccine for melanoma",
        study_conditions=["Melanoma", "Uveal Melanoma"],
        study_keywords=["melanoma"],
        study_brief_summary="Melanoma, melanoma, melanoma.",
    )
    recruiting(study_brief_title="Melanoma", study_conditions=["Skin cancer"])
    recruiting(study_brief_title="Art therapy for anxiety", study_conditions=["Anxiety"])
    recruiting(
        study_brief_title="Arthritis study of arthritis",
        study_conditions=["Arthritis", "Rheumatoid Arthritis"],
    )

    melanoma = _titles(visitor.get("/studies/", {"q": "melanoma"}))
    art = _titles(visitor.get("/studies/", {"q": "art"}))

    assert melanoma == ["Melanoma", "Melanoma vaccine for melanoma"]
    assert art == ["Art therapy for anxiety", "Arthritis study of arthritis"]


@pytest.mark.parametrize(
    "typed",
    [
        "melanoma'", "'melanoma'", '"melanoma', "melanoma\"", "(melanoma)", "melanoma)",
        "melanoma:*", "melanoma:*:*", "melanoma & ", "& melanoma", "melanoma |", "| melanoma",
        "!melanoma!", "melanoma <-> !", "melanoma\\", "\\'melanoma", "melanoma ''", "'melanoma''",
        "melanoma or", "or melanoma", "melanoma or or", "melanoma:", "melanoma::", "(melanom",
        "melanoma\t\n", "MELANOMA",
    ],
)  # fmt: skip
def test_hostile_input_around_a_word_still_finds_it(db, visitor: Client, typed):
    recruiting(study_brief_title="Melanoma study", study_conditions=["Melanoma"])

    response = visitor.get("/studies/", {"q": typed})

    assert response.status_code == 200
    assert _titles(response) == ["Melanoma study"], typed


@pytest.mark.parametrize(
    "typed",
    ["'", "''", '"', '""', "&", "|", "!", ":*", "()", "(", ")", "<->", "<2>", "\\", "-", "--",
     "or", "!!()&|:*'\"\\", "'); drop table studies_study; --", "a" * 200, "é" * 200,
     " ".join(["melanoma"] * 40), "-melanoma", "\x00\x00", "‽ « » — …"],
)  # fmt: skip
def test_hostile_input_alone_is_never_an_error(db, visitor: Client, typed):
    recruiting(study_brief_title="Melanoma study", study_conditions=["Melanoma"])

    response = visitor.get("/studies/", {"q": typed})

    page = response.content.decode()
    assert response.status_code == 200
    # Results, none, or (too long, a NUL) a message next to the box.
    assert 'class="results"' in page or "No recruiting study" in page or 'id="id_q_error"' in page


def test_a_study_changed_by_the_registry_is_found_by_its_new_words(db, visitor: Client):
    study_site = recruiting(study_brief_title="Gout study", study_interventions=["Colchicine"])

    study = study_site.study
    study.interventions = ["Allopurinol"]
    study.save()  # an operator's import_ctgov saves it the same way

    assert _titles(visitor.get("/studies/", {"q": "allopurinol"})) == ["Gout study"]
    assert _titles(visitor.get("/studies/", {"q": "colchicine"})) == []
