"""Days without school: weekends and the calendar's holidays and study days.

The one list the absence rules and the conference planner read. An item
without groups closes the school for everyone; an item with groups only for
children in those groups (`group_id` None asks about the whole school). Each school has
its own calendar: every function takes the school (`school_id`; None: the one the
request works in), a child's own school for a guardian's child.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..extensions import db
from ..models import CalendarItem, CalendarKind

WEEKEND = 5  # Saturday is weekday 5
HORIZON = 800  # days; a calendar closed for longer than this is a mistake


def no_school_between(first: date, last: date, school_id: int | None = None
                      ) -> list[CalendarItem]:
    """The school's holidays and study days that touch [first, last], with their groups."""
    if school_id is None:
        school_id = policy.current_school_id()
    return list(
        db.session.scalars(
            select(CalendarItem)
            .options(selectinload(CalendarItem.groups))
            .where(
                CalendarItem.school_id == school_id,
                CalendarItem.kind.in_([CalendarKind.HOLIDAY, CalendarKind.STUDY_DAY]),
                CalendarItem.starts_on <= last,
                CalendarItem.ends_on >= first,
            )
            .order_by(CalendarItem.starts_on, CalendarItem.id)
        )
    )


def closed_reason(day: date, group_id: int | None = None,
                  items: list[CalendarItem] | None = None,
                  school_id: int | None = None) -> str | None:
    """Why there is no school on `day` ("weekend" or the item's title), or None."""
    if day.weekday() >= WEEKEND:
        return _("weekend")
    if items is None:
        items = no_school_between(day, day, school_id)
    for item in items:
        if item.starts_on <= day <= item.ends_on and item.applies_to(group_id):
            return item.title
    return None


def closed_for_all(day: date, group_ids: Iterable[int],
                   items: list[CalendarItem] | None = None,
                   school_id: int | None = None) -> str | None:
    """Why none of these groups has school on `day`, or None when one of them has."""
    ids = list(group_ids) or [None]
    if items is None:
        items = no_school_between(day, day, school_id)
    reasons = [closed_reason(day, group_id, items) for group_id in ids]
    return reasons[0] if all(reasons) else None


def is_school_day(day: date, group_id: int | None = None, school_id: int | None = None) -> bool:
    return closed_reason(day, group_id, school_id=school_id) is None


def school_day_after(day: date, count: int = 1, group_ids: Iterable[int] = (),
                     school_id: int | None = None) -> date:
    """The `count`-th school day after `day` (for any of `group_ids`, or the whole school);
    with 0, `day` itself if there is school."""
    ids = list(group_ids)
    items = no_school_between(day, day + timedelta(days=HORIZON), school_id)
    current, left = day, count
    for _step in range(HORIZON):
        if left <= 0 and closed_for_all(current, ids, items) is None:
            return current
        current += timedelta(days=1)
        if closed_for_all(current, ids, items) is None:
            left -= 1
    return current


def next_school_day(day: date, group_ids: Iterable[int] = (), school_id: int | None = None
                    ) -> date:
    return school_day_after(day, 1, group_ids, school_id)
