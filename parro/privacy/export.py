"""Inzage: everything the app holds about a guardian and their children, as a ZIP.

One JSON file per topic (keys in Dutch, explained in the README.txt inside the
ZIP) and a files/ folder with the files the guardian sent in chats and the
photos in which their own children are tagged. Nothing about other families:
other people appear only as "school" or "andere ouder of verzorger", except in
a conversation's title, which the guardian sees in the app as well.

The ZIP is written to an anonymous temporary file, file by file, so a family
with many photos does not fill the server's memory.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import render_template, send_file
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import audit, media, notifications, policy
from ..auth.devices import describe
from ..clock import now, today
from ..extensions import db
from ..models import (
    AbsencePreference,
    AbsenceReport,
    Attachment,
    Booking,
    CalendarFeed,
    ConsentChange,
    Conversation,
    ConversationKind,
    Group,
    Item,
    Like,
    LoginEvent,
    Membership,
    Message,
    PhotoTag,
    Pledge,
    Post,
    PostGroup,
    ReadReceipt,
    ReadState,
    Response,
    Role,
    SchoolYear,
    Shift,
    SignUp,
    Slot,
    User,
)
from ..models.activity import activity_group
from ..security import live_sessions
from . import service

ANSWERS = {"yes": "ja", "no": "nee", "maybe": "misschien"}


def _when(value):
    """How the JSON files write a moment (json.dumps's `default`), ISO 8601: times in UTC with
    offset, dates as YYYY-MM-DD, wall-clock times HH:MM."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass
class Export:
    """What goes into the ZIP: JSON documents and stored files (arcname -> path)."""

    user: User
    # Downloaded by the office of a school of a board: only what concerns that school (its
    # children, its chats, posts and activities); the account's own data stays in.
    school_id: int | None = None
    documents: dict[str, object] = field(default_factory=dict)
    files: list[tuple[str, object]] = field(default_factory=list)

    def here(self, query, column, of_school):
        """The query, for the office's export only rows whose `column` is in
        `of_school(school_id)` (a SELECT of ids)."""
        if self.school_id is None:
            return query
        return query.where(column.in_(of_school(self.school_id)))

    def who(self, user_id: int | None, staff_ids: set[int]) -> str | None:
        if user_id is None:
            return None
        if user_id == self.user.id:
            return "zelf"
        return "school" if user_id in staff_ids else "andere ouder of verzorger"

    def add_file(self, folder: str, item, variant: str, name: str) -> str | None:
        path = media.path_for(item.key, variant)
        if not path.is_file():
            return None
        arcname = f"files/{folder}/{name}"
        self.files.append((arcname, path))
        return arcname


def _school_years(school_id):
    return select(SchoolYear.id).where(SchoolYear.school_id == school_id)


def _school_posts(school_id):
    return (select(PostGroup.post_id).join(Group, Group.id == PostGroup.group_id)
            .where(Group.school_year_id.in_(_school_years(school_id))))


def _school_activities(school_id):
    return (select(activity_group.c.activity_id)
            .join(Group, Group.id == activity_group.c.group_id)
            .where(Group.school_year_id.in_(_school_years(school_id))))


def _school_conversations(school_id):
    return select(Conversation.id).where(Conversation.school_id == school_id)


def collect(user: User, school_id: int | None = None) -> Export:
    """Everything about `user` (a guardian) and their children, ready to write; with
    `school_id` (the office's download) only what concerns that school."""
    out = Export(user, school_id)
    children = [c for c in policy.children(user) if school_id in (None, c.school_id)]
    ids = [c.id for c in children]
    staff_ids = set(db.session.scalars(select(User.id).where(User.role != Role.GUARDIAN)))

    out.documents["profiel.json"] = {
        "naam": user.name,
        "e-mail": user.email,
        "taal": user.locale,
        "account_aangemaakt_op": user.created_at,
        "account_geactiveerd_op": user.activated_at,
        "wachtwoord_gewijzigd_op": user.password_changed_at,
        "ingelogde_apparaten": [
            {
                "apparaat": describe(s.user_agent),
                "browser": s.user_agent,
                "ip_adres": s.ip,
                "ingelogd_op": s.created_at,
                "laatst_gebruikt_op": s.last_seen_at,
            }
            for s in live_sessions(user)
        ],
        "inlogpogingen": [
            {"moment": e.created_at, "gelukt": e.success, "ip_adres": e.ip}
            for e in db.session.scalars(
                select(LoginEvent).where(LoginEvent.user_id == user.id)
                .order_by(LoginEvent.created_at)
            )
        ],
    }

    groups: dict[int, list] = {i: [] for i in ids}
    for student_id, year, group in db.session.execute(
        select(Membership.student_id, SchoolYear.name, Group.name)
        .join(Group, Group.id == Membership.group_id)
        .join(SchoolYear, SchoolYear.id == Membership.school_year_id)
        .where(Membership.student_id.in_(ids))
        .order_by(SchoolYear.starts_on)
    ):
        groups[student_id].append({"schooljaar": year, "groep": group})
    out.documents["kinderen.json"] = [
        {
            "voornaam": c.first_name,
            "achternaam": c.last_name,
            "leerlingnummer": c.student_number,
            "groepen": groups[c.id],
        }
        for c in children
    ]

    topics = service.topics_of_schools(c.school_id for c in children)  # each child's own
    answers = service.answers(ids)
    history: dict[int, list] = {i: [] for i in ids}
    for change in db.session.scalars(
        select(ConsentChange).where(ConsentChange.student_id.in_(ids))
        .options(selectinload(ConsentChange.topic))
        .order_by(ConsentChange.changed_at, ConsentChange.id)
    ):
        history[change.student_id].append({
            "onderwerp": change.topic.name,
            "toestemming": change.given,
            "moment": change.changed_at,
            "door": out.who(change.changed_by_id, staff_ids),
        })
    consents = []
    for c in children:
        current = []
        for topic in topics[c.school_id]:
            answer = answers.get((c.id, topic.id))
            current.append({
                "onderwerp": topic.name,
                "beantwoord": answer is not None,
                "toestemming": bool(answer and answer.given),
                "gewijzigd_op": answer.changed_at if answer else None,
                "gewijzigd_door": out.who(answer.changed_by_id, staff_ids) if answer else None,
            })
        consents.append({"kind": c.full_name, "nu": current, "geschiedenis": history[c.id]})
    out.documents["toestemming.json"] = consents

    out.documents["absenties.json"] = [
        {
            "kind": r.student.full_name,
            "soort": "ziek" if r.is_sick else "afspraak",
            "dag": r.day,
            "van": r.starts_at,
            "tot": r.ends_at,
            "reden": r.reason.name if r.reason else None,
            "toelichting": r.note,
            "gemeld_op": r.reported_at,
            "gemeld_door": out.who(r.reported_by_id, staff_ids),
            "na_het_begin_van_de_dag_gemeld": r.after_cutoff,
            "ingetrokken_op": r.withdrawn_at,
            "ingetrokken_door": out.who(r.withdrawn_by_id, staff_ids),
        }
        for r in db.session.scalars(
            select(AbsenceReport).where(AbsenceReport.student_id.in_(ids))
            .options(selectinload(AbsenceReport.student), selectinload(AbsenceReport.reason))
            .order_by(AbsenceReport.day, AbsenceReport.id)
        )
    ]

    out.documents["activiteiten.json"] = _activities(out, ids, staff_ids)
    out.documents["berichten.json"] = _messages(out)
    out.documents["fotos.json"] = _photos(out, children)

    absence_pref = db.session.get(AbsencePreference, user.id)
    mail = notifications.setting_of(user)
    choices = notifications.choices_of(user)
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    out.documents["instellingen.json"] = {
        "bevestiging_ziekmelding_per_e-mail": bool(absence_pref and absence_pref.email_receipt),
        "e-mailberichten": {
            key: choice.mail for key, choice in choices.items()
        },
        "pushmeldingen": {key: choice.push for key, choice in choices.items()},
        "tijd_dagelijks_overzicht": mail.digest_time.strftime("%H:%M"),
        "stille_uren": "{}-{}".format(mail.quiet_from.strftime("%H:%M"),
                                      mail.quiet_until.strftime("%H:%M")) if mail.quiet else None,
        "agenda-abonnement_aangemaakt_op": feed.created_at if feed else None,
    }

    out.documents["groepsberichten.json"] = {
        "vind_ik_leuk": _post_marks(out, Like, Like.created_at),
        "gelezen": _post_marks(out, ReadReceipt, ReadReceipt.read_at),
    }
    return out


def _post_marks(out: Export, mark, at) -> list[dict]:
    """The posts the user marked (a Like, a ReadReceipt) and when (`at`), oldest first."""
    return [
        {"bericht": title, "moment": moment}
        for title, moment in db.session.execute(
            out.here(select(Post.title, at), Post.id, _school_posts)
            .join(Post, Post.id == mark.post_id)
            .where(mark.user_id == out.user.id).order_by(at)
        )
    ]


def _activities(out: Export, ids: list[int], staff_ids: set[int]) -> dict:
    user = out.user
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.student_id.in_(ids))
        # A separate booking of the other guardian is theirs, not this guardian's.
        .where((Booking.guardian_id.is_(None)) | (Booking.guardian_id == user.id))
        .options(selectinload(Booking.slot).selectinload(Slot.activity),
                 selectinload(Booking.student))
        .join(Slot, Slot.id == Booking.slot_id)
        .order_by(Slot.starts_at)
    )
    signups = _offered(out, SignUp, SignUp.shift, Shift)
    pledges = _offered(out, Pledge, Pledge.item, Item)
    responses = db.session.scalars(
        select(Response).where(Response.student_id.in_(ids))
        .options(selectinload(Response.activity), selectinload(Response.student))
        .order_by(Response.updated_at)
    )
    return {
        "gesprekken": [
            {
                "activiteit": b.slot.activity.title,
                "kind": b.student.full_name,
                "begint": b.slot.starts_at,
                "eindigt": b.slot.ends_at,
                "locatie": b.slot.activity.location,
                "ingeschreven_op": b.created_at,
                "gewijzigd_op": b.updated_at,
                "ingeschreven_door": out.who(b.booked_by_id, staff_ids),
            }
            for b in bookings
        ],
        "hulp": [
            {
                "activiteit": s.shift.activity.title,
                "taak": s.shift.title,
                "begint": s.shift.starts_at,
                "eindigt": s.shift.ends_at,
                "aangemeld_op": s.created_at,
            }
            for s in signups
        ],
        "spullen": [
            {
                "activiteit": p.item.activity.title,
                "wat": p.item.name,
                "aantal": p.quantity,
                "toegezegd_op": p.created_at,
            }
            for p in pledges
        ],
        "uitnodigingen": [
            {
                "activiteit": r.activity.title,
                "kind": r.student.full_name,
                "antwoord": ANSWERS.get(r.answer.value, r.answer.value),
                "aantal_personen": r.people,
                "beantwoord_op": r.updated_at,
                "beantwoord_door": out.who(r.answered_by_id, staff_ids),
            }
            for r in responses
        ],
    }


def _offered(out: Export, model, to_part, part):
    """The user's sign-ups or pledges (`model`) with their shift or item (`part`, reached by
    the relationship `to_part`) and its activity, oldest first."""
    return db.session.scalars(
        out.here(select(model).join(to_part), part.activity_id, _school_activities)
        .where(model.user_id == out.user.id)
        .options(selectinload(to_part).selectinload(part.activity))
        .order_by(model.created_at)
    )


def _messages(out: Export) -> dict:
    from ..chat.service import sender_name, title_of

    user = out.user
    messages = db.session.scalars(
        out.here(select(Message), Message.conversation_id, _school_conversations)
        .where(Message.author_id == user.id)
        .options(selectinload(Message.attachments), selectinload(Message.conversation))
        .order_by(Message.created_at, Message.id)
    )
    sent = []
    for m in messages:
        files = []
        for a in m.attachments:
            variant = "display" if a.kind == media.PHOTO else "file"
            files.append({
                "bestandsnaam": a.filename,
                "soort": a.content_type,
                "bestand": out.add_file("berichten", a, variant, f"{m.id}-{a.id}-{a.filename}"),
            })
        sent.append({
            "gesprek": title_of(m.conversation, user),
            "verstuurd_op": m.created_at,
            "bewerkt_op": m.edited_at,
            "verwijderd_op": m.deleted_at,
            "tekst": m.body,
            "bijlagen": files,
        })
    read = [
        {"gesprek": title_of(conversation, user), "laatst_gelezen_op": at}
        for conversation, at in db.session.execute(
            out.here(select(Conversation, ReadState.updated_at), Conversation.id,
                     _school_conversations)
            .join(ReadState, ReadState.conversation_id == Conversation.id)
            .where(ReadState.user_id == user.id)
            .order_by(ReadState.updated_at)
        )
    ]
    # The office's answers in the guardian's own office conversations are written to them
    # alone: they are in the export too (signed as the guardian sees them).
    answers = [
        {
            "gesprek": title_of(m.conversation, user),
            "van": sender_name(m, user),
            "verstuurd_op": m.created_at,
            "bewerkt_op": m.edited_at,
            "tekst": m.body,
        }
        for m in db.session.scalars(
            out.here(select(Message), Message.conversation_id, _school_conversations)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.kind == ConversationKind.OFFICE,
                Conversation.created_by_id == user.id,
                or_(Message.author_id.is_(None), Message.author_id != user.id),
                Message.deleted_at.is_(None),
                Message.hidden_at.is_(None),
            )
            .options(selectinload(Message.author), selectinload(Message.conversation))
            .order_by(Message.created_at, Message.id)
        )
    ]
    return {"verstuurd": sent, "gelezen": read, "antwoorden_administratie": answers}


def _photos(out: Export, children) -> list:
    """Photos of posts in which one of the guardian's children is tagged.

    A photo the guardian may not see in the app (another child in it without
    consent) is left out here as well.
    """
    names = {c.id: c.full_name for c in children}
    if not names:
        return []
    photos = list(
        db.session.scalars(
            select(Attachment)
            .join(Post, Post.id == Attachment.post_id)
            .where(
                Attachment.kind == media.PHOTO,
                Post.publish_at <= now(),
                Attachment.id.in_(
                    select(PhotoTag.attachment_id).where(PhotoTag.student_id.in_(names))
                ),
            )
            .options(selectinload(Attachment.tags), selectinload(Attachment.post)
                     .selectinload(Post.groups))
            .order_by(Post.publish_at, Attachment.position, Attachment.id)
        )
    )
    hidden = policy.hidden_photo_ids(out.user, photos)
    result = []
    for photo in photos:
        if photo.id in hidden:
            continue
        post = photo.post
        result.append({
            "bericht": post.title,
            "geplaatst_op": post.publish_at,
            "groepen": [g.name for g in post.groups],
            "kinderen_op_de_foto": [names[t.student_id] for t in photo.tags
                                    if t.student_id in names],
            "bestand": out.add_file("fotos", photo, "display", f"{photo.id}-{photo.filename}"),
        })
    return result


def _write(archive: zipfile.ZipFile, export: Export, prefix: str = "") -> None:
    school = policy.current_school()
    readme = render_template(
        "privacy/export_readme.txt",
        user=export.user,
        school=school,
        moment=now(),
        file_count=len(export.files),
    )
    archive.writestr(f"{prefix}README.txt", readme)
    for name, document in export.documents.items():
        archive.writestr(prefix + name,
                         json.dumps(document, ensure_ascii=False, indent=2, default=_when) + "\n")
    for arcname, path in export.files:
        # JPEG, PDF and MP4 are compressed already: store them as they are.
        archive.write(path, prefix + arcname, compress_type=zipfile.ZIP_STORED)


def _zip(fill):
    """The ZIP that `fill(archive)` writes, in an anonymous temporary file positioned at its
    start; and its size."""
    # Returned open: the caller sends it, and the response closes it.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        fill(archive)
    size = handle.tell()
    handle.seek(0)
    return handle, size


def folder_names(guardians: list[User]) -> list[str]:
    """One folder per guardian: their e-mail address (unique), safe as a file name."""
    return [re.sub(r"[^A-Za-z0-9@._-]+", "_", g.email) + "/" for g in guardians]


def _send(handle, size: int, name: str):
    response = send_file(
        handle, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0,
    )
    response.content_length = size
    response.headers["Cache-Control"] = "private, no-store"
    return response


def download(user: User, *, by_admin: bool):
    """Build the export of `user`, log it, and send it as a download; the office's of what
    concerns its school."""
    export = collect(user, policy.current_school_id() if by_admin else None)
    handle, size = _zip(lambda archive: _write(archive, export))
    audit.record(
        audit.EXPORT, target=user, by_admin=by_admin, files=len(export.files),
        summary=f"Gegevens van {user.email} gedownload"
        + (" door de beheerder" if by_admin else " door de ouder zelf"),
    )
    db.session.commit()
    return _send(handle, size, f"parro-gegevens-{today().isoformat()}.zip")


def download_family(guardians: list[User], family_name: str):
    """The exports of all guardians of a family in one ZIP, a folder each; logged per guardian.

    Each folder is what that guardian downloads themselves: the children they share
    appear in each, as in their own downloads.
    """
    def fill(archive: zipfile.ZipFile) -> None:
        archive.writestr("LEESMIJ.txt", render_template(
            "privacy/family_export_readme.txt", guardians=guardians,
            folders=folder_names(guardians), family_name=family_name, moment=now()))
        for guardian, folder in zip(guardians, folder_names(guardians), strict=True):
            _write(archive, collect(guardian, policy.current_school_id()), folder)

    handle, size = _zip(fill)
    for guardian in guardians:
        audit.record(
            audit.EXPORT, target=guardian, by_admin=True, family=True,
            summary=f"Gegevens van {guardian.email} gedownload door de beheerder"
                    f" (gezin {family_name}, {len(guardians)} ouders)",
        )
    db.session.commit()
    slug = re.sub(r"[^a-z0-9]+", "-", family_name.lower()).strip("-") or "gezin"
    return _send(handle, size, f"parro-gezin-{slug}-{today().isoformat()}.zip")
