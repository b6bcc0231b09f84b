"""The jaarkalender: the office enters and imports, parents see their part, and the days
without school are the ones the absence rules and the conference planner use.

The clock is frozen on Monday 14 September 2026, 07:30 in Amsterdam.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from parro.extensions import db
from parro.models import CalendarItem, CalendarKind

from .conftest import create_schema, drop_schema
from .factories import make_calendar_item, make_holiday
from .helpers import login_as
from .test_absence import MONDAY, WEDNESDAY, appointment, at, make_family, seen, sick


@pytest.fixture
def family(app):
    return make_family()


@pytest.fixture
def office(app, family, client):
    from .factories import make_admin

    admin = make_admin(email="office@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


def items() -> list[CalendarItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(CalendarItem).order_by(CalendarItem.starts_on)))


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rijksoverheid//NL\r\n" + body
            + "END:VCALENDAR\r\n").encode()


def upload(client, data: bytes, kind="auto", groups=()):
    from io import BytesIO

    return client.post("/kalender/importeren", data={
        "file": (BytesIO(data), "schoolvakanties.ics"), "kind": kind, "groups": list(groups),
    }, content_type="multipart/form-data")


HERFST = """UID:herfst-noord-2026@rijksoverheid.nl
DTSTAMP:20260801T000000Z
SUMMARY:Herfstvakantie
DTSTART;VALUE=DATE:20261017
DTEND;VALUE=DATE:20261026"""
KERST = """UID:kerst-2026@rijksoverheid.nl
DTSTAMP:20260801T000000Z
SUMMARY:Kerstvakantie
DTSTART;VALUE=DATE:20261219
DTEND;VALUE=DATE:20270104"""


# -- the office enters items ----------------------------------------------------------


def test_office_adds_a_study_day_and_parents_see_it(office, family, client, make_client):
    response = client.post("/kalender/nieuw", data={
        "title": "Studiedag", "kind": "study_day", "starts_on": "2026-09-23",
        "description": "Het team werkt aan rekenen.",
    })
    assert response.status_code == 303
    [item] = items()
    assert (item.kind, item.starts_on, item.ends_on, item.groups) == (
        CalendarKind.STUDY_DAY, date(2026, 9, 23), date(2026, 9, 23), [])

    parent = make_client()
    login_as(parent, family.eva)
    page = seen(parent.get("/kalender/"))
    assert "woensdag 23 september Studiedag studiedag: geen school voor de kinderen" in page
    assert "Het team werkt aan rekenen." in page
    # Above the feed, the next few items.
    feed = seen(parent.get("/"))
    assert "Binnenkort woensdag 23 september Studiedag" in feed
    assert "Bewerken" not in page  # only the office changes the calendar


def test_an_item_for_some_groups_is_seen_only_there(office, family, client, make_client):
    response = client.post("/kalender/nieuw", data={
        "title": "Schoolreis", "kind": "event", "starts_on": "2026-09-25",
        "starts_at": "08:45", "ends_at": "15:30", "location": "Efteling",
        "groups": [family.other_group.id],
    })
    assert response.status_code == 303
    assert [g.name for g in items()[0].groups] == ["Groep 5"]

    eva = make_client()
    login_as(eva, family.eva)  # Sem is in groep 3
    assert "Schoolreis" not in seen(eva.get("/kalender/"))
    ilse = make_client()
    login_as(ilse, family.ilse)  # teaches groep 5
    page = seen(ilse.get("/kalender/"))
    assert "vrijdag 25 september, 08:45–15:30 Schoolreis Efteling Voor Groep 5" in page
    assert "Voor Groep 5" in seen(client.get("/kalender/"))


def test_coming_weeks_and_paging(office, family, client):
    make_holiday(date(2026, 10, 17), date(2026, 10, 25), name="Herfstvakantie")
    make_calendar_item(date(2026, 12, 18), title="Kerstviering")
    db.session.commit()
    page = seen(client.get("/kalender/"))
    assert "14 september tot en met 25 oktober 2026" in page
    assert "Oktober 2026 zaterdag 17 oktober t/m zondag 25 oktober Herfstvakantie geen school" in (
        page)
    assert "Kerstviering" not in page
    later = seen(client.get("/kalender/?vanaf=2026-12-02"))
    assert "Kerstviering" in later and "Herfstvakantie" not in later
    # A date that is no date shows this week, not an error.
    assert client.get("/kalender/?vanaf=morgen").status_code == 200


@pytest.mark.parametrize("data, field_message", [
    ({"starts_on": "2026-10-02", "ends_on": "2026-10-01"},
     "De laatste dag ligt voor de eerste dag."),
    ({"starts_on": "2026-10-02", "starts_at": "14:00", "ends_at": "13:00"},
     "De eindtijd ligt voor de begintijd."),
    ({"starts_on": "2026-10-02", "starts_at": "14:00"},
     "Vul een begin- én eindtijd in, of laat beide leeg voor de hele dag."),
    ({"starts_on": "2 oktober"}, "Vul een datum in, bijvoorbeeld 14-09-2026."),
    ({"starts_on": "2026-10-02", "kind": "feest"}, "Kies een soort uit de lijst."),
    ({"starts_on": "2026-10-02", "groups": ["999999"]}, "Kies groepen uit de lijst."),
    ({"starts_on": "2026-10-02", "title": ""}, "Geef het item een titel, bijvoorbeeld Sportdag."),
])
def test_bad_items_are_refused_and_nothing_is_stored(office, client, data, field_message):
    form = {"title": "Sportdag", "kind": "event", **data}
    response = client.post("/kalender/nieuw", data=form)
    assert response.status_code == 422
    assert field_message in seen(response)
    assert items() == []


def test_office_edits_and_deletes_an_item(office, family, client):
    item = make_calendar_item(date(2026, 10, 2), title="Sportdag")
    db.session.commit()
    page = client.get(f"/kalender/{item.id}/bewerken").get_data(as_text=True)
    assert 'value="Sportdag"' in page and 'value="2026-10-02"' in page
    response = client.post(f"/kalender/{item.id}/bewerken", data={
        "title": "Sportdag", "kind": "event", "starts_on": "2026-10-02", "ends_on": "2026-10-01",
    })
    assert response.status_code == 422
    assert items()[0].ends_on == date(2026, 10, 2)
    client.post(f"/kalender/{item.id}/bewerken", data={
        "title": "Sportdag (verzet)", "kind": "event", "starts_on": "2026-10-09",
    })
    assert [(i.title, i.starts_on) for i in items()] == [("Sportdag (verzet)", date(2026, 10, 9))]
    response = client.post(f"/kalender/{item.id}/verwijderen", follow_redirects=True)
    assert "Sportdag (verzet) is uit de kalender gehaald." in seen(response)
    assert items() == []


# -- importing an .ics file -------------------------------------------------------------


def test_import_the_school_holidays_and_again_without_doubles(office, family, client):
    past = """UID:zomer-2026@rijksoverheid.nl
DTSTAMP:20260801T000000Z
SUMMARY:Zomervakantie
DTSTART;VALUE=DATE:20260718
DTEND;VALUE=DATE:20260831"""
    response = upload(client, ics(HERFST, KERST, past))
    assert response.status_code == 303
    page = seen(client.get("/kalender/"))
    assert "Import klaar: 2 items toegevoegd, 0 bijgewerkt, 0 stonden er al." in page
    assert "1 item lag al in het verleden en is overgeslagen." in page
    # Multi-day all-day events: DTEND is the day after the last day.
    assert [(i.title, i.kind, i.starts_on, i.ends_on) for i in items()] == [
        ("Herfstvakantie", CalendarKind.HOLIDAY, date(2026, 10, 17), date(2026, 10, 25)),
        ("Kerstvakantie", CalendarKind.HOLIDAY, date(2026, 12, 19), date(2027, 1, 3)),
    ]

    # The same file again, with one holiday moved: updated, not doubled.
    moved = KERST.replace("20261219", "20261218")
    upload(client, ics(HERFST, moved))
    page = seen(client.get("/kalender/"))
    assert "Import klaar: 0 items toegevoegd, 1 bijgewerkt, 1 stond er al." in page
    assert [(i.title, i.starts_on) for i in items()] == [
        ("Herfstvakantie", date(2026, 10, 17)), ("Kerstvakantie", date(2026, 12, 18))]

    # And the days count as days without school.
    parent_day = appointment  # the absence form's helper
    assert parent_day is not None
    from parro.calendar.days import closed_reason

    with client.application.test_request_context():
        assert closed_reason(date(2026, 10, 21)) == "Herfstvakantie"
        assert closed_reason(date(2026, 10, 26)) is None


def test_import_reads_times_in_other_time_zones_and_events_without_uid(office, client):
    response = upload(client, ics(
        """DTSTART:20261001T170000Z
DTEND:20261001T190000Z
SUMMARY:Informatieavond""",
        """DTSTART;TZID=America/New_York:20261002T030000
DURATION:PT1H
SUMMARY:Sportdag""",
    ), kind="event")
    assert response.status_code == 303
    # UTC 17:00 is 19:00 in Amsterdam (summer time); 03:00 in New York is 09:00 here.
    assert [(i.title, i.starts_on, i.starts_at, i.ends_at) for i in items()] == [
        ("Informatieavond", date(2026, 10, 1), time(19, 0), time(21, 0)),
        ("Sportdag", date(2026, 10, 2), time(9, 0), time(10, 0)),
    ]
    # Without a UID, the same title on the same days is the same item.
    upload(client, ics("""DTSTART:20261001T170000Z
DTEND:20261001T190000Z
SUMMARY:Informatieavond"""), kind="event")
    assert len(items()) == 2


def test_import_for_chosen_groups_and_a_chosen_kind(office, family, client):
    response = upload(client, ics(HERFST.replace("Herfstvakantie", "Kamp")), kind="study_day",
                      groups=[family.group.id])
    assert response.status_code == 303
    [item] = items()
    assert item.kind == CalendarKind.STUDY_DAY and [g.id for g in item.groups] == [family.group.id]


def test_every_change_the_feed_block_shows_raises_the_items_version(office, family, client):
    """The block of coming items above the feed is cached under each item's version
    (parro/fragments.py): an edit raises it, and so does a change of its groups alone,
    which leaves the item's own row as it is: by the form and by an import."""
    def version() -> int:
        [item] = items()
        return item.version

    def edit(groups=()):
        client.post(f"/kalender/{item.id}/bewerken", data={
            "title": "Kamp", "kind": "event", "starts_on": "2026-10-02",
            "groups": [g.id for g in groups]})

    item = make_calendar_item(date(2026, 10, 2), title="Sportdag")
    db.session.commit()
    before = version()
    edit()
    assert version() > before
    before = version()
    edit(groups=[family.group])
    assert version() > before
    before = version()
    edit(groups=[family.group])  # nothing changed: the same version
    assert version() == before
    edit(groups=[family.group, family.other_group])
    assert version() > before
    db.session.delete(items()[0])
    db.session.commit()

    upload(client, ics(HERFST), kind="holiday", groups=[family.group.id])
    before = version()
    upload(client, ics(HERFST), kind="holiday", groups=[family.other_group.id])
    assert version() > before
    assert [g.id for g in items()[0].groups] == [family.other_group.id]


@pytest.mark.parametrize("data, message", [
    (b"\x00\xffdit is geen agenda", "Dit is geen agendabestand (.ics) dat wij kunnen lezen."),
    (b"", "Dit is geen agendabestand (.ics) dat wij kunnen lezen."),
    (ics("""UID:a
SUMMARY:Terug in de tijd
DTSTART;VALUE=DATE:20261020
DTEND;VALUE=DATE:20261010"""), "Item 1 (Terug in de tijd) eindigt voordat het begint."),
    (ics(HERFST, """UID:b
SUMMARY:Kapot
DTSTART:morgen"""), "Item 2 (Kapot) heeft geen leesbare begindatum."),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
     "Er staan geen items in dit agendabestand."),
])
def test_a_bad_file_changes_nothing(office, client, data, message):
    response = upload(client, data)
    assert response.status_code == 422
    assert message in seen(response)
    assert items() == []


def test_ten_thousand_events_are_refused_with_the_limit(office, client):
    events = [f"UID:e{n}\r\nSUMMARY:Item {n}\r\nDTSTART;VALUE=DATE:20261102" for n in range(10_000)]
    response = upload(client, ics(*events))
    assert response.status_code == 422
    assert ("Dit bestand bevat 10000 items; meer dan 1000 in één keer kan niet." in seen(response))
    assert items() == []


def test_recurring_events_are_left_out_and_said_so(office, client):
    upload(client, ics(HERFST, """UID:gym
SUMMARY:Gym
DTSTART:20261001T090000
DTEND:20261001T100000
RRULE:FREQ=WEEKLY"""))
    assert [i.title for i in items()] == ["Herfstvakantie"]
    assert "1 terugkerend item is overgeslagen" in seen(client.get("/kalender/"))


# -- one list of days without school -------------------------------------------------------


def test_a_study_day_for_one_group_blocks_only_that_group(family, client, make_client):
    make_holiday(MONDAY, name="Studiedag onderbouw", groups=[family.group])
    make_holiday(WEDNESDAY, name="Studiedag", groups=[family.other_group])
    db.session.commit()
    login_as(client, family.eva)
    response = sick(client, family.sem)
    assert response.status_code == 422
    assert "is er geen school voor Sem (Studiedag onderbouw)" in seen(response)
    # Wednesday's study day is groep 5's: Sem's appointment that day is fine.
    at(MONDAY, 7, 30)
    assert appointment(client, family.sem, family.reasons["Huisarts"]).status_code == 303
    # Anna's overview: no school today for her group.
    teacher = make_client()
    login_as(teacher, family.anna)
    assert "Vandaag is er geen school (Studiedag onderbouw)." in seen(teacher.get("/"))
    ilse = make_client()
    login_as(ilse, family.ilse)
    assert "Vandaag is er geen school" not in seen(ilse.get("/"))


def test_an_event_is_a_day_with_school(family, client):
    make_calendar_item(MONDAY, title="Sportdag")
    db.session.commit()
    login_as(client, family.eva)
    assert sick(client, family.sem).status_code == 303


def test_the_conference_planner_refuses_a_holiday(family, client):
    make_holiday(date(2026, 10, 19), date(2026, 10, 23), name="Herfstvakantie")
    db.session.commit()
    login_as(client, family.anna)
    response = client.post("/activiteiten/nieuw/oudergesprekken", data={
        "title": "Rapportgesprekken", "groups": [family.group.id],
        "deadline_date": "2026-10-10", "deadline_time": "23:59",
        "days-0-date": "2026-10-20", "days-0-start": "15:00", "days-0-end": "16:00",
        "slot_minutes": "10", "early_days": "0",
    })
    assert response.status_code == 422
    assert ("Op dinsdag 20 oktober is er geen school (Herfstvakantie). Kies een schooldag."
            in seen(response))
    ok = client.post("/activiteiten/nieuw/oudergesprekken", data={
        "title": "Rapportgesprekken", "groups": [family.group.id],
        "deadline_date": "2026-10-10", "deadline_time": "23:59",
        "days-0-date": "2026-10-27", "days-0-start": "15:00", "days-0-end": "16:00",
        "slot_minutes": "10", "early_days": "0",
    })
    assert ok.status_code == 303


def test_the_subscription_has_the_calendar(family, client):
    from parro.activities import calendar as ics_feed

    make_holiday(date(2026, 10, 17), date(2026, 10, 25), name="Herfstvakantie")
    make_calendar_item(date(2026, 10, 2), title="Sportdag", starts_at=time(9, 0),
                       ends_at=time(14, 0))
    make_calendar_item(date(2026, 10, 3), title="Kamp groep 5", groups=[family.other_group])
    db.session.commit()
    feed = ics_feed.create_feed(family.eva)
    with client.application.test_request_context():
        token = ics_feed.feed_token(feed)
    response = client.get(f"/activiteiten/agenda/{token}.ics")
    assert response.status_code == 200
    events = {str(e["summary"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}
    assert "Kamp groep 5" not in events
    herfst = events["Herfstvakantie"]
    assert herfst.start == date(2026, 10, 17) and herfst.end == date(2026, 10, 26)
    sport = events["Sportdag"]
    assert sport.start.hour == 9 and str(sport.start.tzinfo) == "Europe/Amsterdam"


def test_the_old_closed_days_become_calendar_items(app):
    """The migration moves the absence's closed days into the calendar."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    db.session.remove()
    drop_schema()
    try:
        upgrade(revision="version01")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO school (name, phone, email, colour, leave_info,"
                              " code_of_conduct, require_two_factor, require_school_account)"
                              " VALUES ('De Test', '', '', '#1f6f8b', '', '', false, false)"))
            conn.execute(text("INSERT INTO school_holiday (name, starts_on, ends_on) VALUES"
                              " ('Herfstvakantie', '2026-10-17', '2026-10-25'),"
                              " ('Studiedag team', '2026-11-04', '2026-11-04')"))
        upgrade(revision="calendar01")
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT title, kind, starts_on, ends_on FROM calendar_item ORDER BY starts_on"
            )).all()
        assert [(r[0], r[1], str(r[2]), str(r[3])) for r in rows] == [
            ("Herfstvakantie", "HOLIDAY", "2026-10-17", "2026-10-25"),
            ("Studiedag team", "STUDY_DAY", "2026-11-04", "2026-11-04"),
        ]
        downgrade(revision="base")
    finally:
        drop_schema()
        create_schema()


def test_counting_items_needs_no_query_per_item(office, family, client):
    for n in range(12):
        make_calendar_item(date(2026, 9, 15 + n), title=f"Item {n}", groups=[family.group])
    db.session.commit()
    from .helpers import count_queries

    with count_queries(client.application) as q:
        client.get("/kalender/")
    few = q.count
    for n in range(12):
        make_calendar_item(date(2026, 10, 1 + n), title=f"Meer {n}", groups=[family.group])
    db.session.commit()
    with count_queries(client.application) as q:
        client.get("/kalender/")
    assert q.count == few
    assert db.session.scalar(select(func.count(CalendarItem.id))) == 24
