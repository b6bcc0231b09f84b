"""Mail that lands and looks like the school: every mail multipart/alternative (plain
text and simple HTML in the school's colour), Auto-Submitted, a Message-ID of the
school's own domain, subjects that fold without losing a space, and notification
mails with a one-click unsubscribe (RFC 8058) that turns off only their category.

Read back as a mail program would: delivered to aiosmtpd and parsed with Python's
email parser, or written to .eml and parsed the same way.
"""

from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from parro import notifications
from parro.extensions import db
from parro.mail import queue_mail, send_all
from parro.notifications import ACTIVITIES, GROUP_POSTS, IMPORTANT_POSTS, OFF
from parro.theme.colour import brand

from .factories import make_group, make_guardian, make_school, make_student
from .test_mail import SMTPServer, deliver

COLOUR = "#1f6f8b"


class Tags(HTMLParser):
    """Every tag of an HTML document with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def eva(app):
    school = make_school("Basisschool De Regenboog")
    school.colour = COLOUR
    guardian = make_guardian(child=make_student(make_group()), name="Eva Jansen",
                             email="eva@example.org")
    db.session.commit()
    return guardian


def notify_about_an_activity(user) -> None:
    notifications.notify(user, ACTIVITIES, "Nieuwe activiteit voor {child}", "consent_withdrawn",
                         user=user, child="Sem Jansen", posts=[])
    db.session.commit()


def received(smtp, make_app) -> email.message.EmailMessage:
    sent, failed = deliver(make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port))
    assert (sent, failed) == (1, 0)
    [message] = smtp.inbox.messages
    return message


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def test_a_notification_mail_has_text_and_html_in_the_schools_colour(eva, smtp, make_app):
    notify_about_an_activity(eva)
    message = received(smtp, make_app)

    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "Beste Eva Jansen," in text and "Beste Eva Jansen," in html

    tags = Tags(html).tags
    assert not [t for t, _ in tags if t in ("style", "script", "link")]
    assert not [a for _, a in tags if "class" in a or "id" in a]  # mail programs drop them
    styles = " ".join(a.get("style", "") for _, a in tags)
    assert f"background-color:{brand(COLOUR)}" in styles
    assert "Basisschool De Regenboog" in html
    links = [a["href"] for t, a in tags if t == "a"]
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe in links and unsubscribe in text


def test_notification_mails_carry_one_click_unsubscribe_and_auto_submitted(eva, smtp, make_app):
    notify_about_an_activity(eva)
    message = received(smtp, make_app)
    assert re.fullmatch(r"<http://parro\.test/afmelden/[\w.-]+>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@parro.test>")


def test_account_mail_has_html_too_but_no_unsubscribe(eva, smtp, make_app):
    queue_mail("eva@example.org", "Een nieuw wachtwoord kiezen", "password_reset",
               user=eva, url="http://parro.test/wachtwoord/abc", minutes=60,
               expires_at=notifications.clock.now())
    db.session.commit()
    message = received(smtp, make_app)
    assert message.get_content_type() == "multipart/alternative"
    assert '<a href="http://parro.test/wachtwoord/abc"' in message.get_body(("html",)).get_content()
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None


def test_a_long_dutch_subject_folds_without_losing_a_space(eva, tmp_path, make_app):
    subject = ("Oudergesprekken groep 3: kies vóór vrijdag één tijd voor Sem en Lotte — "
               "‘samen’ of los, zoals u wilt, en vergeet de enquête niet")
    queue_mail("eva@example.org", subject, "consent_withdrawn", user=eva, child="Sem", posts=[])
    db.session.commit()
    deliver(make_app(MAIL_SERVER=None, MAIL_DIR=str(tmp_path)))
    [eml] = Path(tmp_path).glob("*.eml")
    raw = eml.read_bytes()
    header = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # every header line is ASCII
    assert all(len(line) <= 78 for line in header.split("\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject


def test_one_click_turns_off_only_that_categorys_mail_without_logging_in(eva, client):
    url = notifications.unsubscribe_url(eva, [ACTIVITIES])
    path = url.removeprefix("http://parro.test")

    page = client.get(path)  # a link scanner or a curious click: nothing happens yet
    assert page.status_code == 200
    assert "Activiteiten" in page.get_data(as_text=True)
    assert notifications.choice_of(eva, ACTIVITIES).mail != OFF

    # The mail program's POST (RFC 8058): no login, no form token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "U ontvangt deze e-mails niet meer" in done.get_data(as_text=True)
    db.session.expire_all()
    choices = notifications.choices_of(eva)
    assert choices[ACTIVITIES].mail == OFF
    assert choices[GROUP_POSTS].mail == notifications.DEFAULT_MAIL[GROUP_POSTS]
    assert choices[IMPORTANT_POSTS].mail == notifications.DEFAULT_MAIL[IMPORTANT_POSTS]

    # After that, activities mail no longer comes; a new unsubscribe link stays valid.
    notify_about_an_activity(eva)
    assert send_all() == (0, 0)
    assert client.post(path).status_code == 200


def test_a_forged_or_changed_link_does_nothing(eva, client):
    token = notifications.unsubscribe_url(eva, [ACTIVITIES]).rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    for bad in (token[:-2] + "xx", "bm90LWEtdG9rZW4", f"{payload}x.{signature}"):
        assert client.post(f"/afmelden/{bad}").status_code == 404
    db.session.expire_all()
    assert notifications.choice_of(eva, ACTIVITIES).mail != OFF


def test_important_posts_offer_no_unsubscribe_while_mail_is_their_only_way(eva):
    assert notifications.unsubscribe_url(eva, [IMPORTANT_POSTS]) is None
    url = notifications.unsubscribe_url(eva, [IMPORTANT_POSTS, GROUP_POSTS])
    assert notifications.read_unsubscribe_token(url.rsplit("/", 1)[1])[1] == [
        notifications.BY_KEY[GROUP_POSTS]]
