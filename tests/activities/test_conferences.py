"""Oudergesprekken: planning a round, booking, changing, and what goes wrong."""

from __future__ import annotations

import threading
from datetime import date, time

import pytest
from sqlalchemy import func, select

from parro import clock
from parro.extensions import db
from parro.models import Activity, Booking, Guardianship, OutboxMail, SeparateBookings, Slot

from ..factories import (
    make_conference,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
)
from ..helpers import count_queries, login_as, text_of
from .conftest import AMS, at


@pytest.fixture
def school(app):
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    teacher = make_teacher(group, name="Anna de Boer")
    mother = make_guardian(child=sem, name="Eva Jansen")
    father = make_guardian(child=sem, name="Tom Jansen")
    db.session.commit()
    return {"group": group, "sem": sem, "teacher": teacher, "mother": mother, "father": father}


def bookings():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Booking.id)))


def conference_form(group, **overrides):
    data = {
        "title": "Oudergesprekken maart",
        "description": "Tien minuten over hoe het gaat.",
        "location": "Lokaal 3",
        "groups": [str(group.id)],
        "days-0-date": "2027-03-10",
        "days-0-start": "14:00",
        "days-0-end": "16:00",
        "days-0-breaks": "15:00-15:20",
        "days-1-date": "2027-03-11",
        "days-1-start": "18:30",
        "days-1-end": "19:30",
        "days-1-breaks": "",
        "slot_minutes": "10",
        "opens_date": "2027-03-02",
        "opens_time": "19:00",
        "early_days": "2",
        "deadline_date": "2027-03-08",
        "deadline_time": "23:59",
    }
    data.update(overrides)
    return data


# -- planning -------------------------------------------------------------------------


def test_teacher_plans_a_round_and_the_app_makes_the_slots(app, client, school):
    login_as(client, school["teacher"])
    page = client.get("/activiteiten/nieuw/oudergesprekken")
    assert page.status_code == 200
    assert "Tijden maken" in text_of(page)

    response = client.post("/activiteiten/nieuw/oudergesprekken",
                           data=conference_form(school["group"]))
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert response.headers["Location"].endswith(f"/activiteiten/{activity.id}")
    starts = [s.starts_at.astimezone(AMS).strftime("%d %H:%M") for s in activity.slots]
    # 14:00–15:00 (6), break 15:00–15:20, 15:20–16:00 (4); 18:30–19:30 (6)
    assert len(starts) == 16
    assert starts[:7] == ["10 14:00", "10 14:10", "10 14:20", "10 14:30", "10 14:40", "10 14:50",
                          "10 15:20"]
    assert starts[-1] == "11 19:20"
    assert activity.opens_at == at(2027, 3, 2, 19, 0)
    assert activity.deadline == at(2027, 3, 8, 23, 59)
    assert activity.early_days == 2
    assert [g.id for g in activity.groups] == [school["group"].id]

    page = client.get(response.headers["Location"])
    assert "Oudergesprekken maart" in text_of(page)
    assert "De activiteit staat klaar" in text_of(page)


def test_a_break_that_does_not_fit_the_talks_is_fitted_and_the_slots_shift(client, school):
    login_as(client, school["teacher"])
    page = client.get("/activiteiten/nieuw/oudergesprekken").get_data(as_text=True)
    assert 'placeholder="15:30-15:45"' not in page  # an empty break field looks empty
    response = client.post("/activiteiten/nieuw/oudergesprekken", data=conference_form(
        school["group"], **{"days-0-breaks": "14:55-15:10"}))
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    starts = [s.starts_at.astimezone(AMS).strftime("%H:%M") for s in activity.slots
              if s.starts_at.astimezone(AMS).day == 10]
    # 14:00–14:50 (a talk at 14:50 would run into the break, which now starts then), the
    # break until 15:10, then the talks shift: 15:10–16:00.
    assert starts == ["14:00", "14:10", "14:20", "14:30", "14:40",
                      "15:10", "15:20", "15:30", "15:40", "15:50"]


def test_the_form_suggests_the_configured_number_of_early_days(make_client, school):
    client = make_client(ACTIVITIES_EARLY_DAYS=5)
    login_as(client, school["teacher"])
    html = client.get("/activiteiten/nieuw/oudergesprekken").get_data(as_text=True)
    assert 'name="early_days" type="number" value="5"' in html or 'value="5"' in html


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"days-0-end": "15:55", "days-0-breaks": ""},
         ("Van 14:00 tot 15:55 passen geen hele gesprekken van 10 minuten: er blijven 5 minuten "
          "over. Laat dit blok bijvoorbeeld om 15:50 eindigen.")),
        ({"days-1-date": "2027-03-10", "days-1-start": "15:30", "days-1-end": "17:00"},
         "Deze tijden overlappen met dag 1 (14:00–16:00 op dezelfde datum)."),
        ({"deadline_date": "2027-02-27"}, "Deze datum is al voorbij."),
        ({"deadline_date": "2027-03-10", "deadline_time": "15:00"},
         "Het inschrijven moet sluiten voordat het eerste gesprek begint"),
        ({"days-0-end": "13:00"}, "De eindtijd moet na de begintijd liggen."),
        ({"days-0-breaks": "koffie"},
         "Schrijf een pauze als begin en eind, bijvoorbeeld 15:30-15:45."),
        ({"days-0-breaks": "16:30-16:45"}, "De pauze 16:30-16:45 valt niet binnen 14:00–16:00."),
        ({"days-0-end": "14:15", "days-0-breaks": "14:05-14:10", "days-1-date": "",
          "days-1-start": "", "days-1-end": ""},
         "Tussen de pauzes past geen gesprek van 10 minuten."),
        ({"days-0-date": "2027-02-20", "deadline_date": "2027-02-19"},
         "Deze dag is al (deels) voorbij."),
        ({"days-0-start": ""}, "Vul de begintijd in."),
        ({"slot_minutes": "0"}, "Kies tussen 5 en 120 minuten."),
        ({"opens_date": "2027-03-09"}, "Het inschrijven moet openen vóór het sluiten."),
        ({"groups": []}, "Kies minstens één groep."),
        ({"title": ""}, "Geef de activiteit een titel."),
        ({"days-0-date": "", "days-0-start": "", "days-0-end": "", "days-0-breaks": "",
          "days-1-date": "", "days-1-start": "", "days-1-end": ""},
         "Vul minstens één dag in met een begin- en eindtijd."),
    ],
)
def test_a_plan_that_does_not_work_gets_a_clear_message_and_nothing_is_made(
    client, school, overrides, message
):
    login_as(client, school["teacher"])
    response = client.post(
        "/activiteiten/nieuw/oudergesprekken", data=conference_form(school["group"], **overrides)
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert "Controleer de velden hieronder." in text_of(response)
    assert db.session.scalar(select(func.count(Activity.id))) == 0
    assert db.session.scalar(select(func.count(Slot.id))) == 0


def test_a_round_for_a_group_you_do_not_teach_is_refused(client, school):
    other = make_group("Groep 5", grade=5)
    db.session.commit()
    login_as(client, school["teacher"])
    response = client.post("/activiteiten/nieuw/oudergesprekken",
                           data=conference_form(school["group"], groups=[str(other.id)]))
    assert response.status_code == 403
    response = client.post("/activiteiten/nieuw/oudergesprekken",
                           data=conference_form(school["group"],
                                                groups=[str(school["group"].id), str(other.id)]))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Activity.id))) == 0


def test_guardians_cannot_plan_activities(client, school):
    login_as(client, school["mother"])
    assert client.get("/activiteiten/nieuw/oudergesprekken").status_code == 403
    response = client.post("/activiteiten/nieuw/oudergesprekken",
                           data=conference_form(school["group"]))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Activity.id))) == 0


# -- booking -----------------------------------------------------------------------------


def book(client, activity, slot, child, **extra):
    return client.post(f"/activiteiten/{activity.id}/boeken",
                       data={"slot_id": slot.id, "child_id": child.id, **extra})


def test_guardian_books_a_slot_and_both_guardians_see_it(make_client, school):
    activity = make_conference(school["group"])
    db.session.commit()
    mother, father = make_client(), make_client()
    login_as(mother, school["mother"])
    login_as(father, school["father"])

    page = mother.get(f"/activiteiten/{activity.id}")
    assert "Gesprek voor Sem" in text_of(page)
    assert "Kies een tijd. Elk gesprek duurt 10 minuten." in text_of(page)

    response = book(mother, activity, activity.slots[2], school["sem"])
    assert response.status_code == 303
    page = mother.get(response.headers["Location"])
    assert "Het gesprek voor Sem staat gepland op woensdag 10 maart om 14:20." in text_of(page)
    row = db.session.scalar(select(Booking))
    assert (row.slot_id, row.student_id, row.guardian_id) == (
        activity.slots[2].id, school["sem"].id, None)

    # The other guardian shares the booking: sees it, and may move it.
    page = father.get(f"/activiteiten/{activity.id}")
    assert "woensdag 10 maart om 14:20–14:30" in text_of(page)
    response = father.post(f"/activiteiten/boeking/{row.id}/verplaatsen",
                           data={"slot_id": activity.slots[4].id})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, row.id).slot_id == activity.slots[4].id
    assert db.session.get(Booking, row.id).sequence == 1
    page = text_of(father.get(response.headers["Location"]))
    assert "verplaatst naar woensdag 10 maart om 14:40" in page
    # Guardians changing their own booking get no mail about it.
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 0

    response = mother.post(f"/activiteiten/boeking/{row.id}/annuleren")
    assert response.status_code == 303
    assert bookings() == 0


def test_booking_for_a_child_that_is_not_yours_is_refused(client, school):
    activity = make_conference(school["group"])
    classmate = make_student(school["group"], first_name="Noor")
    db.session.commit()
    login_as(client, school["mother"])
    assert book(client, activity, activity.slots[0], classmate).status_code == 403
    assert bookings() == 0


def test_booking_a_child_outside_the_rounds_groups_is_refused(client, school):
    activity = make_conference(make_group("Groep 4", grade=4))
    make_teacher(activity.groups[0])
    db.session.commit()
    login_as(client, school["mother"])
    # The round is not for Sem's group: the guardian does not even see it.
    assert client.get(f"/activiteiten/{activity.id}").status_code == 403
    assert book(client, activity, activity.slots[0], school["sem"]).status_code == 403
    assert bookings() == 0


def test_booking_after_the_deadline_is_refused(client, school):
    activity = make_conference(school["group"], deadline=at(2027, 3, 1, 8, 0))
    db.session.commit()
    login_as(client, school["mother"])
    page = client.get(f"/activiteiten/{activity.id}")
    assert "Inschrijven is gesloten" in text_of(page)
    response = book(client, activity, activity.slots[0], school["sem"])
    assert response.status_code == 422
    assert "Inschrijven en wijzigen kon tot maandag 1 maart om 08:00." in text_of(response)
    assert bookings() == 0


def test_changing_or_cancelling_after_the_deadline_is_refused(client, school):
    activity = make_conference(school["group"], deadline=at(2027, 3, 5, 12, 0))
    db.session.commit()
    login_as(client, school["mother"])
    assert book(client, activity, activity.slots[0], school["sem"]).status_code == 303
    booking_id = db.session.scalar(select(Booking.id))
    clock.set_now(at(2027, 3, 5, 12, 0))
    login_as(client, school["mother"])  # the old login has expired meanwhile
    response = client.post(f"/activiteiten/boeking/{booking_id}/annuleren")
    assert response.status_code == 422
    assert "Inschrijven en wijzigen kon tot" in text_of(response)
    response = client.post(f"/activiteiten/boeking/{booking_id}/verplaatsen",
                           data={"slot_id": activity.slots[3].id})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).slot_id == activity.slots[0].id


def test_a_second_booking_for_the_same_child_is_refused(make_client, school):
    activity = make_conference(school["group"])
    db.session.commit()
    mother, father = make_client(), make_client()
    login_as(mother, school["mother"])
    login_as(father, school["father"])
    assert book(mother, activity, activity.slots[0], school["sem"]).status_code == 303
    response = book(father, activity, activity.slots[1], school["sem"])
    assert response.status_code == 422
    assert "Voor Sem staat al een gesprek op woensdag 10 maart om 14:00." in text_of(response)
    assert bookings() == 1


def _first_slot_taken(make_client, school):
    """A round whose first slot Sem's mother has just booked, and a client logged in
    as the parent of Noor (in the same group): (activity, that client, Noor)."""
    activity = make_conference(school["group"])
    noor = make_student(school["group"], first_name="Noor")
    other = make_guardian(child=noor)
    db.session.commit()
    first, second = make_client(), make_client()
    login_as(first, school["mother"])
    login_as(second, other)
    assert book(first, activity, activity.slots[0], school["sem"]).status_code == 303
    return activity, second, noor


def test_a_taken_slot_cannot_be_booked(make_client, school):
    activity, second, noor = _first_slot_taken(make_client, school)
    response = book(second, activity, activity.slots[0], noor)
    assert response.status_code == 422
    assert ("Dit tijdstip is net door iemand anders gekozen. Kies een ander tijdstip."
            in text_of(response))
    assert bookings() == 1


def test_a_refused_booking_never_takes_the_write_lock(make_client, school):
    """The usual answer when many families book at once is checked and shown from what the
    request read: on SQLite it neither waits for nor holds the one write lock."""
    activity, second, noor = _first_slot_taken(make_client, school)
    with count_queries(second.application) as q:
        response = book(second, activity, activity.slots[0], noor)
    assert response.status_code == 422
    assert "Dit tijdstip is net door iemand anders gekozen." in text_of(response)
    assert not [s for s in q.executed if s.startswith("BEGIN IMMEDIATE")], q.executed
    assert not [s for s in q.statements
                if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))], q


# The booking page of a guardian, and a refused booking (which shows it again): the login,
# the round with its groups and separate bookings, the family, the slots with their
# bookings, the family's own bookings (for "sluit aan op"), the round's teachers (named on
# the page), the school, the menu's counts.
BOOKING_PAGE_STATEMENTS = 8


def test_the_booking_page_and_a_refused_booking_run_few_statements(make_client, school):
    activity, second, noor = _first_slot_taken(make_client, school)
    # A second child of the family, already booked here and in another round.
    daan = make_student(school["group"], first_name="Daan")
    db.session.add(Guardianship(user_id=noor.guardianships[0].user_id, student=daan))
    other_round = make_conference(school["group"], day=date(2027, 3, 12))
    db.session.add_all([Booking(slot=activity.slots[3], student=daan),
                        Booking(slot=other_round.slots[0], student=daan)])
    db.session.commit()
    url = f"/activiteiten/{activity.id}"

    with count_queries(second.application) as q:
        page = second.get(url)
    assert page.status_code == 200 and "sluit aan op uw gesprek voor Daan" in text_of(page)
    assert q.count == BOOKING_PAGE_STATEMENTS, q
    with count_queries(second.application) as q:
        refused = book(second, activity, activity.slots[0], noor)
    assert refused.status_code == 422
    assert q.count == BOOKING_PAGE_STATEMENTS, q
    # A booking that goes through: the same reads, the family's other conferences at that
    # time (none), and the one INSERT.
    with count_queries(second.application) as q:
        booked = book(second, activity, activity.slots[4], noor)
    assert booked.status_code == 303
    assert q.count == 6, q
    assert bookings() == 4


def test_a_slot_in_the_past_cannot_be_booked(client, school):
    activity = make_conference(school["group"], day=date(2027, 3, 1), start=time(8, 0))
    activity.deadline = at(2027, 3, 1, 12, 0)
    db.session.commit()
    login_as(client, school["teacher"])
    response = book(client, activity, activity.slots[0], school["sem"])
    assert response.status_code == 422
    assert "Dit tijdstip is al voorbij" in text_of(response)
    assert bookings() == 0


def test_a_slot_of_another_round_is_not_found(client, school):
    activity = make_conference(school["group"])
    other = make_conference(school["group"], day=date(2027, 3, 11))
    db.session.commit()
    login_as(client, school["mother"])
    assert book(client, activity, other.slots[0], school["sem"]).status_code == 404
    assert bookings() == 0


def test_before_opening_guardians_wait_and_families_with_several_children_go_first(
    make_client, school
):
    activity = make_conference(school["group"], opens_at=at(2027, 3, 4, 19, 0), early_days=3)
    lotte = make_student(make_group("Groep 6", grade=6), first_name="Lotte", last_name="Jansen")
    noor = make_student(school["group"], first_name="Noor")
    single = make_guardian(child=noor)
    from parro.models import Guardianship

    db.session.add(Guardianship(user=school["mother"], student=lotte))
    db.session.commit()
    family, one_child = make_client(), make_client()
    login_as(family, school["mother"])
    login_as(one_child, single)

    # Monday 1 March: nobody yet.
    page = one_child.get(f"/activiteiten/{activity.id}")
    assert "U kunt inschrijven vanaf donderdag 4 maart om 19:00." in text_of(page)
    page = family.get(f"/activiteiten/{activity.id}")
    assert "U kunt inschrijven vanaf maandag 1 maart om 19:00." in text_of(page)
    assert "mag u 3 dagen eerder" in text_of(page)
    response = book(family, activity, activity.slots[0], school["sem"])
    assert response.status_code == 422
    assert "U kunt inschrijven vanaf maandag 1 maart om 19:00." in text_of(response)

    # Monday evening: the family with two children may book, the other not yet.
    clock.set_now(at(2027, 3, 1, 19, 0))
    assert book(family, activity, activity.slots[0], school["sem"]).status_code == 303
    response = book(one_child, activity, activity.slots[1], noor)
    assert response.status_code == 422
    assert "U kunt inschrijven vanaf donderdag 4 maart om 19:00." in text_of(response)

    clock.set_now(at(2027, 3, 4, 19, 0))
    login_as(one_child, single)
    assert book(one_child, activity, activity.slots[1], noor).status_code == 303
    assert bookings() == 2


def test_free_slots_touching_another_childs_talk_sluiten_aan_and_clashes_are_refused(
        make_client, school):
    """Sem in groep 3 and Lotte in groep 6: two rounds on the same afternoon."""
    groep6 = make_group("Groep 6", grade=6)
    lotte = make_student(groep6, first_name="Lotte", last_name="Jansen")
    from parro.models import Guardianship

    db.session.add(Guardianship(user=school["mother"], student=lotte))
    make_teacher(groep6, name="Meester Bram")
    round3 = make_conference(school["group"], start=time(15, 0), count=6)
    round6 = make_conference(groep6, start=time(15, 0), count=6)
    db.session.commit()
    client = make_client()
    login_as(client, school["mother"])
    assert book(client, round6, round6.slots[2], lotte).status_code == 303  # 15:20–15:30

    page = client.get(f"/activiteiten/{round3.id}")
    text, html = text_of(page), page.get_data(as_text=True)
    # Only 15:10 and 15:30 touch Lotte's talk; 15:00 and 15:40 are ten minutes away.
    assert 'aria-label="Kies 15:10, sluit aan op uw gesprek voor Lotte om 15:20"' in html
    assert 'aria-label="Kies 15:30, sluit aan op uw gesprek voor Lotte om 15:20"' in html
    assert 'aria-label="Kies 15:00"' in html and 'aria-label="Kies 15:40"' in html
    assert html.count("slot slot-near") == 2
    # 15:20 itself: shown, but not to be chosen.
    assert "tegelijk met uw gesprek voor Lotte om 15:20" in text
    assert 'aria-label="Kies 15:20' not in html
    # The teachers are named; the grid stays a grid (no slot takes a whole row).
    page6 = text_of(client.get(f"/activiteiten/{round6.id}"))
    assert "met Meester Bram" in page6
    assert "slot-wide" not in html

    # Whatever the page shows: the server refuses a second talk at the same time.
    response = book(client, round3, round3.slots[2], school["sem"])
    assert response.status_code == 422
    assert "Op dit tijdstip is er al een gesprek voor Lotte" in text_of(response)
    assert bookings() == 1
    # And so does moving to it.
    assert book(client, round3, round3.slots[0], school["sem"]).status_code == 303
    sem_booking = db.session.scalar(select(Booking).where(Booking.activity_id == round3.id))
    response = client.post(f"/activiteiten/boeking/{sem_booking.id}/verplaatsen",
                           data={"slot_id": round3.slots[2].id})
    assert response.status_code == 422
    assert "Twee gesprekken tegelijk gaat niet" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Booking, sem_booking.id).slot_id == round3.slots[0].id


def test_the_teacher_cannot_book_a_family_twice_at_once_either(make_client, school):
    groep6 = make_group("Groep 6", grade=6)
    lotte = make_student(groep6, first_name="Lotte", last_name="Jansen")
    from parro.models import Guardianship

    db.session.add(Guardianship(user=school["mother"], student=lotte))
    round3 = make_conference(school["group"], start=time(15, 0), count=6)
    round6 = make_conference(groep6, start=time(15, 0), count=6)
    db.session.commit()
    mother = make_client()
    login_as(mother, school["mother"])
    assert book(mother, round6, round6.slots[2], lotte).status_code == 303
    teacher = make_client()
    login_as(teacher, school["teacher"])
    response = book(teacher, round3, round3.slots[2], school["sem"])
    assert response.status_code == 422
    assert bookings() == 1


# -- the teacher's side ---------------------------------------------------------------------


def test_teacher_blocks_a_break_and_guardians_cannot_book_it(make_client, school):
    activity = make_conference(school["group"])
    db.session.commit()
    teacher, mother = make_client(), make_client()
    login_as(teacher, school["teacher"])
    login_as(mother, school["mother"])
    slot = activity.slots[3]
    response = teacher.post(f"/activiteiten/tijd/{slot.id}/blokkeren", data={"on": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).blocked
    response = book(mother, activity, slot, school["sem"])
    assert response.status_code == 422
    assert "Op dit tijdstip kan geen gesprek worden gepland." in text_of(response)
    assert bookings() == 0

    response = teacher.post(f"/activiteiten/tijd/{slot.id}/blokkeren", data={"on": "0"})
    assert response.status_code == 303
    assert book(mother, activity, slot, school["sem"]).status_code == 303
    # A booked slot cannot be blocked.
    response = teacher.post(f"/activiteiten/tijd/{slot.id}/blokkeren", data={"on": "1"})
    assert response.status_code == 422
    assert "Op dit tijdstip staat al een gesprek." in text_of(response)
    db.session.expire_all()
    assert not db.session.get(Slot, slot.id).blocked


def test_teacher_sees_who_has_not_booked_books_for_a_family_and_moves_it(make_client, school):
    activity = make_conference(school["group"])
    noor = make_student(school["group"], first_name="Noor", last_name="Bakker")
    make_guardian(child=noor, name="Linda Bakker", email="linda@example.org")
    db.session.commit()
    teacher = make_client()
    login_as(teacher, school["teacher"])

    page = text_of(teacher.get(f"/activiteiten/{activity.id}"))
    assert "Nog niet ingeschreven (2)" in page
    assert "0 van 2 kinderen ingeschreven" in page

    response = book(teacher, activity, activity.slots[1], noor)
    assert response.status_code == 303
    mail = db.session.scalar(select(OutboxMail))
    assert mail.recipient == "linda@example.org"
    assert ("De leerkracht heeft voor Noor een gesprek gepland: woensdag 10 maart om 14:10."
            in mail.body_text)

    booking = db.session.scalar(select(Booking))
    response = teacher.post(f"/activiteiten/boeking/{booking.id}/verplaatsen",
                            data={"slot_id": activity.slots[5].id})
    assert response.status_code == 303
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert "verplaatst naar woensdag 10 maart om 14:50" in mails[-1].body_text

    page = text_of(teacher.get(f"/activiteiten/{activity.id}"))
    assert "Nog niet ingeschreven (1)" in page
    assert "1 van 2 kinderen ingeschreven" in page

    schedule = teacher.get(f"/activiteiten/{activity.id}/rooster")
    assert schedule.status_code == 200
    text = text_of(schedule)
    assert "14:50–15:00 Noor Bakker Linda Bakker" in text
    assert "Nog niet ingeschreven Sem Jansen" in text

    # After the deadline the teacher can still change things.
    clock.set_now(at(2027, 3, 9, 9, 0))
    login_as(teacher, school["teacher"])
    response = teacher.post(f"/activiteiten/boeking/{booking.id}/annuleren")
    assert response.status_code == 303
    assert bookings() == 0
    last = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()[-1]
    assert "geannuleerd" in last.body_text


def test_guardians_who_live_apart_each_book_their_own_talk(make_client, school):
    activity = make_conference(school["group"])
    db.session.commit()
    teacher, mother, father = make_client(), make_client(), make_client()
    login_as(teacher, school["teacher"])
    login_as(mother, school["mother"])
    login_as(father, school["father"])
    assert book(mother, activity, activity.slots[0], school["sem"]).status_code == 303

    response = teacher.post(f"/activiteiten/{activity.id}/apart",
                            data={"child_id": school["sem"].id, "on": "1"})
    assert response.status_code == 303
    # The family's booking became the mother's own; the father may now book his.
    assert db.session.scalar(select(Booking.guardian_id)) == school["mother"].id
    page = text_of(father.get(f"/activiteiten/{activity.id}"))
    assert "Kies een tijd." in page
    assert book(father, activity, activity.slots[3], school["sem"]).status_code == 303
    response = book(father, activity, activity.slots[4], school["sem"])
    assert response.status_code == 422
    assert bookings() == 2
    # Neither can touch the other's booking.
    mine = db.session.scalar(select(Booking).where(Booking.guardian_id == school["mother"].id))
    assert father.post(f"/activiteiten/boeking/{mine.id}/annuleren").status_code == 403
    assert bookings() == 2

    # Back to one booking: refused while there are two.
    response = teacher.post(f"/activiteiten/{activity.id}/apart",
                            data={"child_id": school["sem"].id, "on": "0"})
    assert response.status_code == 422
    assert "Voor Sem staan al 2 gesprekken" in text_of(response)
    assert db.session.scalar(select(func.count(SeparateBookings.id))) == 1


def test_teacher_books_for_one_guardian_when_separate(make_client, school):
    activity = make_conference(school["group"])
    db.session.add(SeparateBookings(activity_id=activity.id, student_id=school["sem"].id))
    db.session.commit()
    teacher = make_client()
    login_as(teacher, school["teacher"])
    response = book(teacher, activity, activity.slots[0], school["sem"])
    assert response.status_code == 422
    assert "kies voor welke ouder" in text_of(response)
    response = book(teacher, activity, activity.slots[0], school["sem"],
                    guardian_id=school["father"].id)
    assert response.status_code == 303
    assert db.session.scalar(select(Booking.guardian_id)) == school["father"].id


# -- the database holds -----------------------------------------------------------------------


def test_ten_guardians_clicking_the_same_slot_at_once_get_it_once(app, make_client, school):
    """Each thread is its own browser on its own app instance; one wins, nine are told."""
    activity = make_conference(school["group"])
    families = []
    for i in range(10):
        child = make_student(school["group"], first_name=f"Kind{i}")
        families.append((child, make_guardian(child=child)))
    db.session.commit()
    slot_id = activity.slots[0].id
    clients = []
    for _child, guardian in families:
        c = make_client()
        login_as(c, guardian)
        clients.append(c)
    url = f"/activiteiten/{activity.id}/boeken"
    child_ids = [child.id for child, _guardian in families]
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def attempt(i):
        barrier.wait()
        r = clients[i].post(url, data={"slot_id": slot_id, "child_id": child_ids[i]})
        results[i] = (r.status_code, text_of(r))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = sorted(status for status, _text in results)
    assert statuses == [303] + [422] * 9, results
    taken = "Dit tijdstip is net door iemand anders gekozen. Kies een ander tijdstip."
    for status, text in results:
        if status == 422:
            assert taken in text
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.slot_id == slot_id)) == 1
    assert bookings() == 1


def test_the_database_refuses_a_second_booking_of_a_slot_or_child(app, school):
    """The constraints themselves, without the service's checks."""
    from sqlalchemy.exc import IntegrityError

    activity = make_conference(school["group"])
    noor = make_student(school["group"], first_name="Noor")
    db.session.commit()
    a, slots, sem = activity.id, [s.id for s in activity.slots], school["sem"].id
    mother, father, noor = school["mother"].id, school["father"].id, noor.id

    def insert(slot, student, guardian=None):
        db.session.add(Booking(activity_id=a, slot_id=slot, student_id=student,
                               guardian_id=guardian))
        db.session.commit()

    insert(slots[0], sem)
    for args in ((slots[0], noor), (slots[1], sem)):  # the same slot; the same child
        with pytest.raises(IntegrityError):
            insert(*args)
        db.session.rollback()
    # Separate bookings: one per guardian, not two for the same guardian.
    insert(slots[2], noor, mother)
    insert(slots[3], noor, father)
    with pytest.raises(IntegrityError):
        insert(slots[4], noor, father)
    db.session.rollback()
    # A booking's activity always matches its slot's (composite foreign key).
    other = make_conference(school["group"], day=date(2027, 3, 12))
    db.session.commit()
    db.session.add(Booking(activity_id=other.id, slot_id=slots[5], student_id=noor))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert bookings() == 3


# -- cost ----------------------------------------------------------------------------------------


def _statements_of(client, url) -> int:
    """SQL statements the request runs."""
    with count_queries(client.application) as q:
        assert client.get(url).status_code == 200
    return q.count


@pytest.mark.parametrize("who", ["teacher", "guardian"])
def test_the_round_page_costs_the_same_for_a_small_or_a_big_group(make_client, school, who):
    counts = []
    for families, slots in ((3, 10), (20, 40)):
        group = make_group()
        teacher = make_teacher(group)
        activity = make_conference(group, count=slots)
        children = [make_student(group) for _ in range(families)]
        guardians = [make_guardian(child=c) for c in children]
        for i, child in enumerate(children[1:]):
            db.session.add(Booking(slot=activity.slots[i], student=child))
        db.session.commit()
        client = make_client()
        login_as(client, teacher if who == "teacher" else guardians[0])
        counts.append(_statements_of(client, f"/activiteiten/{activity.id}"))
    assert counts[0] == counts[1], counts


def test_booking_needs_the_forms_csrf_token(make_client, school):
    from ..helpers import csrf_token

    activity = make_conference(school["group"])
    db.session.commit()
    client = make_client(WTF_CSRF_ENABLED=True)
    login_as(client, school["mother"])
    data = {"slot_id": activity.slots[0].id, "child_id": school["sem"].id}
    url = f"/activiteiten/{activity.id}/boeken"
    assert client.post(url, data=data).status_code == 400
    assert bookings() == 0
    token = csrf_token(client.get(f"/activiteiten/{activity.id}").get_data(as_text=True))
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 303
    assert bookings() == 1
