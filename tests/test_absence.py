"""Absence: guardians report, teachers see it in the morning, the office exports it.

The clock is frozen in every test: Monday 14 September 2026 is a school day,
Saturday 19 and Sunday 20 September are the weekend.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import AbsenceKind, AbsencePreference, AbsenceReport, OutboxMail

from .factories import (
    make_absence,
    make_group,
    make_guardian,
    make_holiday,
    make_reason,
    make_student,
    make_teacher,
)
from .helpers import login_as, text_of

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2026, 9, 14)
TUESDAY = date(2026, 9, 15)
WEDNESDAY = date(2026, 9, 16)
FRIDAY = date(2026, 9, 18)
SATURDAY = date(2026, 9, 19)
NEXT_MONDAY = date(2026, 9, 21)


def at(day: date, hh: int = 7, mm: int = 30) -> None:
    clock.set_now(datetime.combine(day, time(hh, mm), tzinfo=AMS))


def seen(response) -> str:
    """The visible text, entities decoded."""
    return html.unescape(text_of(response))


@pytest.fixture
def family(app):
    return make_family()


def make_family():
    """Sem in groep 3 with guardian Eva and teacher Anna; Noah in groep 5 elsewhere."""
    at(MONDAY)
    group = make_group("Groep 3", grade=3)
    other_group = make_group("Groep 5", grade=5)
    sem = make_student(group, first_name="Sem", last_name="Jansen", number="10001")
    noah = make_student(other_group, first_name="Noah", last_name="Dekker", number="10002")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    anna = make_teacher(group, name="Anna de Boer")
    ilse = make_teacher(other_group, name="Ilse Vermeulen")
    reasons = {name: make_reason(name) for name in ("Huisarts", "Tandarts", "Overig")}
    db.session.commit()

    class F:
        pass

    f = F()
    f.__dict__.update(group=group, other_group=other_group, sem=sem, noah=noah, eva=eva,
                      anna=anna, ilse=ilse, reasons=reasons)
    return f


def reports():
    db.session.expire_all()
    return list(db.session.scalars(select(AbsenceReport).order_by(AbsenceReport.id)))


def sick(client, student, **extra):
    return client.post("/absentie/ziek", data={"sick-student": student.id, **extra})


def appointment(client, student, reason, day="2026-09-16", start="10:00", end="11:30", **extra):
    data = {"appt-student": student.id, "appt-day": day, "appt-starts_at": start,
            "appt-ends_at": end, "appt-reason": reason.id, **extra}
    return client.post("/absentie/afspraak", data=data)


# -- the guardian's page --------------------------------------------------------


def test_guardian_page_explains_the_rules_and_leave(family, client):
    family.group.year.school.leave_info = "https://school.example.org/verlof"
    db.session.commit()
    login_as(client, family.eva)
    response = client.get("/absentie/")
    page = seen(response)
    assert response.status_code == 200
    assert "Een ziekmelding geldt alleen voor vandaag, maandag 14 september" in page
    assert "Meld uw kind vóór 08:30 uur ziek" in page
    assert "uiterlijk de schooldag ervoor" in page
    assert "De eerste dag die u nu kunt kiezen is dinsdag 15 september" in page
    assert "Verlof" in page and "via de directie" in page
    assert 'href="https://school.example.org/verlof"' in response.get_data(as_text=True)
    # Leave is not something to choose.
    assert "Verlof" not in [r.name for r in family.reasons.values()]
    assert "Sem Jansen" in page
    assert f'name="sick-student" value="{family.sem.id}"' in response.get_data(as_text=True)


def test_guardian_with_two_children_chooses_one(family, client):
    lotte = make_student(make_group("Groep 6", grade=6), first_name="Lotte", last_name="Jansen")
    from parro.models import Guardianship

    db.session.add(Guardianship(user=family.eva, student=lotte))
    db.session.commit()
    login_as(client, family.eva)
    html = client.get("/absentie/").get_data(as_text=True)
    assert re.search(r"<select[^>]*name=\"sick-student\"", html)
    assert "Lotte Jansen" in html and "Sem Jansen" in html


def test_guardian_without_a_child_in_a_group_is_told_what_to_do(family, client):
    loner = make_guardian(child=make_student(None, first_name="Pim"))
    db.session.commit()
    login_as(client, loner)
    page = seen(client.get("/absentie/"))
    assert "geen kind aan uw account gekoppeld dat dit schooljaar in een groep zit" in page
    assert "Ziek melden voor vandaag" not in page


# -- sick reports ---------------------------------------------------------------


def test_sick_report_before_the_cutoff_reaches_the_teacher(family, client, make_client):
    login_as(client, family.eva)
    response = sick(client, family.sem)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/absentie/")
    [report] = reports()
    assert (report.kind, report.day, report.after_cutoff) == (AbsenceKind.SICK, MONDAY, False)
    assert report.reported_by_id == family.eva.id
    page = seen(client.get("/absentie/"))
    assert "Sem is ziek gemeld voor vandaag" in page
    assert "na 08:30" not in page
    # Once is enough: the form is gone for today.
    assert "Sem is vandaag al ziek gemeld." in page
    assert "Ziek melden voor vandaag" not in page

    teacher = make_client()
    login_as(teacher, family.anna)
    home = seen(teacher.get("/"))
    assert "Sem Jansen Ziek hele dag" in home


def test_sick_report_after_the_cutoff_is_accepted_with_a_notice(family, client):
    at(MONDAY, 9, 5)
    login_as(client, family.eva)
    assert "Het is al na 08:30 uur" in seen(client.get("/absentie/"))
    assert sick(client, family.sem).status_code == 303
    [report] = reports()
    assert report.after_cutoff is True
    page = seen(client.get("/absentie/"))
    assert "de leerkracht ziet uw melding misschien pas na de lessen" in page.lower()


def test_cutoff_is_configurable(family, make_client):
    at(MONDAY, 9, 5)
    client = make_client(ABSENCE_SICK_CUTOFF="09:15")
    login_as(client, family.eva)
    sick(client, family.sem)
    assert reports()[0].after_cutoff is False


@pytest.mark.parametrize("day, why", [(SATURDAY, "weekend"), (WEDNESDAY, "Studiedag")])
def test_no_sick_report_when_the_school_is_closed(family, client, day, why):
    make_holiday(WEDNESDAY, name="Studiedag")
    db.session.commit()
    at(day)
    login_as(client, family.eva)
    assert f"is er geen school ({why})" in seen(client.get("/absentie/"))
    response = sick(client, family.sem)
    assert response.status_code == 422
    assert f"is er geen school ({why})" in seen(response)
    assert reports() == []


def test_one_sick_report_per_child_per_day(family, client, make_client):
    login_as(client, family.eva)
    assert sick(client, family.sem).status_code == 303
    again = sick(client, family.sem)
    assert again.status_code == 422
    assert "Sem is vandaag al ziek gemeld. U hoeft niets meer te doen." in seen(again)
    # The other parent, in their own browser, gets the same answer.
    dad = make_guardian(child=family.sem)
    db.session.commit()
    other = make_client()
    login_as(other, dad)
    assert sick(other, family.sem).status_code == 422
    assert len(reports()) == 1


def test_the_database_refuses_a_second_sick_report(family):
    """The rule holds without the service: two writers racing meet the unique index."""
    from sqlalchemy.exc import IntegrityError

    make_absence(family.sem, day=MONDAY)
    db.session.commit()
    db.session.add(AbsenceReport(student=family.sem, kind=AbsenceKind.SICK, day=MONDAY))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_withdrawn_sick_report_does_not_block_a_new_one(family, client):
    login_as(client, family.eva)
    sick(client, family.sem)
    client.post(f"/absentie/{reports()[0].id}/intrekken")
    assert sick(client, family.sem).status_code == 303
    first, second = reports()
    assert first.withdrawn_at is not None and second.withdrawn_at is None


def test_a_sick_report_covers_today_only(family, client):
    login_as(client, family.eva)
    sick(client, family.sem)
    at(TUESDAY)
    login_as(client, family.eva)  # a night later the session has ended
    assert sick(client, family.sem).status_code == 303
    assert [r.day for r in reports()] == [MONDAY, TUESDAY]


@pytest.mark.parametrize("whose", ["other family", "no such child", "not a number"])
def test_a_child_that_is_not_yours(family, client, whose):
    student_id = {"other family": family.noah.id, "no such child": 99999,
                  "not a number": "abc"}[whose]
    login_as(client, family.eva)
    response = client.post("/absentie/ziek", data={"sick-student": student_id})
    assert response.status_code == 422
    assert reports() == []
    if whose != "not a number":
        assert "Kies een van uw eigen kinderen." in seen(response)
    response = appointment(client, family.noah, family.reasons["Tandarts"])
    assert response.status_code == 422
    assert "Kies een van uw eigen kinderen." in seen(response)
    assert reports() == []


def test_staff_cannot_report(family, client):
    login_as(client, family.anna)
    assert sick(client, family.sem).status_code == 403
    assert reports() == []


# -- appointments ---------------------------------------------------------------


def test_appointment_is_reported(family, client):
    login_as(client, family.eva)
    response = appointment(client, family.sem, family.reasons["Tandarts"], day="2026-09-16",
                           **{"appt-note": "Komt daarna terug op school"})
    assert response.status_code == 303
    [report] = reports()
    assert report.kind == AbsenceKind.APPOINTMENT
    assert (report.day, report.starts_at, report.ends_at) == (WEDNESDAY, time(10), time(11, 30))
    assert report.reason.name == "Tandarts" and report.note == "Komt daarna terug op school"
    page = seen(client.get("/absentie/"))
    assert ("De afspraak van Sem op woensdag 16 september van 10:00 tot 11:30 is doorgegeven"
            in page)
    assert "Tandarts 10:00–11:30" in page


def test_dutch_ways_of_writing_dates_and_times_are_understood(family, client):
    login_as(client, family.eva)
    response = appointment(client, family.sem, family.reasons["Huisarts"], day="16-09-2026",
                           start="8.45", end="9.30")
    assert response.status_code == 303
    [report] = reports()
    assert (report.day, report.starts_at, report.ends_at) == (WEDNESDAY, time(8, 45), time(9, 30))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"day": "2026-09-11"}, "Deze datum is al voorbij."),
        ({"day": "2026-09-14"}, ("Een afspraak geeft u uiterlijk de schooldag ervoor door. "
                                 "De eerste dag die nu nog kan is dinsdag 15 september.")),
        ({"day": "2026-09-19"}, "Op zaterdag 19 september is er geen school (weekend)."),
        ({"day": "2027-09-14"}, "Zo ver vooruit kunt u nog niets doorgeven."),
        ({"day": "2026-02-31"}, "Vul een datum in, bijvoorbeeld 14-09-2026."),
        ({"day": ""}, "Vul de datum van de afspraak in."),
        ({"start": "11:00", "end": "10:00"}, "De eindtijd moet na de begintijd liggen."),
        ({"start": "10:00", "end": "10:00"}, "De eindtijd moet na de begintijd liggen."),
        ({"start": "half elf"}, "Vul een tijd in, bijvoorbeeld 10:30."),
        ({"end": ""}, "Vul in hoe laat uw kind terug is."),
    ],
)
def test_bad_appointments_are_refused_with_a_clear_message(family, client, change, message):
    login_as(client, family.eva)
    response = appointment(client, family.sem, family.reasons["Tandarts"], **change)
    assert response.status_code == 422
    assert message in seen(response)
    assert "Controleer de velden hieronder." in seen(response)
    assert reports() == []


def test_a_wrong_date_and_a_wrong_time_are_both_named(family, client):
    login_as(client, family.eva)
    response = appointment(client, family.sem, family.reasons["Tandarts"], day="2026-09-14",
                           start="11:00", end="10:00")
    assert response.status_code == 422
    errors = re.findall(r'<p class="error" id="appt-(\w+)-error">([^<]*)</p>',
                        response.get_data(as_text=True))
    assert [(name, html.unescape(text)[:40]) for name, text in errors] == [
        ("day", "Een afspraak geeft u uiterlijk de school"),
        ("ends_at", "De eindtijd moet na de begintijd liggen."),
    ]
    assert reports() == []


def test_appointment_on_a_holiday_is_refused(family, client):
    make_holiday(WEDNESDAY, FRIDAY, name="Herfstvakantie")
    db.session.commit()
    login_as(client, family.eva)
    response = appointment(client, family.sem, family.reasons["Tandarts"], day="2026-09-17")
    assert response.status_code == 422
    assert "Op donderdag 17 september is er geen school (Herfstvakantie)." in seen(response)
    assert reports() == []


def test_a_hidden_reason_cannot_be_chosen(family, client):
    family.reasons["Overig"].active = False
    db.session.commit()
    login_as(client, family.eva)
    assert "Overig" not in seen(client.get("/absentie/"))
    response = appointment(client, family.sem, family.reasons["Overig"])
    assert response.status_code == 422
    assert "Kies een reden uit de lijst." in seen(response)
    assert reports() == []


def test_on_friday_monday_is_the_first_day_for_an_appointment(family, client):
    at(FRIDAY, 15, 0)
    login_as(client, family.eva)
    assert appointment(client, family.sem, family.reasons["Huisarts"],
                       day="2026-09-21").status_code == 303


def test_closed_days_do_not_count_as_school_days_ahead(family, make_client):
    make_holiday(NEXT_MONDAY, name="Studiedag")
    db.session.commit()
    at(FRIDAY, 15, 0)
    client = make_client(ABSENCE_APPOINTMENT_MIN_SCHOOL_DAYS=2)
    login_as(client, family.eva)
    # Two school days after Friday, with Monday closed: Wednesday.
    response = appointment(client, family.sem, family.reasons["Huisarts"], day="2026-09-22")
    assert response.status_code == 422
    assert "De eerste dag die nu nog kan is woensdag 23 september." in seen(response)
    assert appointment(client, family.sem, family.reasons["Huisarts"],
                       day="2026-09-23").status_code == 303


# -- withdrawing ----------------------------------------------------------------


def test_withdrawing_a_future_appointment_keeps_it_marked(family, client, make_client):
    report = make_absence(family.sem, day=WEDNESDAY, by=family.eva,
                          reason=family.reasons["Tandarts"])
    db.session.commit()
    at(TUESDAY, 14, 0)
    teacher = make_client()
    login_as(teacher, family.anna)
    assert "Sem Jansen Tandarts 10:00–11:30" in seen(teacher.get("/"))

    login_as(client, family.eva)
    response = client.post(f"/absentie/{report.id}/intrekken")
    assert response.status_code == 303
    [kept] = reports()
    assert kept.withdrawn_at == clock.now() and kept.withdrawn_by_id == family.eva.id
    assert "De melding is ingetrokken." in seen(client.get("/absentie/"))
    assert "ingetrokken" in seen(client.get("/absentie/"))
    assert "Sem Jansen" not in seen(teacher.get("/"))


def test_todays_report_is_withdrawn_freely_before_the_cutoff(family, client):
    report = make_absence(family.sem, day=MONDAY, by=family.eva)
    db.session.commit()
    login_as(client, family.eva)
    at(MONDAY, 8, 29)
    assert f"/absentie/{report.id}/intrekken" in client.get("/absentie/").get_data(as_text=True)
    client.post(f"/absentie/{report.id}/intrekken")
    assert reports()[0].withdrawn_at is not None
    again = client.post(f"/absentie/{report.id}/intrekken", follow_redirects=True)
    assert "Deze melding was al ingetrokken." in seen(again)


def test_after_the_cutoff_a_report_is_withdrawn_the_same_morning_with_a_note(
    family, client, make_client
):
    report = make_absence(family.sem, day=MONDAY, by=family.eva)
    db.session.commit()
    login_as(client, family.eva)
    at(MONDAY, 9, 5)
    page = seen(client.get("/absentie/"))
    assert "U kunt deze melding tot 12:00 nog intrekken, met een kort bericht" in page
    # Without a note: refused, nothing changed.
    response = client.post(f"/absentie/{report.id}/intrekken", data={"note": "  "},
                           follow_redirects=True)
    assert "Schrijf de leerkracht kort waarom u de melding intrekt" in seen(response)
    assert reports()[0].withdrawn_at is None

    response = client.post(f"/absentie/{report.id}/intrekken",
                           data={"note": "Hij voelt zich beter, hij komt om 10:00."},
                           follow_redirects=True)
    assert "De leerkracht ziet uw bericht in het overzicht van vandaag." in seen(response)
    [kept] = reports()
    assert kept.withdrawn_note == "Hij voelt zich beter, hij komt om 10:00."
    # The teacher sees the report crossed out, with the note.
    teacher = make_client()
    login_as(teacher, family.anna)
    overview = seen(teacher.get("/"))
    assert "Sem Jansen" in overview
    assert "ingetrokken om 09:05 Hij voelt zich beter, hij komt om 10:00." in overview


def test_after_the_morning_the_page_says_to_phone_the_school(family, client):
    report = make_absence(family.sem, day=MONDAY, by=family.eva)
    db.session.commit()
    login_as(client, family.eva)
    at(MONDAY, 12, 0)
    page = client.get("/absentie/").get_data(as_text=True)
    assert f"/absentie/{report.id}/intrekken" not in page
    assert "Intrekken kan niet meer: de ochtend is voorbij. Vergist? Bel de school: " in (
        seen(client.get("/absentie/")))
    assert 'href="tel:0100000000"' in page
    response = client.post(f"/absentie/{report.id}/intrekken", data={"note": "Toch beter"},
                           follow_redirects=True)
    assert "kan niet meer worden ingetrokken: de ochtend is voorbij. Vergist? Bel de school." in (
        seen(response))
    assert reports()[0].withdrawn_at is None


def test_past_reports_cannot_be_withdrawn(family, client):
    report = make_absence(family.sem, day=date(2026, 9, 11), by=family.eva)
    db.session.commit()
    login_as(client, family.eva)
    client.post(f"/absentie/{report.id}/intrekken")
    assert reports()[0].withdrawn_at is None


def test_the_other_parent_sees_and_may_withdraw(family, client):
    dad = make_guardian(child=family.sem, name="Tom Jansen")
    report = make_absence(family.sem, day=WEDNESDAY, by=family.eva,
                          reason=family.reasons["Huisarts"])
    db.session.commit()
    login_as(client, dad)
    page = seen(client.get("/absentie/"))
    assert "door een andere ouder of verzorger" in page
    assert "Eva" not in page  # no other parent's details
    assert client.post(f"/absentie/{report.id}/intrekken").status_code == 303
    assert reports()[0].withdrawn_by_id == dad.id


def test_another_family_cannot_withdraw(family, client):
    report = make_absence(family.sem, day=WEDNESDAY, by=family.eva,
                          reason=family.reasons["Huisarts"])
    stranger = make_guardian(child=family.noah)
    db.session.commit()
    login_as(client, stranger)
    assert client.post(f"/absentie/{report.id}/intrekken").status_code == 403
    assert reports()[0].withdrawn_at is None


# -- confirmation by email ------------------------------------------------------


def test_email_receipt_when_chosen_and_the_choice_is_remembered(family, client):
    login_as(client, family.eva)
    response = sick(client, family.sem, **{"sick-email_receipt": "y"})
    assert response.status_code == 303
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert mail.recipient == "eva@example.org"
    assert "Sem" in mail.subject
    assert "U heeft Sem Jansen ziek gemeld voor maandag 14 september 2026." in mail.body_text
    assert "http://parro.test/absentie/" in mail.body_text
    page = client.get("/absentie/").get_data(as_text=True)
    assert "U krijgt ook een bevestiging per e-mail." in page
    assert re.search(r'<input[^>]* checked id="appt-email_receipt"', page)

    response = appointment(client, family.sem, family.reasons["Tandarts"])
    assert response.status_code == 303  # box left unticked: no mail, and remembered
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 1
    assert db.session.get(AbsencePreference, family.eva.id).email_receipt is False


def test_appointment_receipt_names_the_appointment(family, client):
    login_as(client, family.eva)
    appointment(client, family.sem, family.reasons["Tandarts"],
                **{"appt-email_receipt": "y", "appt-note": "Controle"})
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert "Tandarts, woensdag 16 september 2026, 10:00–11:30" in mail.body_text
    assert "Controle" in mail.body_text


def test_no_mail_when_a_report_is_refused(family, client):
    login_as(client, family.eva)
    at(SATURDAY)
    sick(client, family.sem, **{"sick-email_receipt": "y"})
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0
    assert db.session.get(AbsencePreference, family.eva.id) is None


# -- the teacher's morning overview --------------------------------------------


def test_teacher_home_shows_today_and_tomorrow_of_their_groups_only(family, client):
    make_absence(family.sem, day=MONDAY, by=family.eva)
    mila = make_student(family.group, first_name="Mila", last_name="de Vries")
    make_absence(mila, day=MONDAY, reason=family.reasons["Huisarts"], starts_at=time(13),
                 ends_at=time(14, 15), note="Oorontsteking")
    make_absence(mila, day=TUESDAY, reason=family.reasons["Tandarts"])
    make_absence(family.noah, day=MONDAY)
    withdrawn = make_student(family.group, first_name="Finn")
    make_absence(withdrawn, day=MONDAY, withdrawn_at=clock.now())
    db.session.commit()
    login_as(client, family.anna)
    response = client.get("/")
    page = seen(response)
    assert response.status_code == 200
    assert "Vandaag afwezig · maandag 14 september" in page
    assert "Sem Jansen Ziek hele dag" in page
    assert "Mila de Vries Huisarts 13:00–14:15 Oorontsteking" in page
    assert "Morgen · dinsdag 15 september" in page
    assert "Mila de Vries Tandarts 10:00–11:30" in page
    assert "Noah" not in page and "Finn" not in page
    html = response.get_data(as_text=True)
    assert 'data-poll="60"' in html and 'data-hx-get="/absentie/overzicht"' in html
    assert f'href="/groepen/{family.group.id}"' in html


def test_late_reports_are_marked_for_the_teacher(family, client):
    make_absence(family.sem, day=MONDAY, after_cutoff=True,
                 reported_at=datetime(2026, 9, 14, 9, 12, tzinfo=AMS))
    db.session.commit()
    login_as(client, family.anna)
    assert "Sem Jansen Ziek hele dag gemeld om 09:12" in seen(client.get("/"))


def test_polling_gets_the_fragment_only(family, client):
    login_as(client, family.anna)
    response = client.get("/absentie/overzicht", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="absence-today"')
    assert "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")
    assert "Niemand afwezig gemeld." in seen(response)
    make_absence(family.sem, day=MONDAY)
    db.session.commit()
    assert "Sem Jansen" in seen(client.get("/absentie/overzicht",
                                              headers={"HX-Request": "true"}))


def test_on_friday_the_teacher_sees_mondays_appointments(family, client):
    make_absence(family.sem, day=NEXT_MONDAY, reason=family.reasons["Huisarts"])
    db.session.commit()
    at(FRIDAY, 8, 0)
    login_as(client, family.anna)
    page = seen(client.get("/"))
    assert "Volgende schooldag · maandag 21 september" in page
    assert "Sem Jansen Huisarts 10:00–11:30" in page


def test_on_a_closed_day_the_overview_says_so(family, client):
    at(SATURDAY, 10, 0)
    login_as(client, family.anna)
    assert "Vandaag is er geen school (weekend)." in seen(client.get("/"))


def test_overview_query_count_does_not_grow_with_reports(family, client):
    from .helpers import count_queries

    login_as(client, family.anna)
    client.get("/absentie/overzicht")  # warm up
    with count_queries() as few:
        client.get("/absentie/overzicht", headers={"HX-Request": "true"})
    for n in range(15):
        s = make_student(family.group, first_name=f"Kind{n}")
        make_absence(s, day=MONDAY)
        make_absence(s, day=TUESDAY, reason=family.reasons["Huisarts"])
    db.session.commit()
    with count_queries() as many:
        response = client.get("/absentie/overzicht", headers={"HX-Request": "true"})
    assert seen(response).count("Ziek hele dag") == 15
    assert many.count == few.count, many


def test_guardians_and_admins_see_their_groups_at_the_start(family, client):
    login_as(client, family.eva)
    response = client.get("/")
    assert response.status_code == 200
    def main(response):
        html = response.get_data(as_text=True)
        return html[html.index("<main"):html.index("</main>")]

    assert main(response) == main(client.get("/groepen/"))


def test_navigation_has_absence_for_everyone(family, client):
    login_as(client, family.eva)
    assert 'href="/absentie/"' in client.get("/groepen/").get_data(as_text=True)


# -- the office -----------------------------------------------------------------


@pytest.fixture
def office(family, client):
    from .factories import make_admin

    admin = make_admin()
    zoe = make_student(family.group, first_name='Zoë "Zo"', last_name="de Wit, jr.",
                       number="10003")
    sahin = make_student(family.other_group, first_name="Elif", last_name="Şahin",
                         number="10004")
    make_absence(family.sem, day=MONDAY, by=family.eva)
    make_absence(zoe, day=MONDAY, reason=family.reasons["Tandarts"], by=family.eva,
                 starts_at=time(9), ends_at=time(10, 15))
    make_absence(sahin, day=TUESDAY, reason=family.reasons["Huisarts"], by=family.eva)
    make_absence(family.noah, day=MONDAY, withdrawn_at=clock.now())
    make_absence(family.noah, day=date(2026, 9, 1))
    db.session.commit()
    login_as(client, admin)
    return admin


def test_office_lists_today_by_default_and_filters(office, family, client):
    page = seen(client.get("/absentie/administratie"))
    assert "Sem Jansen" in page and 'Zoë "Zo" de Wit, jr.' in page
    assert "Şahin" not in page and "Noah" not in page

    page = seen(client.get("/absentie/administratie?date_from=2026-09-14&date_to=2026-09-15"))
    assert "Şahin" in page and "Sem Jansen" in page

    page = seen(client.get(
        f"/absentie/administratie?date_from=2026-09-14&date_to=2026-09-15&group={family.group.id}"
    ))
    assert "Sem Jansen" in page and "Şahin" not in page

    page = seen(client.get("/absentie/administratie?date_from=2026-09-14&date_to=2026-09-15"
                              "&reason=sick"))
    assert "Sem Jansen" in page and "Zoë" not in page

    page = seen(client.get("/absentie/administratie?date_from=2026-09-14&date_to=2026-09-15"
                              f"&reason={family.reasons['Huisarts'].id}"))
    assert "Şahin" in page and "Sem Jansen" not in page

    page = seen(client.get("/absentie/administratie?date_from=2026-09-14&date_to=2026-09-14"
                              "&withdrawn=y"))
    assert "Noah Dekker" in page and "ingetrokken" in page


def test_office_filter_with_a_bad_range_says_so(office, client):
    response = client.get("/absentie/administratie?date_from=2026-09-15&date_to=2026-09-14")
    assert response.status_code == 422
    assert "De einddatum ligt voor de begindatum." in seen(response)


def test_csv_export_reads_back_with_names_intact(office, family, client):
    import csv
    import io

    response = client.get("/absentie/administratie/export.csv?date_from=2026-09-14"
                          "&date_to=2026-09-15")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="absenties_2026-09-14_2026-09-15.csv"' in response.headers[
        "Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["leerlingnummer", "naam", "groep", "datum", "van", "tot", "reden",
                       "gemeld_door", "gemeld_op"]
    assert rows[1:] == [
        ["10001", "Sem Jansen", "Groep 3", "2026-09-14", "", "", "Ziek", "Eva Jansen",
         "2026-09-14 07:30"],
        ["10003", 'Zoë "Zo" de Wit, jr.', "Groep 3", "2026-09-14", "09:00", "10:15",
         "Tandarts", "Eva Jansen", "2026-09-14 07:30"],
        ["10004", "Elif Şahin", "Groep 5", "2026-09-15", "10:00", "11:30", "Huisarts",
         "Eva Jansen", "2026-09-14 07:30"],
    ]
    assert b"\r\n" in raw and '"Zoë ""Zo"" de Wit, jr."'.encode() in raw


def test_csv_cells_never_run_as_formulas(family, client):
    from .factories import make_admin

    admin = make_admin()
    trickster = make_guardian(child=family.sem, name="=HYPERLINK(\"http://evil\")")
    make_absence(family.sem, day=MONDAY, by=trickster)
    db.session.commit()
    login_as(client, admin)
    body = client.get("/absentie/administratie/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_export_filter_matches_the_list(office, family, client):
    body = client.get(f"/absentie/administratie/export.csv?group={family.other_group.id}"
                      "&date_from=2026-09-01&date_to=2026-09-30").get_data(as_text=True)
    lines = body.strip().splitlines()
    assert len(lines) == 3  # header, Şahin on the 15th, Noah on the 1st (the withdrawn one not)
    assert "Noah Dekker" in body and "Şahin" in body


# -- reasons and closed days ----------------------------------------------------


def test_admin_adds_and_hides_reasons(office, family, client, make_client):
    assert client.post("/absentie/beheer/redenen", data={"name": " Logopedie "}).status_code == 303
    for bad, message in (("logopedie", "Deze reden bestaat al."),
                         ("Ziek", "Ziek is er altijd al"), ("", "Vul een reden in.")):
        response = client.post("/absentie/beheer/redenen", data={"name": bad})
        assert response.status_code == 422
        assert message in seen(response)
    tandarts = family.reasons["Tandarts"]
    assert client.post(f"/absentie/beheer/redenen/{tandarts.id}").status_code == 303

    parent = make_client()
    login_as(parent, family.eva)
    html = parent.get("/absentie/").get_data(as_text=True)
    assert ">Logopedie</option>" in html and ">Tandarts</option>" not in html
    # Earlier reports keep their reason.
    assert "Tandarts" in seen(client.get("/absentie/administratie"))

    client.post(f"/absentie/beheer/redenen/{tandarts.id}")
    assert ">Tandarts</option>" in parent.get("/absentie/").get_data(as_text=True)


def test_staff_land_on_their_own_absence_page(office, family, client, make_client):
    assert client.get("/absentie/").headers["Location"].endswith("/absentie/administratie")
    teacher = make_client()
    login_as(teacher, family.anna)
    assert teacher.get("/absentie/").headers["Location"].endswith("/absentie/overzicht")


# -- demo -----------------------------------------------------------------------


def test_demo_has_absences_in_groep_3_today(app, make_client):
    from parro.demo import create_demo
    from parro.models import User

    at(MONDAY, 8, 0)
    create_demo()
    client = make_client()
    login_as(client, db.session.scalar(select(User).where(User.email == "juf.anna@example.org")))
    page = seen(client.get("/"))
    assert "Ziek hele dag" in page
    assert page.count("Tandarts") + page.count("Huisarts") + page.count("Orthodontist") >= 2
