"""What waits for a guardian is one rule: the overview, the menu count and the reminders agree."""

from __future__ import annotations

import re

from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.models import Answer, Booking, OutboxMail, Response, SeparateBookings

from ..factories import (
    make_conference,
    make_group,
    make_guardian,
    make_invitation,
    make_materials,
    make_student,
    make_volunteer,
)
from ..helpers import login_as
from .conftest import at

PAST = at(2027, 3, 5, 23, 59)  # the other deadlines are Monday 8 March 23:59


def _school():
    """Two groups, a guardian (Eva) of a child in each, and activities of every kind and state."""
    groep3, groep5, groep7 = (make_group(f"Groep {n}", grade=n) for n in (3, 5, 7))
    sem = make_student(groep3, first_name="Sem")
    noor = make_student(groep3, first_name="Noor")
    lisa = make_student(groep5, first_name="Lisa")
    daan = make_student(groep7, first_name="Daan")
    people = {
        "eva": make_guardian(children=(sem, lisa), name="Eva Jansen", email="eva@example.org"),
        "tom": make_guardian(child=sem, name="Tom Jansen", email="tom@example.org"),
        "linda": make_guardian(child=noor, name="Linda Bakker", email="linda@example.org"),
        "karin": make_guardian(child=daan, name="Karin Smit", email="karin@example.org"),
    }
    booked = make_conference(groep3, title="Gesprekken, Sem geboekt")
    db.session.add(Booking(slot=booked.slots[0], student=sem))
    make_conference(groups=(groep3, groep5), title="Gesprekken, niemand geboekt")
    apart = make_conference(groep3, title="Gesprekken, apart geboekt")
    db.session.add(SeparateBookings(activity_id=apart.id, student_id=sem.id))
    db.session.add(Booking(slot=apart.slots[0], student=sem, guardian_id=people["eva"].id))
    make_conference(groep5, title="Gesprekken, voorbij", deadline=PAST)
    answered = make_invitation(groep3, title="Uitnodiging, Sem beantwoord")
    db.session.add(Response(activity=answered, student=sem, answer=Answer.NO, people=0))
    make_invitation(groep5, title="Uitnodiging, open")
    make_invitation(groep3, title="Uitnodiging, voorbij", deadline=PAST)
    all_answered = make_invitation(groep7, title="Uitnodiging, iedereen beantwoord")
    db.session.add(Response(activity=all_answered, student=daan, answer=Answer.YES, people=2))
    make_volunteer(groups=(groep3, groep5, groep7), title="Hulpouders")
    make_materials(groups=(groep3, groep5, groep7), title="Spullen")
    db.session.commit()
    return people


EXPECTED = {
    "eva": {"Gesprekken, niemand geboekt", "Uitnodiging, open"},
    "tom": {"Gesprekken, niemand geboekt", "Gesprekken, apart geboekt"},
    "linda": {"Gesprekken, Sem geboekt", "Gesprekken, niemand geboekt",
              "Gesprekken, apart geboekt", "Uitnodiging, Sem beantwoord"},
    "karin": set(),
}


def _waiting_on_overview(html: str) -> set[str]:
    """The titles the overview lists with a request to book or to answer."""
    items = re.findall(r'class="activity-title">([^<]*)</a>.*?class="activity-todo">([^<]*)</p>',
                       html, re.S)
    return {title for title, todo in items
            if todo.startswith("Plan een gesprek voor") or todo == "Laat weten of u komt"}


def _menu_count(html: str) -> int:
    region = re.search(r'<span id="nav-count-activities" aria-live="polite">(.*?)</span></a>',
                       html, re.S).group(1)
    number = re.search(r"\d+", region)
    return int(number.group(0)) if number else 0


def test_the_overview_the_menu_count_and_the_reminders_agree(app, make_client):
    people = _school()
    clock.set_now(at(2027, 3, 6, 7, 0))  # two days before the deadline: reminders go out
    for name, user in people.items():
        client = make_client()
        login_as(client, user)
        html = client.get("/activiteiten/").get_data(as_text=True)
        assert _waiting_on_overview(html) == EXPECTED[name], name
        assert _menu_count(html) == len(EXPECTED[name]), name

    result = app.test_cli_runner().invoke(args=["activities", "remind"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    reminded = {name: set() for name in people}
    for mail in db.session.scalars(select(OutboxMail)):
        name = mail.recipient.split("@")[0]
        reminded[name].add(mail.subject.removeprefix("Herinnering: "))
    assert reminded == EXPECTED
    # Eva's one reminder for the round of both groups names both children.
    body = db.session.scalar(select(OutboxMail.body_text).where(
        OutboxMail.recipient == "eva@example.org",
        OutboxMail.subject == "Herinnering: Gesprekken, niemand geboekt"))
    assert "voor Lisa, Sem." in body
