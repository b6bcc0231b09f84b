"""In a real browser: photos come at the size they are shown, as WebP, and are kept,
and lie in the grid their number asks for.

A parent's phone (360 px wide, 2 device pixels per CSS pixel) and a desktop
(1280 px, also at 2) open the feed with posts of one to five photos, and a
conversation with photos. Every photo shown must be a WebP within a factor of
two of the device pixels it fills (the stored sizes are steps of two). A second
visit fetches no photo again: the browser keeps them under their digest. One
photo lies alone, two or three in a row, four as two rows of two, five in rows
of three.
"""

from __future__ import annotations

import threading

import pytest
from flask import request, request_started

from parro import media
from parro.chat import attachments
from parro.extensions import db

from ..factories import (
    PASSWORD,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_post,
    make_student,
    make_teacher,
    photo_bytes,
    stage_files,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_server_config(tmp_path):
    return {"MEDIA_PATH": str(tmp_path / "media")}


@pytest.fixture
def photo_requests():
    """The paths of the photo requests that reach the server."""
    seen, lock = [], threading.Lock()

    def record(sender, **extra):
        if "/media/" in request.path or "/bijlagen/" in request.path:
            with lock:
                seen.append(request.path)

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


def camera(n: int) -> list[tuple[str, bytes]]:
    return [(f"IMG_{i}.jpg", photo_bytes(4000, 3000, (40 * i, 120, 200))) for i in range(n)]


@pytest.fixture
def school(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    group = make_group("Groep 3")
    child = make_student(group, first_name="Sem")
    teacher = make_teacher(group)
    make_guardian(child=child, email="eva@example.org")
    for n in (5, 4, 3, 2, 1):  # newest first: one photo on top
        make_post(group, author=teacher, files=camera(n), body=f"{n} foto's")
    conversation = make_kindgesprek(child)
    for n in (1, 3, 4):
        staged = stage_files(*camera(n))
        attachments.attach(make_message(conversation, teacher, f"{n} foto's"), staged)
        db.session.commit()
        media.commit(staged)
    conversation_id = conversation.id
    db.session.commit()
    return conversation_id


# The test photos are 4000 x 3000: each stored size's width.
PIXELS = {"240.webp": 240, "480.webp": 480, "960.webp": 960, "groot.webp": 1600}
SHOWN = """() => [...document.querySelectorAll('.photo-grid img')].map(img => ({
    src: img.currentSrc, natural: img.naturalWidth, shown: img.clientWidth,
    fills: img.clientWidth * devicePixelRatio}))"""


def photos_shown(page) -> list[dict]:
    page.wait_for_function("""() => [...document.querySelectorAll('.photo-grid img')]
        .every(img => img.complete && img.naturalWidth > 0)""")
    return page.evaluate(SHOWN)


@pytest.mark.parametrize("width", [360, 1280])
def test_photos_come_at_the_size_they_are_shown_and_are_kept(
        new_page, school, photo_requests, width):
    page = new_page(viewport={"width": width, "height": 4000}, device_scale_factor=2)
    page.goto("/login")
    page.get_by_label("E-mailadres").fill("eva@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)

    for path in ("/groepen/", f"/gesprekken/{school}"):
        page.goto(path)
        shown = photos_shown(page)
        assert len(shown) == (15 if path == "/groepen/" else 8)
        for photo in shown:
            assert photo["src"].split("?")[0].endswith(".webp"), photo
            # Within one step of the sizes (x2) of the device pixels it fills (the
            # browser may take the next smaller one when it is close).
            pixels = PIXELS[photo["src"].split("/")[-1].split("?")[0]]
            assert pixels <= 2 * photo["fills"], photo
            assert pixels >= photo["fills"] / 2, photo
        fetched = len(photo_requests)
        assert fetched >= len(shown)

        # The next visit shows the same photos without asking for any of them again.
        page.goto("/help")
        page.goto(path)
        assert len(photos_shown(page)) == len(shown)
        assert len(photo_requests) == fetched, photo_requests[fetched:]
        photo_requests.clear()


# Per .photo-grid: how many photos, in how many rows and columns (their boxes' tops and
# lefts), and whether all are as wide as each other.
GRIDS = """() => [...document.querySelectorAll('.photo-grid')].map(grid => {
    const boxes = [...grid.children].map(li => li.getBoundingClientRect());
    const distinct = values => new Set(values.map(Math.round)).size;
    return {photos: boxes.length, rows: distinct(boxes.map(b => b.top)),
            columns: distinct(boxes.map(b => b.left)), widths: distinct(boxes.map(b => b.width))};
})"""
# photos: (rows, columns)
LAYOUT = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3)}


@pytest.mark.parametrize("width", [360, 1280])
def test_photos_lie_in_the_grid_their_number_asks_for(new_page, school, width):
    page = new_page(viewport={"width": width, "height": 900})
    page.goto("/login")
    page.get_by_label("E-mailadres").fill("eva@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)

    for path, counts in (("/groepen/", [1, 2, 3, 4, 5]), (f"/gesprekken/{school}", [1, 3, 4])):
        page.goto(path)  # the photos' boxes come from the CSS and their width and height
        grids = page.evaluate(GRIDS)
        assert sorted(g["photos"] for g in grids) == counts, grids
        for grid in grids:
            rows, columns = LAYOUT[grid["photos"]]
            assert (grid["rows"], grid["columns"], grid["widths"]) == (rows, columns, 1), grid
