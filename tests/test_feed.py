"""The feed: who sees which posts, in what order, page by page, at a constant cost."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from parro import clock
from parro.extensions import db
from parro.models import Attachment, GroupSeen, Like, PhotoTag, Post, PostGroup, ReadReceipt

from .factories import (
    make_admin,
    make_group,
    make_guardian,
    make_post,
    make_student,
    make_teacher,
    make_year,
)
from .feed_helpers import fresh, reader, sign_in
from .helpers import count_queries, text_of

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def school(app):
    clock.set_now(NOW)
    g3 = make_group("Groep 3")
    g6 = make_group("Groep 6", grade=6)
    g5 = make_group("Groep 5", grade=5)
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    lotte = make_student(g6, first_name="Lotte", last_name="Jansen")
    noah = make_student(g5, first_name="Noah", last_name="Dekker")
    world = {
        "g3": g3, "g5": g5, "g6": g6, "sem": sem, "lotte": lotte, "noah": noah,
        "anna": make_teacher(g3, name="Anna de Boer"),
        "joost": make_teacher(g6, name="Joost de Graaf"),
        "ilse": make_teacher(g5, name="Ilse Vermeulen"),
        "jansen": make_guardian(children=[sem, lotte], name="Eva Jansen"),
        "dekker": make_guardian(child=noah, name="Mark Dekker"),
        "admin": make_admin(),
    }
    db.session.commit()
    return world


def at(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


def titles(response) -> list[str]:
    return re.findall(r'<h2 class="post-title">([^<]*)</h2>', response.get_data(as_text=True))


def test_guardian_sees_one_combined_feed_of_their_childrens_groups(client, school):
    make_post(school["g3"], author=school["anna"], title="Groep 3 knutselt", publish_at=at(30))
    make_post(school["g6"], author=school["joost"], title="Groep 6 op excursie", publish_at=at(20))
    make_post(school["g5"], author=school["ilse"], title="Groep 5 zingt", publish_at=at(10))
    db.session.commit()
    sign_in(client, school["jansen"])
    response = client.get("/groepen/")
    assert response.status_code == 200
    assert titles(response) == ["Groep 6 op excursie", "Groep 3 knutselt"]  # newest first
    text = text_of(response)
    # One filter per child, pointing at the child's group.
    assert "Sem · Groep 3" in text and "Lotte · Groep 6" in text
    assert f'href="/groepen/{school["g6"].id}"' in response.get_data(as_text=True)

    response = client.get(f"/groepen/{school['g6'].id}")
    assert titles(response) == ["Groep 6 op excursie"]
    assert client.get(f"/groepen/{school['g5'].id}").status_code == 403


def test_teacher_sees_their_groups_and_the_admin_all(client, school):
    make_post(school["g3"], author=school["anna"], title="Drie", publish_at=at(30))
    make_post(school["g5"], author=school["ilse"], title="Vijf", publish_at=at(20))
    db.session.commit()
    sign_in(client, school["anna"])
    assert titles(client.get("/groepen/")) == ["Drie"]
    sign_in(client, school["admin"])
    assert titles(client.get("/groepen/")) == ["Vijf", "Drie"]


def test_last_years_group_is_gone_for_guardians(client, school):
    old_year = make_year("2025-2026")
    old_group = make_group("Groep 2", grade=2, year=old_year)
    from parro.models import Membership

    db.session.add(Membership(student=school["noah"], group=old_group, year=old_year))
    make_post(old_group, author=make_teacher(old_group), title="Vorig jaar", publish_at=at(99))
    db.session.commit()
    sign_in(client, school["dekker"])
    assert "Vorig jaar" not in text_of(client.get("/groepen/"))
    assert client.get(f"/groepen/{old_group.id}").status_code == 403


def test_scheduled_posts_are_hidden_from_guardians_until_their_time(client, school):
    make_post(school["g3"], author=school["anna"], title="Later",
              publish_at=NOW + timedelta(hours=2))
    db.session.commit()
    sign_in(client, school["jansen"])
    assert titles(client.get("/groepen/")) == []
    sign_in(client, school["anna"])
    response = client.get("/groepen/")
    assert titles(response) == ["Later"] and "Gepland" in text_of(response)
    clock.set_now(NOW + timedelta(hours=2))
    sign_in(client, school["jansen"])
    assert titles(client.get("/groepen/")) == ["Later"]


def _many_posts(school, n: int) -> None:
    """n posts in groep 3 and 6 each with three photos, likes, receipts and tags (bulk)."""
    author = school["anna"]
    likers = [make_guardian(child=school["sem"]) for _ in range(3)]
    db.session.flush()
    published = db.session.execute(
        insert(Post).returning(Post.id, Post.publish_at),
        [
            {"author_id": author.id, "title": f"Bericht {i}", "body": f"Tekst {i}",
             "important": i % 7 == 0, "created_at": at(n - i), "publish_at": at(n - i)}
            for i in range(n)
        ],
    ).all()
    posts = [p for p, _ in published]
    db.session.execute(
        insert(PostGroup),
        [{"post_id": p, "group_id": g.id, "publish_at": moment}
         for p, moment in published for g in (school["g3"], school["g6"])],
    )
    attachment_ids = db.session.scalars(
        insert(Attachment).returning(Attachment.id),
        [
            {"post_id": p, "key": f"{p:08d}{k:024d}", "kind": "photo", "filename": "foto.jpg",
             "content_type": "image/jpeg", "size": 1000, "width": 64, "height": 48,
             "position": k, "has_original": False, "created_at": NOW}
            for p in posts for k in range(3)
        ],
    ).all()
    db.session.execute(
        insert(PhotoTag),
        [{"attachment_id": a, "student_id": school["sem"].id} for a in attachment_ids[::3]],
    )
    db.session.execute(
        insert(Like),
        [{"post_id": p, "user_id": u.id, "created_at": NOW} for p in posts for u in likers],
    )
    db.session.execute(
        insert(ReadReceipt),
        [{"post_id": p, "user_id": likers[0].id, "read_at": NOW} for p in posts],
    )
    db.session.commit()


@pytest.mark.parametrize(("role", "budget"), [("jansen", 15), ("anna", 16), ("admin", 18)])
def test_the_cost_of_a_feed_page_does_not_grow_with_the_feed(make_client, app, school, role,
                                                              budget):
    counts = []
    for n in (10, 1000):
        db.session.execute(Post.__table__.delete())
        db.session.execute(GroupSeen.__table__.delete())  # both times the feed has news to mark
        db.session.commit()
        _many_posts(school, n)
        client = make_client()
        sign_in(client, school[role])
        with count_queries(client.application) as queries:
            response = client.get("/groepen/")
        assert response.status_code == 200
        assert len(titles(response)) == min(n, 20)
        counts.append(queries.count)
        if n == 1000:
            # The next page, as htmx loads it on scrolling, costs the same.
            more = re.search(r'data-hx-get="([^"]+)" data-hx-trigger="revealed"',
                             response.get_data(as_text=True)).group(1)
            with count_queries(client.application) as more_queries:
                fragment = client.get(more.replace("&amp;", "&"), headers={"HX-Request": "true"})
            assert len(titles(fragment)) == 20
            assert more_queries.count <= queries.count, more_queries
    # A feed shorter than a page is not read a second time: the window held all of it.
    assert counts[0] == counts[1], f"{counts}: {queries}"
    # Incl. the navigation's counts, the group tabs' counts and marking them seen.
    assert counts[1] <= budget, f"{counts}: {queries}"


def test_pages_of_twenty_with_an_older_posts_link_and_htmx_fragments(client, school):
    for i in range(45):
        make_post(school["g3"], author=school["anna"], title=f"Bericht {i:02d}",
                  publish_at=at(100 - i))
    db.session.commit()
    sign_in(client, school["jansen"])
    first = client.get(f"/groepen/{school['g3'].id}")
    assert titles(first) == [f"Bericht {i:02d}" for i in range(44, 24, -1)]
    html = first.get_data(as_text=True)
    link = re.search(
        r'<a class="button" href="([^"]+)" data-hx-get="([^"]+)" data-hx-trigger="revealed"', html
    )
    assert link and "Oudere berichten" in html
    second = client.get(link.group(1).replace("&amp;", "&"))
    assert titles(second) == [f"Bericht {i:02d}" for i in range(24, 4, -1)]
    assert "<html" in second.get_data(as_text=True)  # without JavaScript: a whole page

    more = re.search(r'data-hx-get="([^"]+)" data-hx-trigger="revealed"',
                     second.get_data(as_text=True)).group(1)
    third = client.get(more.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert titles(third) == [f"Bericht {i:02d}" for i in range(4, -1, -1)]
    body = third.get_data(as_text=True)
    assert "<html" not in body and "Oudere berichten" not in body
    assert "HX-Request" in third.headers.get("Vary", "")


def test_posts_with_the_same_time_are_not_lost_between_pages(client, school, app):
    app.config["FEED_PAGE_SIZE"] = 3
    for i in range(7):
        make_post(school["g3"], author=school["anna"], title=f"B{i}", publish_at=at(5))
    db.session.commit()
    client = client.application.test_client()
    client.application.config["FEED_PAGE_SIZE"] = 3
    sign_in(client, school["jansen"])
    seen, url = [], "/groepen/"
    while url:
        response = client.get(url)
        seen += titles(response)
        match = re.search(r'<a class="button" href="([^"]+)"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == [f"B{i}" for i in range(6, -1, -1)]


def test_hidden_posts_among_the_newest_do_not_shorten_a_page(client, school, app):
    """The feed looks among the newest posts of the user's groups first; when hidden
    posts leave too few there, it looks at all of them."""
    client.application.config["FEED_PAGE_SIZE"] = 3
    posts = [make_post(school["g3"], author=school["anna"], title=f"B{i}", publish_at=at(50 - i))
             for i in range(14)]
    for post in posts[-9:]:  # the nine newest, more than the first look's window of 8
        post.hidden_at = NOW
    db.session.commit()
    sign_in(client, school["jansen"])
    seen, url = [], "/groepen/"
    while url:
        response = client.get(url)
        seen.append(titles(response))
        match = re.search(r'<a class="button" href="([^"]+)"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == [["B4", "B3", "B2"], ["B1", "B0"]]


def test_a_bad_cursor_is_a_bad_request(client, school):
    sign_in(client, school["jansen"])
    assert client.get("/groepen/?voor=abc").status_code == 400
    assert client.get("/groepen/?voor=99999").status_code == 200


def test_photos_show_as_thumbnails_that_open_the_photo_viewer(client, school):
    post = make_post(school["g3"], author=school["anna"], photos=3)
    db.session.commit()
    sign_in(client, school["jansen"])
    html = client.get("/groepen/").get_data(as_text=True)
    for photo in post.photos:
        key, v = photo.key, photo.digest
        # WebP where the browser has it, the JPEG thumbnail where not; opens in the viewer
        # (tests/test_photo_viewer.py), which closes back to this page.
        assert (f'<a href="/groepen/bericht/{post.id}/foto/{photo.id}?terug=/groepen/">'
                f'<picture><source type="image/webp" '
                f'srcset="/media/{key}/groot.webp?v={v} 64w"') in html
        assert f'<img src="/media/{key}/klein?v={v}" srcset="/media/{key}/klein?v={v} 64w' in html
    assert 'class="photo-grid photo-grid-3"' in html


@pytest.mark.parametrize("photos, layout, sizes", [
    (4, "photo-grid-4", "(min-width: 736px) 333px, calc(50vw - 35px)"),  # two rows of two
    (5, "photo-grid-many", "(min-width: 736px) 221px, calc(33.3vw - 25px)"),  # rows of three
])
def test_four_photos_lie_two_by_two_and_more_in_rows_of_three(client, school, photos, layout,
                                                              sizes):
    make_post(school["g3"], author=school["anna"], photos=photos)
    db.session.commit()
    sign_in(client, school["jansen"])
    html = client.get("/groepen/").get_data(as_text=True)
    assert f'class="photo-grid {layout}"' in html
    assert html.count(f'sizes="{sizes}"') == 2 * photos  # the WebP and the JPEG of each


def test_staff_reach_the_student_list_from_the_group_page(client, school):
    sign_in(client, school["anna"])
    page = client.get(f"/groepen/{school['g3'].id}")
    assert f'href="/groepen/{school["g3"].id}/leerlingen"' in page.get_data(as_text=True)
    students = client.get(f"/groepen/{school['g3'].id}/leerlingen")
    assert students.status_code == 200 and "Sem Jansen" in text_of(students)
    sign_in(client, school["jansen"])
    page = client.get(f"/groepen/{school['g3'].id}").get_data(as_text=True)
    assert f"/groepen/{school['g3'].id}/leerlingen" not in page
    assert client.get(f"/groepen/{school['g3'].id}/leerlingen").status_code == 403


def test_empty_feed_says_so(client, school):
    sign_in(client, school["dekker"])
    assert "Er zijn nog geen berichten." in text_of(client.get("/groepen/"))
    fresh()
