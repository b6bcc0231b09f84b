"""Reports phoned in to the school: the office and a child's teachers record them, marked
"gemeld door: administratie, telefonisch" (or the teacher), in the overview and the CSV;
the guardians who asked for receipts get one. Monday 14 September 2026, 07:30."""

from __future__ import annotations

import csv
import io
import re
from datetime import time

import pytest
from sqlalchemy import func, select

from parro.extensions import db
from parro.models import AbsenceKind, AbsencePreference, AbsenceReport, OutboxMail

from .factories import make_admin, make_group, make_guardian, make_student
from .helpers import login_as
from .test_absence import MONDAY, at, make_family, reports, seen


@pytest.fixture
def family(app):
    return make_family()


@pytest.fixture
def admin(family):
    office = make_admin(name="Administratie", email="office@example.org")
    db.session.commit()
    return office


def phoned_sick(client, student):
    return client.post("/absentie/telefonisch/ziek", data={"sick-student": student.id})


def phoned_appointment(client, student, reason, day="2026-09-14", start="10:00", end="11:00",
                       note=""):
    return client.post("/absentie/telefonisch/afspraak", data={
        "appt-student": student.id, "appt-day": day, "appt-starts_at": start,
        "appt-ends_at": end, "appt-reason": reason.id, "appt-note": note})


def csv_rows(client) -> list[list[str]]:
    body = client.get("/absentie/administratie/export.csv").get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))


def test_office_records_a_phoned_in_sick_report(family, admin, client, make_client):
    dad = make_guardian(child=family.sem, name="Tom Jansen", email="tom@example.org")
    db.session.add(AbsencePreference(user_id=family.eva.id, email_receipt=True))
    db.session.commit()
    login_as(client, admin)
    page = client.get("/absentie/telefonisch").get_data(as_text=True)
    # Every child of this year, none chosen beforehand.
    assert re.search(r'<option selected value="">Kies een kind</option>', page)
    assert "Sem Jansen (Groep 3)" in page and "Noah Dekker (Groep 5)" in page

    response = phoned_sick(client, family.sem)
    assert response.status_code == 303
    assert "Sem Jansen staat ziek gemeld voor vandaag, telefonisch doorgegeven." in seen(
        client.get(response.headers["Location"]))
    [report] = reports()
    assert (report.kind, report.by_phone, report.reported_by_id) == (
        AbsenceKind.SICK, True, admin.id)

    # In the teacher's morning overview like any other, marked as phoned in.
    teacher = make_client()
    login_as(teacher, family.anna)
    assert "Sem Jansen Ziek hele dag gemeld door: administratie, telefonisch" in seen(
        teacher.get("/"))
    # The guardian who asked for receipts gets one; the other does not.
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert mail.recipient == "eva@example.org"
    assert "U heeft Sem Jansen ziek gemeld" not in mail.body_text
    assert ("Sem Jansen is ziek gemeld voor maandag 14 september 2026 (gemeld door: "
            "administratie, telefonisch).") in mail.body_text
    assert dad.email not in [m.recipient for m in db.session.scalars(select(OutboxMail))]
    # The guardians see it among their reports.
    parent = make_client()
    login_as(parent, family.eva)
    assert "gemeld door: administratie, telefonisch" in seen(parent.get("/absentie/"))
    # And the CSV says who reported.
    assert csv_rows(client)[1][7] == "administratie, telefonisch"


def test_a_teacher_records_an_appointment_for_today(family, admin, client):
    login_as(client, family.anna)
    response = phoned_appointment(client, family.sem, family.reasons["Huisarts"],
                                  note="Opa haalt hem op.")
    assert response.status_code == 303
    [report] = reports()
    assert (report.day, report.starts_at, report.by_phone) == (MONDAY, time(10), True)
    office = client.application.test_client()
    login_as(office, admin)
    assert csv_rows(office)[1][6:8] == ["Huisarts", "Anna de Boer, telefonisch"]
    assert "Anna de Boer, telefonisch" in seen(office.get("/absentie/administratie"))


def test_a_teacher_cannot_record_for_a_child_outside_their_groups(family, client):
    login_as(client, family.ilse)  # groep 5; Sem is in groep 3
    page = client.get("/absentie/telefonisch").get_data(as_text=True)
    assert "Noah Dekker (Groep 5)" in page and "Sem Jansen" not in page
    response = phoned_sick(client, family.sem)
    assert response.status_code == 422
    assert "Kies een kind uit uw eigen groepen." in seen(response)
    response = phoned_appointment(client, family.sem, family.reasons["Huisarts"])
    assert response.status_code == 422
    assert reports() == []
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0


@pytest.mark.parametrize("data, message", [
    ({"sick-student": ""}, "Kies een kind."),
    ({"sick-student": "abc"}, "Kies een kind"),
    ({"sick-student": "999999"}, "Kies een kind uit uw eigen groepen."),
])
def test_a_bad_child_is_refused(family, admin, client, data, message):
    login_as(client, admin)
    response = client.post("/absentie/telefonisch/ziek", data=data)
    assert response.status_code == 422
    assert message in seen(response)
    assert reports() == []


def test_a_phoned_appointment_in_the_past_or_on_a_closed_day_is_refused(family, admin, client):
    login_as(client, admin)
    response = phoned_appointment(client, family.sem, family.reasons["Huisarts"],
                                  day="2026-09-11")
    assert response.status_code == 422
    assert "Deze datum is al voorbij." in seen(response)
    response = phoned_appointment(client, family.sem, family.reasons["Huisarts"],
                                  day="2026-09-19")
    assert "Op zaterdag 19 september is er geen school (weekend)." in seen(response)
    response = phoned_appointment(client, family.sem, family.reasons["Huisarts"],
                                  start="11:00", end="10:00")
    assert "De eindtijd moet na de begintijd liggen." in seen(response)
    assert reports() == []


def test_the_same_child_twice_is_said_once(family, admin, client):
    login_as(client, admin)
    phoned_sick(client, family.sem)
    response = phoned_sick(client, family.sem)
    assert response.status_code == 422
    assert "Sem is vandaag al ziek gemeld." in seen(response)
    assert len(reports()) == 1


def test_guardians_page_chooses_no_child_for_them(family, client):
    lotte = make_student(make_group("Groep 6", grade=6), first_name="Lotte", last_name="Jansen")
    from parro.models import Guardianship

    db.session.add(Guardianship(user=family.eva, student=lotte))
    db.session.commit()
    login_as(client, family.eva)
    html = client.get("/absentie/").get_data(as_text=True)
    assert html.count('<option selected value="">Kies een kind</option>') == 2
    assert not re.search(r'<option selected value="\d+">', html)
    response = client.post("/absentie/ziek", data={"sick-student": ""})
    assert response.status_code == 422
    assert "Kies een kind." in seen(response)
    assert db.session.scalar(select(func.count(AbsenceReport.id))) == 0
    at(MONDAY, 7, 31)
