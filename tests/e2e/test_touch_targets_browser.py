"""In a real browser: touch targets (issue 19, point 6; WCAG 2.2 AA, 2.5.8).

On a phone (360 px), the teacher's new-post form and the parent's pages: every button,
checkbox, radio button, select and button-styled link is at least 24 x 24 CSS px, the
main actions (button-primary, Menu) at least 44 px high; the "later plaatsen" field is as
tall as the other fields, and a tag's checkbox keeps its size beside a long name.
"""

from __future__ import annotations

import pytest

from parro.extensions import db

from ..factories import (
    PASSWORD,
    give_consent,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
)

pytestmark = pytest.mark.e2e

TARGETS = """() => [...document.querySelectorAll(
    'main button, main input[type=checkbox], main input[type=radio], main select, main .button,'
    + ' .menu-button, .avatar')]
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => { const r = el.getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 80), w: r.width, h: r.height,
            main: el.matches('.button-primary, .menu-button')}; })"""


@pytest.fixture
def school(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    group = make_group("Groep 3")
    make_teacher(group, email="anna@example.org")
    long_name = make_student(group, first_name="Maximiliaan-Alexander", last_name="van den Heuvel")
    give_consent(long_name)
    make_student(group, first_name="Sem")
    make_guardian(child=long_name, email="eva@example.org")
    make_post(group, photos=2)
    ids = {"group": group.id}
    db.session.commit()
    return ids


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def assert_targets(page, path: str) -> None:
    page.goto(path)
    for t in page.evaluate(TARGETS):
        assert t["w"] >= 24 and t["h"] >= 24, (path, t)
        if t["main"]:
            assert t["h"] >= 44, (path, t)


def test_targets_on_the_teachers_new_post_form(new_page, school):
    page = new_page(viewport={"width": 360, "height": 740})
    log_in(page, "anna@example.org")
    path = f"/groepen/{school['group']}/nieuw"
    assert_targets(page, path)
    later = page.locator("input[type=datetime-local]").bounding_box()
    title = page.locator("input[name=title]").bounding_box()
    # Styled like the others: full width, their border and padding (the browser adds a
    # pixel or two inside for its date picker).
    assert later["width"] == title["width"] and abs(later["height"] - title["height"]) <= 3
    assert page.locator("input[type=datetime-local]").evaluate(
        "el => getComputedStyle(el).borderRadius") == "8px"
    boxes = [page.locator(f"input[name=tagged] >> nth={n}").bounding_box() for n in range(2)]
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in boxes)
    assert boxes[0]["width"] == boxes[1]["width"]  # the long name does not squeeze it


def test_targets_on_a_parents_pages(new_page, school):
    page = new_page(viewport={"width": 360, "height": 740})
    log_in(page, "eva@example.org")
    for path in ("/groepen/", "/account", "/absentie/", "/gesprekken/", "/activiteiten/"):
        assert_targets(page, path)


def test_chosen_photos_are_previewed_before_posting(new_page, school, tmp_path):
    """(Issue 19, point 6, posting.) Under the strict CSP: blob: images only."""
    from ..factories import pdf_bytes, photo_bytes

    (tmp_path / "bos.jpg").write_bytes(photo_bytes())
    (tmp_path / "brief.pdf").write_bytes(pdf_bytes())
    page = new_page(viewport={"width": 360, "height": 740})
    log_in(page, "anna@example.org")
    page.goto(f"/groepen/{school['group']}/nieuw")
    preview = page.locator("#upload-preview")
    assert not preview.is_visible()
    page.locator("input[type=file]").set_input_files([tmp_path / "bos.jpg",
                                                      tmp_path / "brief.pdf"])
    img = preview.locator("img")
    img.wait_for()
    assert img.get_attribute("src").startswith("blob:") and img.get_attribute("alt") == "bos.jpg"
    page.wait_for_function("document.querySelector('#upload-preview img').naturalWidth > 0")
    assert "brief.pdf" in preview.inner_text()
    assert new_page.violations == []
