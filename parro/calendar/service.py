"""The jaarkalender: what each user sees, what the office enters and imports.

An .ics import (the official school holidays are published that way) is read
whole before anything is stored: a file that cannot be read, that holds more
than CALENDAR_IMPORT_MAX_EVENTS events or an event that ends before it starts
changes nothing. Importing the same file again updates its items (matched on
the event's UID) instead of adding them twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only, selectinload

from .. import clock, policy
from ..extensions import db
from ..forms import FieldError
from ..models import (
    CalendarItem,
    CalendarItemGroup,
    CalendarKind,
    Group,
    School,
    SchoolYear,
    User,
)
from ..sql import GROUP_IDS, LIMIT, prebuilt

KIND_LABELS = {
    CalendarKind.HOLIDAY: _l("Vakantie of vrije dag"),
    CalendarKind.STUDY_DAY: _l("Studiedag"),
    CalendarKind.EVENT: _l("Activiteit"),
}
# What a parent reads next to the title.
KIND_NOTES = {
    CalendarKind.HOLIDAY: _l("geen school"),
    CalendarKind.STUDY_DAY: _l("studiedag: geen school voor de kinderen"),
    CalendarKind.EVENT: None,
}
AUTO = "auto"  # an import's kind: read from each title
MAX_DAYS = 366  # one item spans at most a year
TITLE_MAX, LOCATION_MAX, DESCRIPTION_MAX = 120, 120, 2000


class CalendarError(FieldError):
    """Input the calendar refuses."""


# -- what people see ----------------------------------------------------------------


SCHOOL_IDS = bindparam("school_ids", expanding=True)
FIRST = bindparam("first", type_=Date())
LAST = bindparam("last", type_=Date())


# What the block of coming items above the feed shows of an item (calendar/_item.html
# with show_description=false) and of its groups, with the versions in its key.
_SHOWN = (CalendarItem.id, CalendarItem.version, CalendarItem.kind, CalendarItem.title,
          CalendarItem.location, CalendarItem.starts_on, CalendarItem.ends_on,
          CalendarItem.starts_at, CalendarItem.ends_at,
          CalendarItem.school_id)  # whose school's name a family at two schools reads


@prebuilt
def _between(everything: bool, brief: bool):
    """Items of the schools SCHOOL_IDS that touch [FIRST, LAST], in date order: all (the
    office's view), or the whole school's and those of the groups GROUP_IDS; `brief`: the
    first LIMIT, with only the columns that the block above the feed shows (a tenth cheaper
    to load)."""
    groups = joinedload(CalendarItem.groups)
    query = select(CalendarItem)
    if brief:
        query = query.options(load_only(*_SHOWN, raiseload=True),
                              groups.load_only(Group.id, Group.name, Group.version))
    else:
        query = query.options(groups)
    query = query.where(CalendarItem.school_id.in_(SCHOOL_IDS),
                        CalendarItem.starts_on <= LAST, CalendarItem.ends_on >= FIRST)
    if not everything:
        mine = exists().where(CalendarItemGroup.item_id == CalendarItem.id,
                              CalendarItemGroup.group_id.in_(GROUP_IDS))
        anyone = ~exists().where(CalendarItemGroup.item_id == CalendarItem.id)
        query = query.where(or_(anyone, mine))
    query = query.order_by(CalendarItem.starts_on, CalendarItem.starts_at.nulls_first(),
                           CalendarItem.id)
    return query.limit(LIMIT) if brief else query


def items_between(user: User, first: date, last: date,
                  limit: int | None = None) -> list[CalendarItem]:
    """The user's items that touch [first, last], in date order: the whole school's and
    those of their groups this year (a guardian's: of each child's school); with a
    `limit`, the first ones with only the columns the block above the feed shows."""
    everything = policy.is_admin(user)
    values = {"first": first, "last": last, "limit": limit,
              "school_ids": sorted(policy.reading_school_ids(user)),
              "group_ids": [] if everything else sorted(policy.visible_group_ids(user))}
    statement = _between(everything, limit is not None)
    return list(db.session.scalars(statement, values).unique())


def upcoming(user: User, limit: int = 3, days: int = 28) -> list[CalendarItem]:
    """The next few items (today's and those still running included), for the block above
    the feed: only the columns it shows are loaded (another raises, not loads)."""
    today = clock.today()
    return items_between(user, today, today + timedelta(days=days), limit)


def school_names(user: User) -> dict[int, str]:
    """School id -> name, for a family with children at more than one school (whose
    calendar shows both schools' items); else empty: no query."""
    ids = policy.reading_school_ids(user)
    if len(ids) < 2:
        return {}
    return dict(db.session.execute(select(School.id, School.name).where(School.id.in_(ids))).all())


@dataclass
class Month:
    first: date
    items: list[CalendarItem]


def by_month(items: list[CalendarItem], first: date) -> list[Month]:
    """Items under the month they start in (one that started earlier: under `first`)."""
    months: dict[date, list[CalendarItem]] = {}
    for item in items:
        start = max(item.starts_on, first)
        months.setdefault(start.replace(day=1), []).append(item)
    return [Month(month, rows) for month, rows in sorted(months.items())]


def kind_note(item: CalendarItem):
    return KIND_NOTES[item.kind]


# -- what the office enters ---------------------------------------------------------


def _check(starts_on: date, ends_on: date, starts_at: time | None, ends_at: time | None) -> None:
    if ends_on < starts_on:
        raise CalendarError("ends_on", _("De laatste dag ligt voor de eerste dag."))
    if (ends_on - starts_on).days > MAX_DAYS:
        raise CalendarError("ends_on", _("Een item van meer dan een jaar kan niet."))
    if (starts_at is None) != (ends_at is None):
        field_name = "ends_at" if ends_at is None else "starts_at"
        raise CalendarError(field_name, _("Vul een begin- én eindtijd in, of laat beide leeg "
                                          "voor de hele dag."))
    if starts_at is not None and starts_on == ends_on and ends_at <= starts_at:
        raise CalendarError("ends_at", _("De eindtijd ligt voor de begintijd."))


def _school_groups(group_ids) -> list[Group]:
    ids = {int(i) for i in group_ids}
    if not ids:
        return []
    groups = list(db.session.scalars(
        select(Group).join(SchoolYear, SchoolYear.id == Group.school_year_id)
        .where(Group.id.in_(ids), SchoolYear.school_id == policy.current_school_id())))
    if len(groups) != len(ids):
        raise CalendarError("groups", _("Kies groepen uit de lijst."))
    return groups


def save_item(user: User, item: CalendarItem | None, *, kind: CalendarKind, title: str,
              starts_on: date, ends_on: date, starts_at: time | None = None,
              ends_at: time | None = None, description: str = "", location: str = "",
              group_ids=()) -> CalendarItem:
    """Add an item (item None) or change one, and commit; CalendarError when refused."""
    _check(starts_on, ends_on, starts_at, ends_at)
    groups = _school_groups(group_ids)
    if item is None:
        from ..layout import current_school

        item = CalendarItem(school_id=current_school().id, created_by_id=user.id)
        db.session.add(item)
    item.kind = kind
    item.title = " ".join(title.split())[:TITLE_MAX]
    item.description = description.strip()[:DESCRIPTION_MAX]
    item.location = " ".join(location.split())[:LOCATION_MAX]
    item.starts_on, item.ends_on = starts_on, ends_on
    item.starts_at, item.ends_at = starts_at, ends_at
    _set_groups(item, groups)
    db.session.commit()
    return item


def _set_groups(item: CalendarItem, groups: list[Group]) -> None:
    """Give the item these groups; a change raises its version in the same transaction, as
    the groups are rows of their own (calendar_item_group) that leave the item's row as it
    is, and the cached block of coming items shows them (its key holds the version)."""
    if item.id is not None and {g.id for g in item.groups} != {g.id for g in groups}:
        item.version = CalendarItem.version + 1
    item.groups = list(groups)


def delete_item(item: CalendarItem) -> None:
    db.session.delete(item)
    db.session.commit()


# -- importing an .ics file ----------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    past: int = 0
    recurring: int = 0
    titles: list[str] = field(default_factory=list)


@dataclass
class _Parsed:
    uid: str | None
    title: str
    description: str
    location: str
    starts_on: date
    ends_on: date
    starts_at: time | None
    ends_at: time | None


def guess_kind(title: str) -> CalendarKind:
    """Holidays and study days by their name, as schools and the government write them."""
    words = title.casefold()
    if "studiedag" in words or "studie-dag" in words:
        return CalendarKind.STUDY_DAY
    if "vakantie" in words or "vrije dag" in words or words.strip() == "vrij":
        return CalendarKind.HOLIDAY
    return CalendarKind.EVENT


def _text(component, name: str) -> str:
    value = component.get(name)
    return str(value).strip() if value is not None else ""


def _when(value) -> tuple[date, time | None]:
    """An .ics date or date-time as a school day and wall-clock time (None: all day)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # UTC or a TZID: the school's own time
            value = value.astimezone(clock.school_tz())
        return value.date(), value.time().replace(second=0, microsecond=0)
    return value, None


def _parse_event(event, number: int) -> _Parsed:
    title = " ".join(_text(event, "summary").split()) or _("(zonder titel)")
    try:
        start, end = event.start, event.end
    except ValueError:
        raise CalendarError("file", _("Item %(n)s (%(title)s) heeft geen leesbare begindatum.",
                                      n=number, title=title)) from None
    starts_on, starts_at = _when(start)
    ends_on, ends_at = _when(end)
    backwards = CalendarError("file", _("Item %(n)s (%(title)s) eindigt voordat het begint.",
                                        n=number, title=title))
    if starts_at is None and ends_at is None:
        if ends_on < starts_on:
            raise backwards
        # DTEND of an all-day event is the day after the last day (RFC 5545).
        ends_on = max(starts_on, ends_on - timedelta(days=1))
    elif starts_at is None or ends_at is None:
        raise CalendarError("file", _("Item %(n)s (%(title)s) mengt een hele dag met een tijd.",
                                      n=number, title=title))
    else:
        if (ends_on, ends_at) < (starts_on, starts_at):
            raise backwards
        if ends_on > starts_on and ends_at == time(0, 0):
            # Until midnight: the end of the day before.
            ends_on, ends_at = ends_on - timedelta(days=1), time(23, 59)
    if starts_at is not None and starts_on == ends_on and ends_at == starts_at:
        ends_at = (datetime.combine(starts_on, starts_at) + timedelta(hours=1)).time()
        if ends_at <= starts_at:  # an event at 23:xx without an end: until the day's end
            ends_at = time(23, 59)
    if (ends_on - starts_on).days > MAX_DAYS:
        raise CalendarError("file", _("Item %(n)s (%(title)s) duurt langer dan een jaar.",
                                      n=number, title=title))
    uid = _text(event, "uid")[:255] or None
    return _Parsed(uid, title[:TITLE_MAX], _text(event, "description")[:DESCRIPTION_MAX],
                   " ".join(_text(event, "location").split())[:LOCATION_MAX],
                   starts_on, ends_on, starts_at, ends_at)


def parse_ics(data: bytes) -> tuple[list[_Parsed], int]:
    """The events of an .ics file and how many recur; CalendarError for a file we refuse."""
    limit = current_app.config["CALENDAR_IMPORT_MAX_EVENTS"]
    if len(data) > current_app.config["CALENDAR_IMPORT_MAX_BYTES"]:
        raise CalendarError("file", _("Dit bestand is te groot: hooguit %(kb)s kB.",
                                      kb=current_app.config["CALENDAR_IMPORT_MAX_BYTES"] // 1024))
    # Counted before parsing, so a huge file costs no more than this look.
    count = data.upper().count(b"BEGIN:VEVENT")
    if count > limit:
        raise CalendarError("file", _(
            "Dit bestand bevat %(n)s items; meer dan %(max)s in één keer kan niet. "
            "Splits het bestand, of importeer alleen de vakanties.", n=count, max=limit))
    from icalendar import Calendar  # here: only an import reads .ics (README, Performance)

    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, UnicodeDecodeError, IndexError, KeyError):
        calendar = None
    if calendar is None or calendar.name != "VCALENDAR":
        raise CalendarError("file", _(
            "Dit is geen agendabestand (.ics) dat wij kunnen lezen. Download het bestand "
            "opnieuw, bijvoorbeeld de schoolvakanties van de Rijksoverheid."))
    events = calendar.walk("VEVENT")
    if not events:
        raise CalendarError("file", _("Er staan geen items in dit agendabestand."))
    parsed, recurring, seen = [], 0, set()
    for number, event in enumerate(events, start=1):
        if event.get("recurrence-id") is not None:
            continue  # a changed occurrence of a recurring event, which we leave out
        if event.get("rrule") is not None:
            recurring += 1
            continue
        item = _parse_event(event, number)
        if item.uid is not None:
            if item.uid in seen:
                continue
            seen.add(item.uid)
        parsed.append(item)
    return parsed, recurring


def import_ics(user: User, data: bytes, kind: str, group_ids=()) -> ImportResult:
    """Add the file's items (or update those imported before) and commit, or change nothing."""
    events, recurring = parse_ics(data)
    groups = _school_groups(group_ids)
    from ..layout import current_school

    school = current_school()
    today = clock.today()
    result = ImportResult(recurring=recurring)
    existing = {
        item.uid: item
        for item in db.session.scalars(
            select(CalendarItem)
            .options(selectinload(CalendarItem.groups))
            .where(CalendarItem.school_id == school.id, CalendarItem.uid.in_(
                [e.uid for e in events if e.uid]))
        )
    }
    for event in events:
        if event.ends_on < today:
            result.past += 1
            continue
        item_kind = guess_kind(event.title) if kind == AUTO else CalendarKind(kind)
        values = {
            "kind": item_kind, "title": event.title, "description": event.description,
            "location": event.location, "starts_on": event.starts_on, "ends_on": event.ends_on,
            "starts_at": event.starts_at, "ends_at": event.ends_at,
        }
        item = existing.get(event.uid) if event.uid else _same_item(school.id, values)
        if item is None:
            item = CalendarItem(school_id=school.id, uid=event.uid, created_by_id=user.id,
                                **values)
            item.groups = list(groups)
            db.session.add(item)
            result.created += 1
            result.titles.append(event.title)
            continue
        changed = any(getattr(item, k) != v for k, v in values.items()) or (
            {g.id for g in item.groups} != {g.id for g in groups}
        )
        if changed:
            for key, value in values.items():
                setattr(item, key, value)
            _set_groups(item, groups)
            result.updated += 1
        else:
            result.unchanged += 1
    try:
        db.session.commit()
    except IntegrityError:  # the same file imported twice at once: the other one won
        db.session.rollback()
        raise CalendarError("file", _("Dit bestand wordt al geïmporteerd. Probeer het zo "
                                      "opnieuw.")) from None
    return result


def _same_item(school_id: int, values: dict) -> CalendarItem | None:
    """An item without a UID is the same as one with its title, days and times."""
    return db.session.scalar(
        select(CalendarItem).where(
            CalendarItem.school_id == school_id,
            CalendarItem.title == values["title"],
            CalendarItem.starts_on == values["starts_on"],
            CalendarItem.ends_on == values["ends_on"],
        ).limit(1)
    )


def max_import_events() -> int:
    return current_app.config["CALENDAR_IMPORT_MAX_EVENTS"]
