"""The demo school for browser tests, on a fixed school day, and how to log in to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from parro import clock
from parro.demo import PASSWORD, create_demo  # noqa: F401 (PASSWORD: for the tests)
from parro.extensions import db
from parro.models import (
    Activity,
    Attachment,
    Conversation,
    Group,
    Post,
    PostGroup,
    SchoolYear,
    Student,
)

# A Tuesday morning in the school year, before school starts.
TUESDAY_MORNING = datetime(2026, 11, 24, 7, 45, tzinfo=ZoneInfo("Europe/Amsterdam"))


@dataclass
class Demo:
    post_id: int
    sem_id: int
    lotte_id: int
    sem_chat_id: int
    office_chat_id: int
    conference3_id: int
    conference6_id: int
    group3_id: int
    photo_url: str  # the photo viewer on a photo of group 3 (its children have consent)



def load_demo() -> Demo:
    """Create the demo school at TUESDAY_MORNING; commit, so the browser sees it."""
    clock.set_now(TUESDAY_MORNING)
    create_demo()

    def student(first):
        return db.session.scalar(
            select(Student).where(Student.first_name == first, Student.last_name == "Jansen"))

    sem, lotte = student("Sem"), student("Lotte")
    group3 = db.session.scalar(
        select(Group).join(SchoolYear).where(SchoolYear.is_current, Group.grade == 3))
    post = db.session.scalar(
        select(Post).join(PostGroup).where(PostGroup.group_id == group3.id,
                                           Post.publish_at <= clock.now())
        .order_by(Post.publish_at.desc()))
    chat = db.session.scalar(select(Conversation).where(Conversation.student_id == sem.id))
    office = db.session.scalar(select(Conversation).where(Conversation.office_key.is_not(None)))
    conferences = {
        a.title: a.id for a in db.session.scalars(
            select(Activity).where(Activity.title.like("Oudergesprekken groep %")))
    }
    photo = db.session.scalar(
        select(Attachment).join(PostGroup, PostGroup.post_id == Attachment.post_id)
        .where(PostGroup.group_id == group3.id, PostGroup.publish_at <= clock.now(),
               Attachment.kind == "photo")
        .order_by(PostGroup.publish_at.desc(), Attachment.position))
    demo = Demo(
        post_id=post.id, sem_id=sem.id, lotte_id=lotte.id, sem_chat_id=chat.id,
        office_chat_id=office.id,
        conference3_id=conferences["Oudergesprekken groep 3"],
        conference6_id=conferences["Oudergesprekken groep 6"],
        group3_id=group3.id,
        photo_url=f"/groepen/bericht/{photo.post_id}/foto/{photo.id}?terug=/groepen/",
    )
    db.session.commit()
    return demo


def log_in(page, email: str) -> None:
    """Log in through the login form (works with and without JavaScript)."""
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


ROLES = {"guardian": "ouder.jansen@example.org",
         "teacher": "juf.anna@example.org",
         "admin": "admin@example.org"}


def main_pages(role: str, demo: Demo) -> dict[str, str]:
    """The main pages of each role, by a short name (the accessibility test and the
    screenshot script, tools/screenshots.py, go through the same pages)."""
    shared = {
        "groepen": "/groepen/",
        "bericht": f"/groepen/bericht/{demo.post_id}",
        "foto": demo.photo_url,
        "activiteiten": "/activiteiten/",
        "account": "/account",
        "meldingen": "/account/meldingen",
        "meldingen-telefoon": "/account/meldingen-op-deze-telefoon",
        "help": "/help",
    }
    if role == "admin":
        return {
            **shared,
            "mededelingen": "/groepen/mededelingen",
            "absentie-administratie": "/absentie/administratie",
            "absentie-beheer": "/absentie/beheer",
            "beheer": "/beheer/", "beheer-groepen": "/beheer/groepen",
            "beheer-leerlingen": "/beheer/leerlingen", "beheer-medewerkers": "/beheer/medewerkers",
            "beheer-ouders": "/beheer/ouders", "beheer-import": "/beheer/import",
            "privacy-onderwerpen": "/privacy/onderwerpen", "privacy-ronde": "/privacy/ronde",
            "absentie-telefonisch": "/absentie/telefonisch",
            "privacy-kind": f"/privacy/kind/{demo.sem_id}",
            "gemelde-berichten": "/beheer/meldingen", "logboek": "/beheer/logboek",
            "gesprekken": "/gesprekken/",
            "administratie-gesprek": f"/gesprekken/{demo.office_chat_id}",
            "openingstijden": "/beheer/school/openingstijden",
        }
    chats = {"gesprekken": "/gesprekken/", "kindgesprek": f"/gesprekken/{demo.sem_chat_id}"}
    if role == "teacher":
        return {
            "ochtend": "/", **shared, **chats,
            "nieuw-bericht": f"/groepen/{demo.group3_id}/nieuw",
            "oudergesprekken": f"/activiteiten/{demo.conference3_id}",
            "rooster": f"/activiteiten/{demo.conference3_id}/rooster",
            "absentie": "/absentie/overzicht",
            "beschikbaarheid": "/gesprekken/beschikbaarheid",
            "privacy-groep": f"/privacy/groep/{demo.group3_id}",
            "absentie-telefonisch": "/absentie/telefonisch",
        }
    return {
        **shared, **chats,
        "oudergesprekken": f"/activiteiten/{demo.conference3_id}",
        "gesprek-plannen": f"/activiteiten/{demo.conference6_id}",
        "agenda": "/activiteiten/agenda",
        "ziekmelden": "/absentie/",
        "privacy-kind": f"/privacy/kind/{demo.sem_id}",
        "privacy-keuzes": "/privacy/keuzes",
        "mijn-gemelde-berichten": "/meldingen/",
        "administratie": "/gesprekken/administratie",
        "administratie-gesprek": f"/gesprekken/{demo.office_chat_id}",
        "melden": f"/meldingen/groepsbericht/{demo.post_id}",
    }
