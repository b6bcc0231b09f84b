"""The counts in the navigation: new posts per group, unread messages, open activities.

What a user notices: the numbers next to "Groepen", "Gesprekken" and "Activiteiten"
on every page (also without JavaScript), the numbers on the feed's group tabs,
that reading on one device clears them on another, and that the poll asking
for them is cheap.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from parro import clock
from parro.extensions import db
from parro.models import Answer, Booking, Response

from .factories import (
    make_admin,
    make_conference,
    make_group,
    make_guardian,
    make_invitation,
    make_kindgesprek,
    make_message,
    make_post,
    make_student,
    make_teacher,
    make_volunteer,
)
from .helpers import count_queries, login_as, text_of

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
HX = {"HX-Request": "true"}


def later(minutes=1):
    clock.set_now(clock.now() + timedelta(minutes=minutes))


@pytest.fixture
def w(app):
    """Sem in groep 3 and Lisa in groep 5, both children of Eva; Noah in groep 7."""
    db.session().expire_on_commit = False
    clock.set_now(MONDAY)
    g3, g5, g7 = (make_group(f"Groep {n}", grade=n) for n in (3, 5, 7))
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    lisa = make_student(g5, first_name="Lisa", last_name="Jansen")
    noah = make_student(g7, first_name="Noah", last_name="Dekker")
    ns = SimpleNamespace(
        g3=g3, g5=g5, g7=g7, sem=sem, lisa=lisa, noah=noah,
        eva=make_guardian(children=[sem, lisa], name="Eva Jansen", email="eva@example.org"),
        anna=make_teacher(g3, name="Anna de Boer", email="anna@example.org"),
        bram=make_teacher(g3, name="Bram Visser", email="bram@example.org"),
        ilse=make_teacher(groups=[g5, g7], name="Ilse Vermeulen", email="ilse@example.org"),
        admin=make_admin(email="admin@example.org"),
    )
    db.session.commit()
    return ns


def nav_count(html: str, key: str) -> str:
    """What the navigation says for one count: its number and its words, or ''."""
    region = rf'<span id="nav-count-{key}" aria-live="polite">(.*?)</span></a>'
    match = re.search(region, html, re.S)
    assert match, f"no count region for {key}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def poll_url(html: str) -> str:
    """Where the page's poller asks for the counts."""
    url = re.search(r'<span id="nav-poll" hidden data-hx-get="([^"]+)"', html).group(1)
    return url.replace("&amp;", "&")


def page(client, url="/help") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def signed_in(make_client, user):
    client = make_client()
    login_as(client, user)
    return client


# -- new posts --------------------------------------------------------------------------


def test_a_guardian_sees_new_posts_of_their_childrens_groups_only(make_client, w):
    make_post(w.g3, author=w.anna, title="Gym")
    make_post(w.g3, author=w.anna, title="Knutselen")
    make_post(w.g5, author=w.ilse, title="Toets")
    make_post(w.g7, author=w.ilse, title="Niet van Eva")  # a group she cannot see
    make_post(w.g3, author=w.anna, title="Later", publish_at=MONDAY + timedelta(hours=2))
    db.session.commit()
    later()
    eva = signed_in(make_client, w.eva)
    html = page(eva)
    assert nav_count(html, "feed") == "3 nieuwe berichten"
    assert '<span class="nav-count">3</span><span class="sr-only"> nieuwe berichten</span>' in html

    # The group tabs count per child's group.
    html = page(eva, f"/groepen/{w.g5.id}")
    tabs = text_of_chips(html)
    assert "Sem · Groep 3 2 nieuwe berichten" in tabs
    assert "Lisa · Groep 5" in tabs and "Groep 5 1" not in tabs  # opened now: nothing new
    assert nav_count(html, "feed") == "2 nieuwe berichten"

    # The scheduled post counts once it is published.
    clock.set_now(MONDAY + timedelta(hours=3))
    assert nav_count(page(eva), "feed") == "3 nieuwe berichten"
    assert nav_count(page(eva, "/groepen/"), "feed") == ""  # "Alles" shows every group
    assert nav_count(page(eva), "feed") == ""


def text_of_chips(html: str) -> str:
    match = re.search(r'<nav class="chips".*?</nav>', html, re.S)
    assert match, "no group tabs"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def test_reading_on_one_device_clears_the_count_on_the_other(make_client, w):
    make_post(w.g3, author=w.anna, title="Gym")
    make_post(w.g5, author=w.ilse, title="Toets")
    db.session.commit()
    later()
    phone, laptop = signed_in(make_client, w.eva), signed_in(make_client, w.eva)
    html = page(laptop)
    assert nav_count(html, "feed") == "2 nieuwe berichten"
    poll = poll_url(html)
    assert laptop.get(poll, headers=HX).status_code == 204

    page(phone, f"/groepen/{w.g3.id}")  # Eva reads groep 3 on her phone
    response = laptop.get(poll, headers=HX)
    assert response.status_code == 200
    answer = response.get_data(as_text=True)
    # Only the count that changed is sent (a screen reader hears only that one) …
    assert '<span id="nav-count-feed" data-hx-swap-oob="innerHTML">' in answer
    assert "nav-count-chat" not in answer and "nav-count-activities" not in answer
    assert '<span class="nav-count">1</span><span class="sr-only"> nieuw bericht</span>' in answer
    # … with the poller that now knows the new number.
    new_poll = re.search(r'<span id="nav-poll" hidden data-hx-get="([^"]+)"[^>]*hx-swap-oob="true"',
                         answer)
    assert new_poll and "feed=1" in new_poll.group(1)
    # Without JavaScript: the next page shows it.
    assert nav_count(page(laptop), "feed") == "1 nieuw bericht"


def test_a_teacher_counts_colleagues_posts_in_their_groups_but_not_their_own(make_client, w):
    make_post(w.g3, author=w.anna, title="Van Anna zelf")
    make_post(w.g3, author=w.bram, title="Van Bram")
    make_post(w.g5, author=w.ilse, title="Andere groep")
    make_post(w.g3, author=w.bram, title="Gepland", publish_at=MONDAY + timedelta(days=1))
    db.session.commit()
    later()
    anna = signed_in(make_client, w.anna)
    html = page(anna)
    assert nav_count(html, "feed") == "1 nieuw bericht"
    # The admin sees every group: Anna's, Bram's and Ilse's posts, not the scheduled one.
    admin = signed_in(make_client, w.admin)
    assert nav_count(page(admin), "feed") == "3 nieuwe berichten"
    html = page(admin, "/groepen/")
    assert nav_count(html, "feed") == ""
    assert "nieuw" not in text_of_chips(html)

    # A post in two groups is new once, and opening either group reads it.
    make_post(author=w.admin, groups=[w.g3, w.g5], title="Voor twee groepen")
    db.session.commit()
    later()
    ilse = signed_in(make_client, w.ilse)
    assert nav_count(page(ilse), "feed") == "1 nieuw bericht"  # her own post is not new
    assert nav_count(page(anna), "feed") == "2 nieuwe berichten"
    assert nav_count(page(anna, f"/groepen/{w.g3.id}"), "feed") == ""
    html = page(ilse, f"/groepen/{w.g5.id}")
    assert nav_count(html, "feed") == ""
    assert "nieuw" not in text_of_chips(html)


def test_old_posts_no_longer_count_as_new(make_client, w):
    make_post(w.g3, author=w.anna, title="Lang geleden")
    db.session.commit()
    clock.set_now(MONDAY + timedelta(days=31))
    assert nav_count(page(signed_in(make_client, w.eva)), "feed") == ""


# -- unread messages and open activities ---------------------------------------------------


def test_unread_messages_are_counted_next_to_gesprekken(make_client, w):
    make_message(make_kindgesprek(w.sem), w.anna, "Hallo Eva")
    db.session.commit()
    assert nav_count(page(signed_in(make_client, w.eva)), "chat") == "1 ongelezen bericht"


def test_a_guardian_counts_what_waits_for_their_answer(make_client, w):
    conference = make_conference(w.g3)
    invitation = make_invitation(w.g5)
    make_volunteer(w.g3)  # optional: not counted
    make_invitation(w.g7)  # not her child's group
    make_invitation(w.g3, deadline=MONDAY - timedelta(days=1))  # too late
    db.session.commit()
    eva = signed_in(make_client, w.eva)
    assert nav_count(page(eva), "activities") == "2 activiteiten wachten op u"
    # The page lists as waiting exactly what the menu counts; the volunteer call apart.
    listed = text_of(eva.get("/activiteiten/"))
    waiting, rest = listed.split("Ook open (niet verplicht)")
    assert "Wacht op u 2 " in waiting and waiting.count("tot ") == 2
    assert "Hulpouders gezocht" in rest

    db.session.add(Response(activity_id=invitation.id, student_id=w.lisa.id, answer=Answer.YES,
                            people=2, answered_by_id=w.eva.id))
    db.session.add(Booking(slot=conference.slots[0], student=w.sem, booked_by_id=w.eva.id))
    db.session.commit()
    assert nav_count(page(eva), "activities") == ""


def test_staff_count_the_activities_they_manage_that_are_open(make_client, w):
    make_conference(w.g3)
    make_invitation(w.g3, opens_at=MONDAY + timedelta(days=1))  # not open yet
    make_invitation(w.g3, deadline=MONDAY - timedelta(days=1))  # closed
    make_invitation(w.g5)  # Ilse's
    db.session.commit()
    anna, admin = signed_in(make_client, w.anna), signed_in(make_client, w.admin)
    assert nav_count(page(anna), "activities") == "1 lopende activiteit"
    assert nav_count(page(admin), "activities") == "2 lopende activiteiten"
    # The page lists as open exactly what the menu counts.
    listed = text_of(anna.get("/activiteiten/"))
    assert "Open 1 " in listed and "Nog niet open 1 " in listed and "Gesloten 1 " in listed
    assert "Open 2 " in text_of(admin.get("/activiteiten/"))


# -- cost ---------------------------------------------------------------------------------


def test_the_empty_poll_costs_two_queries_and_a_page_one_for_all_counts(make_client, w):
    make_post(w.g3, author=w.anna)
    make_message(make_kindgesprek(w.sem), w.anna, "Hallo Eva")
    make_conference(w.g3)
    db.session.commit()
    later()
    eva = signed_in(make_client, w.eva)
    with count_queries(eva.application) as q:
        html = page(eva)
    counting = [s for s in q.statements if "nav-count" in s or " AS feed" in s]
    assert len(counting) == 1, q
    poll = poll_url(html)
    assert poll == "/tellers?feed=1&chat=1&activities=1"
    with count_queries(eva.application) as q:
        response = eva.get(poll, headers=HX)
    assert response.status_code == 204 and response.get_data() == b""
    assert q.count <= 2, q  # the session lookup and the counts


def test_the_poll_wants_a_signed_in_user(client, w):
    assert client.get("/tellers?feed=0").status_code == 401


def test_pages_and_the_poll_show_nothing_for_a_user_without_news(make_client, w):
    html = page(signed_in(make_client, w.eva))
    for key in ("feed", "chat", "activities"):
        assert nav_count(html, key) == ""
    assert "Groepen" in text_of_nav(html)


def text_of_nav(html: str) -> str:
    match = re.search(r'<nav class="mainnav".*?</nav>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))
