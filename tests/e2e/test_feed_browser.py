"""In a real browser: a teacher posts two photos; a guardian sees them and likes the post.

The live server runs in this process (same database, same frozen clock).
Screenshots are kept in tests/artifacts/ (phone and desktop width).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.models import Like, Post

from ..factories import (
    PASSWORD,
    give_consent,
    make_group,
    make_guardian,
    make_student,
    make_teacher,
    photo_bytes,
)

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def live_server_config(tmp_path):
    """Uploads in a folder of this test's own, and CSRF on as in production."""
    return {"MEDIA_PATH": str(tmp_path / "media"), "WTF_CSRF_ENABLED": True}


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_teacher_posts_two_photos_guardian_sees_and_likes_them(app, live_server, browser,
                                                               tmp_path):
    clock.set_now(NOW)
    group = make_group("Groep 3", grade=3)
    sem = make_student(group, first_name="Sem", last_name="Jansen")
    mila = make_student(group, first_name="Mila", last_name="de Vries")
    give_consent(sem)
    give_consent(mila, given=False)
    make_teacher(group, name="Anna de Boer", email="anna@example.org")
    make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    db.session.commit()
    group_id = group.id
    db.session.rollback()
    first, second = tmp_path / "moestuin.jpg", tmp_path / "IMG_2041.jpg"
    first.write_bytes(photo_bytes(1600, 1200, (60, 160, 80)))
    second.write_bytes(photo_bytes(1200, 1600, (230, 140, 40)))

    errors = []

    def watch(page):
        """Collect script errors and CSP violations on our pages.

        Not on a photo opened full size: Chrome styles its own image viewer inline,
        which our CSP blocks (harmlessly). Not the missing favicon either.
        """
        def console(msg):
            if msg.type == "error" and "/media/" not in page.url and \
                    "favicon" not in msg.location.get("url", ""):
                errors.append(msg.text)

        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", console)

    teacher = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch(teacher)
    log_in(teacher, live_server, "anna@example.org")
    teacher.goto(f"{live_server}/groepen/{group_id}")
    teacher.get_by_role("link", name="Nieuw bericht").click()
    teacher.get_by_label("Titel (mag leeg blijven)").fill("In de moestuin")
    teacher.get_by_label("Bericht", exact=True).fill(
        "Vandaag hebben we radijsjes gezaaid.\nMeer info: https://www.example.org/moestuin")
    teacher.get_by_label("Foto's, video's en PDF-bestanden").set_input_files([first, second])
    teacher.get_by_label("Sem Jansen").check()
    shot(teacher, "feed-teacher-new-post")
    # Sent by htmx (progress shown by static/js/app.js), answered with HX-Redirect.
    with teacher.expect_request(lambda r: r.method == "POST") as sent:
        teacher.get_by_role("button", name="Plaatsen").click()
    assert sent.value.headers.get("hx-request") == "true"
    teacher.wait_for_url(f"{live_server}/groepen/{group_id}")
    teacher.get_by_text("Uw bericht is geplaatst.").wait_for()
    assert teacher.locator(".photo-grid img").count() == 2

    guardian = browser.new_context(viewport={"width": 360, "height": 780},
                                        device_scale_factor=2).new_page()
    watch(guardian)
    log_in(guardian, live_server, "eva@example.org")
    guardian.goto(f"{live_server}/groepen/")
    post = guardian.locator("article.post").first
    post.get_by_role("heading", name="In de moestuin").wait_for()
    images = post.locator(".photo-grid img")
    assert images.count() == 2
    for i in range(2):
        images.nth(i).scroll_into_view_if_needed()
        guardian.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=images.nth(i).element_handle())
    assert post.get_by_role("link", name="https://www.example.org/moestuin").count() == 1

    like = post.get_by_role("button", name="Vind ik leuk")
    assert like.get_attribute("aria-pressed") == "false"
    like.click()
    post.locator("button.like[aria-pressed='true']").wait_for()
    assert post.locator(".like-count").inner_text() == "1"
    guardian.evaluate("window.scrollTo(0, 0)")
    shot(guardian, "feed-guardian-phone")

    # The photo viewer opens from the thumbnail, with the photo as a WebP in full width.
    with guardian.expect_navigation():
        images.first.click()
    assert "/foto/" in guardian.url
    viewer = guardian.locator(".photo-viewer-photo img")
    guardian.wait_for_function(
        "document.querySelector('.photo-viewer-photo img').naturalWidth > 0")
    assert ".webp" in viewer.evaluate("img => img.currentSrc")
    guardian.go_back()

    desktop = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(desktop, live_server, "eva@example.org")
    desktop.goto(f"{live_server}/groepen/")
    desktop.locator("article.post .photo-grid img").first.wait_for()
    shot(desktop, "feed-guardian-desktop")

    teacher.goto(f"{live_server}/groepen/")
    teacher.get_by_text("Leuk gevonden door: Eva Jansen").wait_for()
    teacher.get_by_text("gelezen door 1 van 1 gezinnen").first.wait_for()
    shot(teacher, "feed-teacher-after")

    assert errors == [], errors
    db.session.expire_all()
    post_row = db.session.scalar(select(Post))
    assert [a.kind for a in post_row.attachments] == ["photo", "photo"]
    assert len(db.session.scalars(select(Like)).all()) == 1
    db.session.rollback()


def test_older_posts_load_when_scrolling_down(app, live_server, browser):
    from datetime import timedelta

    from ..factories import make_post

    clock.set_now(NOW)
    group = make_group("Groep 5", grade=5)
    teacher = make_teacher(group, name="Ilse Vermeulen")
    make_guardian(child=make_student(group), email="mark@example.org")
    for i in range(45):
        make_post(group, author=teacher, title=f"Bericht {i:02d}",
                  publish_at=NOW - timedelta(minutes=100 - i))
    db.session.commit()
    db.session.rollback()

    page = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    log_in(page, live_server, "mark@example.org")
    page.goto(f"{live_server}/groepen/")
    assert page.locator("article.post").count() == 20
    for expected in (40, 45):
        page.locator("article.post").last.scroll_into_view_if_needed()
        page.mouse.wheel(0, 5000)
        page.locator("article.post").nth(expected - 1).wait_for()
    assert page.locator("article.post h2").last.inner_text() == "Bericht 00"
    assert page.get_by_role("link", name="Oudere berichten").count() == 0
