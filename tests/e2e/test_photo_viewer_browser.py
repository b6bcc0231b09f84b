"""In a real browser: the photo viewer (issue 19, point 5).

A parent on a phone (360 px, touch) taps a photo in the feed, swipes to the next and
back, and closes the viewer to the same post in the feed; on a desktop (1280 px) the
arrow keys and Escape do the same. No Content-Security-Policy violation on the way.
"""

from __future__ import annotations

import pytest

from parro.extensions import db

from ..factories import (
    PASSWORD,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_server_config(tmp_path):
    return {"MEDIA_PATH": str(tmp_path / "media")}


@pytest.fixture
def school(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    group = make_group("Groep 3")
    teacher = make_teacher(group)
    make_guardian(child=make_student(group, first_name="Sem"), email="eva@example.org")
    post = make_post(group, author=teacher, title="Naar het bos", photos=3)
    for n in range(4):  # newer posts above it: the way back must find it again
        make_post(group, author=teacher, body=f"Bericht {n}\n" + "Tekst.\n" * 30)
    ids = {"post": post.id, "photos": [p.id for p in post.photos], "group": group.id}
    db.session.commit()
    return ids


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def swipe(page, selector: str, dx: int) -> None:
    """A finger moving sideways across the element, as the phone's touch screen sends it."""
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 6):
        cdp.send("Input.dispatchTouchEvent", {
            "type": "touchMove", "touchPoints": [{"x": x + dx * step / 5, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def photo_url(school, n: int) -> str:
    return f"/groepen/bericht/{school['post']}/foto/{school['photos'][n]}"


def at(page, school, n: int) -> None:
    """Wait for the viewer on photo `n` (which keeps the way back to the feed)."""
    page.wait_for_url(lambda url: f"{photo_url(school, n)}?terug=" in url)


def test_swiping_on_a_phone_and_closing_to_the_same_post(new_page, school):
    page = new_page(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                    device_scale_factor=2)
    log_in(page, "eva@example.org")
    page.goto(f"/groepen/{school['group']}")
    page.locator(f"#post-{school['post']} .photo-grid a").first.click()
    at(page, school, 0)
    assert page.get_by_text("Foto 1 van 3").is_visible()
    # Full width on a phone.
    box = page.locator(".photo-viewer-photo img").bounding_box()
    assert box["x"] == 0 and box["width"] == 360

    swipe(page, ".photo-viewer-photo", -200)  # to the left: the next photo
    at(page, school, 1)
    swipe(page, ".photo-viewer-photo", -200)
    at(page, school, 2)
    swipe(page, ".photo-viewer-photo", -200)  # the last one: nothing further
    swipe(page, ".photo-viewer-photo", 200)  # to the right: the previous photo
    at(page, school, 1)
    assert page.get_by_text("Foto 2 van 3").is_visible()

    page.get_by_role("link", name="Sluiten").click()
    page.wait_for_url(f"**/groepen/{school['group']}#post-{school['post']}")
    # Back where it was: the post is on the screen, though four posts stand above it.
    top = page.evaluate(
        f"document.getElementById('post-{school['post']}').getBoundingClientRect().top")
    assert 0 <= top < 740 / 2
    assert page.evaluate("window.scrollY") > 0
    assert new_page.violations == []


def test_arrow_keys_and_escape_on_a_desktop(new_page, school):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "eva@example.org")
    page.goto(photo_url(school, 0) + f"?terug=/groepen/{school['group']}")
    page.keyboard.press("ArrowRight")
    at(page, school, 1)
    page.keyboard.press("ArrowRight")
    at(page, school, 2)
    page.keyboard.press("ArrowLeft")
    at(page, school, 1)
    assert page.get_by_text("Foto 2 van 3").is_visible()
    page.keyboard.press("Escape")
    page.wait_for_url(f"**/groepen/{school['group']}#post-{school['post']}")
    assert new_page.violations == []
