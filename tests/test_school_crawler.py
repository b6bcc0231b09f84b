"""Nothing of one school shows in another (issue 22, isolation by construction).

Two schools of a board, each with the world of tests/world.py and something of every
kind: posts with photos, an announcement, calendar items, activities of each kind with
answers, chats of each kind, an absence report, a consent question, a report to the
office. Everything of the second school carries a word that occurs nowhere in the first.
The guardian, the teacher and the admin of the first school each log in and follow
every link of every page they reach, breadth first: no page shows one of those words,
and none is a server error. A guardian with a child at each school does see both, so
the crawler cannot pass by seeing nothing.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from parro import clock
from parro.extensions import db
from parro.models import Answer, Booking, Consent, Pledge, Response, SignUp

from .factories import (
    current_year,
    make_absence,
    make_announcement,
    make_calendar_item,
    make_chat,
    make_conference,
    make_consent_topic,
    make_guardian,
    make_invitation,
    make_kindgesprek,
    make_materials,
    make_message,
    make_other_school,
    make_post,
    make_volunteer,
)
from .helpers import login_as, text_of
from .world import OTHER, build_world, in_school

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
SCHOOL_B = "Basisschool De Wilgenhof"

# What the second school's things are called: each word occurs nowhere in the first school.
B_WORDS = {
    "post": "Slakkenrace", "post_body": "Oorwurmenjacht", "announcement": "Kastanjemarkt",
    "calendar": "Egelwandeling", "group_calendar": "Uilenbraakbal",
    "conference": "Kikkerdril", "volunteer": "Beukennootjes", "shift": "Hertenkamp",
    "materials": "Dennenappels", "item": "Eikeltjesmand", "invitation": "Vlinderfeest",
    "chat": "Mierenhoop", "group_chat": "Reigersnest", "group_chat_message": "Zwanenhals",
    "office": "Vossenburcht", "absence": "Hommelsteek", "consent": "Libellenvijver",
    "report": "Mollenheuvel",
}
# The first school's, plain words: what the positive control's first child shows.
A_WORDS = {key: f"{key.replace('_', ' ').title()} van school A" for key in B_WORDS}
# The second school's names: the school, its groups, children and staff.
B_NAMES = [SCHOOL_B.split()[-1], OTHER.group.split()[-1], OTHER.other_group.split()[-1],
           *OTHER.student, *OTHER.other_student, OTHER.guardian, OTHER.guardian_other,
           OTHER.teacher, OTHER.teacher_other, OTHER.admin, OTHER.domain]

# Not followed: leaving, files that are not pages (photos, downloads of them), and the
# demo's mail and push viewers (they show every mail of the installation, by design).
SKIPPED = {"auth.logout", "static", "media.file", "media.pending", "feed.save_photo",
           "theme.favicon", "devmail.index", "devmail.show", "devpush.push_index"}
LIMIT = 400  # pages per crawl
PER_KIND = 4  # pages of one endpoint with the same query keys (calendar months, pages)


def furnish(app, w, words: dict[str, str]) -> dict[str, object]:
    """Something of every kind in world `w`'s school, called by `words`."""
    with in_school(app, w.school):
        post = make_post(w.group, author=w.teacher, photos=1, title=words["post"],
                         body=words["post_body"])
        make_announcement(school=w.school, title=words["announcement"])
        make_calendar_item(date(2027, 3, 5), title=words["calendar"], school=w.school)
        make_calendar_item(date(2027, 3, 9), title=words["group_calendar"], school=w.school,
                           groups=[w.group])
        conference = make_conference(w.group, title=words["conference"])
        db.session.add(Booking(slot=conference.slots[0], student=w.student,
                               booked_by_id=w.guardian.id))
        volunteer = make_volunteer(w.group, title=words["volunteer"],
                                   shifts=((words["shift"], 4),))
        db.session.add(SignUp(shift=volunteer.shifts[0], user_id=w.guardian.id))
        volunteer.shifts[0].taken = 1
        materials = make_materials(w.group, title=words["materials"],
                                   items=((words["item"], 10),))
        db.session.add(Pledge(item=materials.items[0], user_id=w.guardian.id, quantity=2))
        invitation = make_invitation(w.group, title=words["invitation"])
        db.session.add(Response(activity=invitation, student=w.student, answer=Answer.YES,
                                people=2, answered_by_id=w.guardian.id))
        make_message(make_kindgesprek(w.student), w.guardian, words["chat"])
        chat = make_chat(w.teacher, [w.guardian, w.guardian_other], title=words["group_chat"])
        make_message(chat, w.teacher, words["group_chat_message"])
        make_absence(w.student, day=date(2027, 3, 2), by=w.guardian, note=words["absence"])
        topics = [make_consent_topic(school=w.school),
                  make_consent_topic(name=words["consent"], app_photos=False, school=w.school)]
        # The year's privacy questions answered, or the feed waits for them.
        year = current_year(w.school)
        db.session.add_all(Consent(student_id=child.id, topic_id=topic.id, given=True,
                                   school_year_id=year.id)
                           for child in (w.student, w.other_student) for topic in topics)
        db.session.commit()
        from parro.chat import service as chat_service
        from parro.moderation import service as moderation

        chat_service.write_to_office(w.guardian, w.student, words["office"])
        moderation.report_item(w.guardian_other, post, words["report"])
    db.session.commit()
    return {"post": post}


@pytest.fixture
def board(app):
    """Two schools, each with its world furnished; the clock on a Monday before every
    deadline. Returns (A's world, B's world, B's markers)."""
    clock.set_now(MONDAY)
    a = build_world()
    furnish(app, a, A_WORDS)
    b = build_world(make_other_school(SCHOOL_B), OTHER)
    made = furnish(app, b, B_WORDS)
    keys = [photo.key for photo in made["post"].photos]  # B's photo in a page of A's
    db.session.commit()
    return a, b, [*B_WORDS.values(), *B_NAMES, *keys]


class _Links(HTMLParser):
    """The same-site links of a page: <a href>, GET forms (with their fields' values)
    and htmx's GETs."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self._form: list | None = None  # [action, fields] of an open GET form

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for name in ("hx-get", "data-hx-get"):
            if a.get(name):
                self.links.append(a[name])
        if tag == "form" and (a.get("method") or "get").lower() == "get":
            self._form = [a.get("action") or "", []]
        elif self._form is not None and tag in ("input", "select") and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind not in ("submit", "button", "checkbox", "radio", "file"):
                self._form[1].append((a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.links.append(f"{action}?{urlencode(fields)}" if fields else action)
            self._form = None


def crawl(app, client, markers: list[str], start: str = "/") -> tuple[dict, dict]:
    """Follow every same-site link from `start`, breadth first. Returns what each page
    showed of `markers` ({url: [markers]}) and every page's status ({url: status})."""
    adapter = app.url_map.bind("parro.test")
    queue, queued = deque([start]), {start}
    kinds: Counter = Counter()
    shown: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    while queue and len(statuses) < LIMIT:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        kind = response.mimetype or ""
        if not (kind.startswith("text/") or kind.endswith(("json", "javascript"))):
            continue
        body = response.get_data(as_text=True)
        found = [m for m in markers if m in body]
        if found:
            shown[url] = found
        targets = []
        if response.status_code in (301, 302, 303, 307, 308):
            targets.append(response.headers["Location"])
        if kind == "text/html":
            parser = _Links()
            parser.feed(body)
            targets += parser.links
        for target in targets:
            link = _same_site(url, target)
            if link is None or link in queued:
                continue
            path, _, query = link.partition("?")
            try:
                endpoint, _args = adapter.match(path, method="GET")
            except HTTPException:
                continue
            kind_key = (endpoint, tuple(sorted(re.findall(r"([^&=]+)=", query))))
            if endpoint in SKIPPED or kinds[kind_key] >= PER_KIND:
                continue
            kinds[kind_key] += 1
            queued.add(link)
            queue.append(link)
    return shown, statuses


def _same_site(base: str, target: str) -> str | None:
    """The path and query of a link to this site, without its fragment; None for another
    site, mail and telephone links."""
    target = target.replace("&amp;", "&").strip()
    if target.startswith(("mailto:", "tel:", "javascript:", "#", "data:", "blob:")):
        return None
    parts = urlsplit(urljoin(f"http://parro.test{base}", target))
    if parts.netloc != "parro.test":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.mark.parametrize("role", ["guardian", "teacher", "admin"])
def test_school_a_sees_nothing_of_school_b(app, client, board, role):
    a, _b, markers = board
    login_as(client, a.user(role), school=a.school)
    shown, statuses = crawl(app, client, markers)
    errors = {url: status for url, status in statuses.items() if status >= 500}
    assert not errors, f"server errors for school A's {role}: {errors}"
    assert not shown, f"school B's things in the pages of school A's {role}: {shown}"
    # The crawl went somewhere: the pages every role has, and the things of A's.
    assert len(statuses) >= 25, sorted(statuses)


def test_a_guardian_with_a_child_at_each_school_sees_both(app, client, board):
    a, b, markers = board
    both = make_guardian(children=[a.student, b.student], email="both@example.org",
                         name="Ouder van twee scholen")
    db.session.commit()
    login_as(client, both)
    shown, statuses = crawl(app, client, [*markers, *A_WORDS.values(), a.student.first_name])
    errors = {url: status for url, status in statuses.items() if status >= 500}
    assert not errors, f"server errors: {errors}"
    seen = {marker for found in shown.values() for marker in found}
    # Each child, its group's posts, activities and kindgesprek: of both schools.
    expected = {B_WORDS["post"], A_WORDS["post"], B_WORDS["conference"],
                A_WORDS["conference"], B_WORDS["chat"], A_WORDS["chat"],
                OTHER.student[0], a.student.first_name}
    assert expected - seen == set(), f"not seen: {expected - seen}; seen: {sorted(seen)}"


_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{8}T\d{6}Z?\b")


def _texts(client, urls) -> dict[str, str]:
    """Each page's text (what a user reads: no tokens, nonces or file keys), without the
    times of day (the pages say when they were made)."""
    texts = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        texts[url] = _CLOCK.sub("hh:mm", text_of(response))
    return texts


def _difference(before: str, after: str) -> str:
    """The words that differ, with a few around them."""
    import difflib

    old, new = before.split(), after.split()
    parts = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag != "equal":
            context = " ".join(old[max(0, i1 - 5):i1])
            parts.append(f"...{context} [{' '.join(old[i1:i2])} -> {' '.join(new[j1:j2])}]")
    return " ".join(parts)


@pytest.mark.parametrize("role", ["guardian", "teacher", "admin"])
def test_a_second_school_changes_nothing_school_a_reads(app, client, role):
    """Counts too: with school B and all of its news added, school A's pages read the
    same, word for word (its unread badges, totals and lists)."""
    clock.set_now(MONDAY)
    a = build_world()
    furnish(app, a, A_WORDS)
    login_as(client, a.user(role), school=a.school)
    _shown, statuses = crawl(app, client, [])  # everything of A's read
    urls = [url for url, status in statuses.items() if status == 200]
    school = make_other_school(SCHOOL_B)  # a board now: the pages of one school may say so
    db.session.commit()
    clock.set_now(MONDAY + timedelta(minutes=10))  # an admin's session idles out at 30
    alone = _texts(client, urls)
    # B's news comes after A's pages were last read: new, were it counted in A's.
    clock.set_now(MONDAY + timedelta(minutes=20))
    furnish(app, build_world(school, OTHER), B_WORDS)
    after = _texts(client, urls)
    changed = {url: _difference(alone[url], after[url]) for url in urls
               if alone[url] != after[url]}
    assert not changed, f"school A's {role} reads otherwise with school B's things: {changed}"
    assert len(urls) >= 25


def test_the_board_admin_reads_no_content_of_either_school(app, client, board):
    """The board sees figures, schools and their admins: no post, message, letter to the
    office, absence note, report or child of any school. And no link of the board admin's
    pages (the menu, Mijn account, Help) leads to a page they are refused or that is not
    there."""
    a, b, _markers = board
    login_as(client, a.board)  # the installation's one, in both worlds
    content = ("post", "post_body", "chat", "group_chat_message", "office", "absence",
               "report")
    markers = [words[key] for words in (A_WORDS, B_WORDS) for key in content]
    markers += [" ".join(OTHER.student), " ".join(OTHER.other_student),
                f"{a.student.first_name} {a.student.last_name}"]
    shown, statuses = crawl(app, client, [*markers, SCHOOL_B])
    errors = {url: status for url, status in statuses.items()
              if status >= 500 or status in (403, 404)}
    assert not errors, f"refused, missing or failing pages for the board admin: {errors}"
    assert {"/account", "/help", "/account/tweestapsverificatie"} <= set(statuses)
    content = {url: found for url, found in shown.items() if set(found) - {SCHOOL_B}}
    assert not content, f"content in the board admin's pages: {content}"
    # The crawl reached the board's pages: both schools are there.
    assert any(SCHOOL_B in found for found in shown.values()), sorted(statuses)


def test_a_board_admin_without_two_factor_login_reaches_its_set_up_only(app, client, board):
    """Before it is set up, every link leads to setting it up (303), none to a refusal."""
    from parro.models import Role

    from .factories import make_user

    board_admin = make_user(Role.BOARD, email="bestuur@example.org", two_factor=False)
    db.session.commit()
    login_as(client, board_admin)
    _shown, statuses = crawl(app, client, [])
    assert set(statuses.values()) == {200, 303}, statuses
    assert statuses["/account/tweestapsverificatie"] == 200
    assert {url for url, status in statuses.items() if status == 200} <= {
        "/account/tweestapsverificatie", "/static/css/app.css"} | {
        url for url in statuses if url.startswith("/theme")}, statuses


@pytest.mark.parametrize("role", ["teacher", "admin"])
def test_staff_of_both_schools_see_the_school_they_work_in(app, client, board, role):
    """A teacher (a group at each school) and an admin of both: working in A, nothing of
    B's but its name in the school switcher; switched to B, B's things and none of A's."""
    from .factories import also_works_at, make_admin, make_teacher

    a, b, markers = board
    if role == "teacher":
        user = also_works_at(b.school, make_teacher(
            groups=[a.group], email="juf.van.twee@example.org", school=a.school),
            groups=[b.group])
    else:
        user = also_works_at(b.school, make_admin(email="directie.van.twee@example.org",
                                                  school=a.school))
    db.session.commit()
    login_as(client, user, school=a.school)
    shown, statuses = crawl(app, client, markers)
    assert not {url: status for url, status in statuses.items() if status >= 500}
    switcher = url_for_path(app, "auth.schools")
    assert shown == {switcher: [SCHOOL_B.split()[-1]]}, shown

    response = client.post(switcher, data={"school_id": str(b.school.id)})
    assert response.status_code == 303
    a_markers = [*A_WORDS.values(), f"{a.student.first_name} {a.student.last_name}"]
    shown, statuses = crawl(app, client, [*a_markers, B_WORDS["post"], B_WORDS["conference"]])
    assert not {url: status for url, status in statuses.items() if status >= 500}
    seen = {marker for found in shown.values() for marker in found}
    assert seen == {B_WORDS["post"], B_WORDS["conference"]}, shown


def url_for_path(app, endpoint, **values) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def test_a_teacher_taken_off_school_b_finds_nothing_of_it(app, client, board):
    """B's teacher (who wrote B's post and started its group chat) works at A too, and B's
    office takes them off B. Their browser, in B until then, moves to A; from the home page
    and from what they made at B (the post, its photo, the chat), nothing of B's shows."""
    from parro.auth.service import leave_school
    from parro.models import Conversation, ConversationKind, Post, SchoolStaff

    a, b, markers = board
    db.session.add(SchoolStaff(user_id=b.teacher.id, school_id=a.school.id))
    db.session.commit()
    post = db.session.scalar(select(Post).where(Post.title == B_WORDS["post"]))
    chat = db.session.scalar(select(Conversation).where(
        Conversation.kind == ConversationKind.GROUP, Conversation.school_id == b.school.id))
    starts = ["/", url_for_path(app, "feed.post", post_id=post.id),
              url_for_path(app, "feed.photo", post_id=post.id, photo_id=post.photos[0].id),
              url_for_path(app, "chat.show", conversation_id=chat.id)]
    login_as(client, b.teacher, school=b.school)
    assert B_WORDS["post"] in text_of(client.get(starts[1]))  # theirs, while at B
    with in_school(app, b.school):
        assert leave_school(b.teacher, b.school, b.admin)
    theirs = {OTHER.teacher, OTHER.domain}  # their own name and address, in the header
    for start in starts:
        shown, statuses = crawl(app, client, [m for m in markers if m not in theirs], start)
        assert not {url: status for url, status in statuses.items() if status >= 500}
        assert not shown, f"school B's things from {start}: {shown}"
