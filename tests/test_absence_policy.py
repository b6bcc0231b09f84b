"""Who may report, withdraw and see absences; the school calendar the rules count in."""

from __future__ import annotations

from datetime import date

import pytest

from parro import clock, policy
from parro.absence import service
from parro.extensions import db

from .factories import (
    make_absence,
    make_admin,
    make_group,
    make_guardian,
    make_holiday,
    make_student,
    make_teacher,
    make_year,
)
from .test_absence import FRIDAY, MONDAY, NEXT_MONDAY, SATURDAY, TUESDAY, at


@pytest.fixture
def school(app):
    at(MONDAY)
    group, other = make_group("Groep 3"), make_group("Groep 5", grade=5)
    sem = make_student(group, first_name="Sem")
    gone = make_student(make_group("Groep 8", grade=8, year=make_year("2025-2026")),
                        first_name="Oud")  # only in last year's group
    people = {
        "guardian": make_guardian(children=[sem, gone]),
        "other_guardian": make_guardian(child=make_student(other)),
        "teacher": make_teacher(group),
        "other_teacher": make_teacher(other),
        "admin": make_admin(),
    }
    db.session.commit()
    return {"group": group, "sem": sem, "gone": gone, **people}


def test_only_a_guardian_reports_their_own_child_in_a_group(school):
    assert policy.can_report_absence(school["guardian"], school["sem"])
    assert not policy.can_report_absence(school["guardian"], school["gone"])
    for who in ("other_guardian", "teacher", "other_teacher", "admin"):
        assert not policy.can_report_absence(school[who], school["sem"]), who
    assert [s.first_name for s in policy.reportable_children(school["guardian"])] == ["Sem"]
    assert policy.reportable_children(school["teacher"]) == []


def test_only_the_childs_guardians_withdraw(school):
    report = make_absence(school["sem"], day=TUESDAY)
    assert policy.can_withdraw_absence(school["guardian"], report)
    for who in ("other_guardian", "teacher", "admin"):
        assert not policy.can_withdraw_absence(school[who], report), who


def test_teachers_see_their_groups_and_the_office_sees_all(school):
    group = school["group"]
    assert policy.can_see_absences_of_group(school["teacher"], group)
    assert policy.can_see_absences_of_group(school["admin"], group)
    assert not policy.can_see_absences_of_group(school["other_teacher"], group)
    assert not policy.can_see_absences_of_group(school["guardian"], group)
    assert policy.can_manage_absences(school["admin"])
    assert not policy.can_manage_absences(school["teacher"])


def test_school_days_skip_weekends_and_holidays(app):
    make_holiday(date(2026, 9, 22), date(2026, 9, 23), name="Studiedagen")
    assert service.closed_reason(SATURDAY) == "weekend"
    assert service.closed_reason(date(2026, 9, 23)) == "Studiedagen"
    assert service.closed_reason(MONDAY) is None
    assert service.next_school_day(FRIDAY) == NEXT_MONDAY
    assert service.next_school_day(NEXT_MONDAY) == date(2026, 9, 24)
    assert service.school_day_after(SATURDAY, 0) == NEXT_MONDAY
    assert service.school_day_after(MONDAY, 0) == MONDAY
    assert service.school_day_after(FRIDAY, 2) == date(2026, 9, 24)


@pytest.mark.parametrize(
    "today, days, earliest",
    [
        (MONDAY, 1, TUESDAY),
        (FRIDAY, 1, NEXT_MONDAY),
        (SATURDAY, 1, NEXT_MONDAY),
        (MONDAY, 0, MONDAY),
        (SATURDAY, 0, NEXT_MONDAY),
        (FRIDAY, 3, date(2026, 9, 23)),
    ],
)
def test_earliest_appointment_day(make_app, today, days, earliest):
    app = make_app(ABSENCE_APPOINTMENT_MIN_SCHOOL_DAYS=days)
    with app.app_context():
        at(today)
        assert service.earliest_appointment_day() == earliest


def test_cutoff_accepts_a_dot_and_no_leading_zero(make_app):
    with make_app(ABSENCE_SICK_CUTOFF="8.45").app_context():
        at(MONDAY, 8, 44)
        assert not service.is_after_cutoff()
        at(MONDAY, 8, 45)
        assert service.is_after_cutoff()
        clock.set_now(None)
