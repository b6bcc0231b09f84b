"""Remembered post cards (parro/fragments.py): a card served from the cache is the card a
fresh render shows, for this reader and this browser session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from parro import clock, fragments
from parro.extensions import db

from .factories import (
    give_consent,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
)
from .feed_helpers import fresh, reader, sign_in
from .helpers import csrf_token, text_of

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def school(app):
    fragments.clear()
    clock.set_now(NOW)
    group = make_group("Groep 3")
    sem, lisa = make_student(group, first_name="Sem"), make_student(group, first_name="Lisa")
    teacher = make_teacher(group, name="Anna de Boer")
    post = make_post(group, author=teacher, title="Uitje", body="We gaan naar het bos.",
                     photos=2, tagged=[sem], publish_at=NOW - timedelta(minutes=30))
    world = {"group": group, "sem": sem, "teacher": teacher, "post": post,
             "sem_mum": make_guardian(child=sem, name="Eva"),
             "sem_dad": make_guardian(child=sem, name="Piet"),
             "lisa_mum": make_guardian(child=lisa, name="Ilse")}
    db.session.commit()
    return world


def card(response, post) -> str:
    html = response.get_data(as_text=True)
    return re.search(rf'<article [^>]*id="post-{post.id}".*?</article>', html, re.S).group(0)


def test_each_session_gets_its_own_csrf_token_and_return_path(app, make_client, school):
    # Sem's mother and father see the same card: the second gets it from the cache.
    mum, other = make_client(), make_client()
    sign_in(mum, school["sem_mum"])
    sign_in(other, school["sem_dad"])
    for client, path in ((mum, "/groepen/"), (other, f"/groepen/{school['group'].id}"),
                         (mum, f"/groepen/{school['group'].id}")):
        page = client.get(path)
        like_form = re.search(r'<form method="post" action="[^"]*vind-ik-leuk".*?</form>',
                              card(page, school["post"]), re.S).group(0)
        assert f'value="{csrf_token(page.get_data(as_text=True))}"' in like_form
        assert f'name="next" value="{path}?"' in like_form or f'name="next" value="{path}"' \
            in like_form
        assert "\x00" not in page.get_data(as_text=True)
    # The token in the card is the one the like is accepted with.
    page = mum.get("/groepen/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', card(page, school["post"])).group(1)
    liked = mum.post(f"/groepen/bericht/{school['post'].id}/vind-ik-leuk",
                     data={"csrf_token": token, "next": "/groepen/"})
    assert liked.status_code == 303


def test_what_changes_shows_at_once(app, make_client, client, school):
    post = school["post"]
    # The group's feed: once a consent topic exists, /groepen/ asks the privacy questions first.
    feed = f"/groepen/{school['group'].id}"
    sign_in(client, school["lisa_mum"])
    first = card(client.get(feed), post)
    assert "Nieuw" in first and first.count("<img") == 0  # Sem is in both: no consent
    assert "vandaag om 09:30" in first  # static/js/app.js: "30 minuten geleden"
    again = card(client.get(feed), post)
    assert "Nieuw" not in again  # read now

    # Sem's parents say yes to photos: Lisa's mother sees both photos on her next visit.
    give_consent(school["sem"])
    fresh()
    assert card(client.get(feed), post).count("<img") == 2

    # Another parent likes it.
    other = make_client()
    sign_in(other, school["sem_mum"])
    page = other.get(feed)
    other.post(f"/groepen/bericht/{post.id}/vind-ik-leuk",
               data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert 'class="like-count">1<' in card(client.get(feed), post)

    # The author edits the text; time passes.
    fresh()
    post = db.session.get(type(post), post.id)
    post.body, post.edited_at = "We gaan naar het strand.", NOW
    db.session.commit()
    clock.set_now(NOW + timedelta(hours=2))
    now_card = card(client.get(feed), post)
    text = text_of(client.get(feed))
    assert "strand" in now_card and "bos" not in now_card and "bewerkt" in now_card
    assert "vandaag om 09:30" in text


def test_without_the_cache_the_page_is_the_same(app, client, school):
    sign_in(client, school["sem_mum"])
    client.get("/groepen/")  # reads the post: "Nieuw" is gone from here on

    def page():
        html = client.get("/groepen/").get_data(as_text=True)
        return re.sub(r'value="[^"]{40,}"|"X-CSRFToken": "[^"]+"', "TOKEN", html)

    cached = page()
    assert page() == cached  # from the cache now
    app.extensions["parro.fragments"].entries = None  # FRAGMENT_CACHE = 0
    assert page() == cached
