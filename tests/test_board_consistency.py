"""Several schools in one installation (issue 22): loose ends of consistency.

Two schools of one board, A (Basisschool De Test) and B (Basisschool De Ander): what a
page shows of a school is that school's (its name, its number, its conversations), and
a board costs a one-school page no statement more.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parro import clock
from parro.extensions import db

from .factories import (
    also_works_at,
    current_year,
    make_admin,
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_other_school,
    make_post,
    make_student,
    make_teacher,
)
from .feed_helpers import fresh, page_text, reader
from .helpers import count_queries, csrf_token, login_as
from .test_nav_counts import nav_count
from .world import two_schools

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 9, 7, 0, tzinfo=UTC)  # a Tuesday, 08:00 at school


@pytest.fixture
def board(app):
    clock.set_now(NOW)
    world = two_schools()
    a3 = world["a3"]
    a4 = world["a4"] = make_group("Groep 4a", grade=4)
    world["one_school"] = make_guardian(children=[make_student(a3, first_name="Tim"),
                                                  make_student(a4, first_name="Tess")],
                                        name="Familie Smit")
    make_post(a4, author=world["teacher_a"], title="Nieuws uit groep 4a")
    db.session.commit()
    return world


def _feed(client, user):
    fresh()
    login_as(client, user)
    client.get("/groepen/")  # the first visit marks the groups seen
    fresh()
    with count_queries(client.application) as queries:
        response = client.get("/groepen/")
    assert response.status_code == 200
    return page_text(response), queries


# -- 1. the header's "Andere school" costs no statement ----------------------------------


def test_the_andere_school_link_costs_a_board_no_statement(client, app):
    clock.set_now(NOW)
    a3 = make_group("Groep 3a", grade=3)
    a4 = make_group("Groep 4a", grade=4)
    teacher = make_teacher(a3, groups=[a4], name="Juf Anna")
    smit = make_guardian(children=[make_student(a3, first_name="Tim"),
                                   make_student(a4, first_name="Tess")], name="Familie Smit")
    make_post(a3, author=teacher, title="Nieuws uit groep 3a")
    make_post(a4, author=teacher, title="Nieuws uit groep 4a")
    db.session.commit()
    text, one_school = _feed(client, smit)
    assert "Nieuws uit groep 4a" in text and "Andere school" not in text
    # The installation becomes a board; a family has a child at each of its schools.
    b = make_other_school()
    b5 = make_group("Groep 5b", grade=5, year=current_year(b))
    make_post(b5, author=make_teacher(b5, school=b), title="Nieuws uit groep 5b")
    family = make_guardian(children=[make_student(a3, first_name="Sem"),
                                     make_student(b5, first_name="Lotte")])
    db.session.commit()
    text, two = _feed(client, family)
    assert "Nieuws uit groep 3a" in text and "Nieuws uit groep 5b" in text
    assert "Andere school" in text
    assert two.count <= one_school.count, f"{two}\n----\n{one_school}"
    text, board_one = _feed(client, smit)
    assert "Andere school" not in text
    assert board_one.count <= one_school.count, f"{board_one}\n----\n{one_school}"


def test_a_teacher_at_two_schools_has_the_link_and_one_at_one_school_not(client, board):
    text, _ = _feed(client, board["gym"])
    assert "Andere school" in text
    text, _ = _feed(client, board["teacher_a"])
    assert "Andere school" not in text


# -- 2. staff's kindgesprekken: the count is the list's ----------------------------------


def _chats(client, user, school=None):
    fresh()
    login_as(client, user, school)
    html = client.get("/gesprekken/").get_data(as_text=True)
    return nav_count(html, "chat"), page_text_of(html)


def page_text_of(html):
    import html as entities
    import re

    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_a_teacher_at_two_schools_counts_the_kindgesprekken_their_list_shows(client, board):
    make_message(make_kindgesprek(board["sem"]), board["family"], body="Over Sem")
    make_message(make_kindgesprek(board["lotte"]), board["family"], body="Over Lotte")
    db.session.commit()
    count, text = _chats(client, board["gym"], board["a"])
    assert "Sem" in text and "Lotte" not in text
    assert count.startswith("1 ")
    count, text = _chats(client, board["gym"], board["b"])
    assert "Lotte" in text and "Sem" not in text
    assert count.startswith("1 ")
    # The poll says the same.
    assert "nav-count-chat" not in client.get(
        "/tellers?chat=1&feed=0&activities=0").get_data(as_text=True)
    # A family's count is of all its children, at both schools.
    make_message(_kindgesprek_of(board["sem"]), board["gym"], body="Antwoord over Sem")
    make_message(_kindgesprek_of(board["lotte"]), board["gym"], body="Antwoord over Lotte")
    db.session.commit()
    count, text = _chats(client, board["family"])
    assert "Sem" in text and "Lotte" in text
    assert count.startswith("2 ")


def _kindgesprek_of(student):
    from parro.models import Conversation, ConversationKind

    return db.session.query(Conversation).filter_by(
        kind=ConversationKind.CHILD, student_id=student.id).one()


def test_an_admin_of_two_schools_is_asked_to_switch_for_the_other_schools_office_letter(
        client, board):
    from parro.chat import service

    also_works_at(board["b"], board["admin_a"])
    letter = service.write_to_office(board["family"], board["lotte"], "Lotte heeft een nieuw adres")
    db.session.commit()
    count, text = _chats(client, board["admin_a"], board["a"])
    assert count == "" and "nieuw adres" not in text
    url = f"/gesprekken/{letter.id}"
    response = client.get(url)
    text = page_text(response)
    assert response.status_code == 200
    assert "nieuw adres" not in text
    assert "Dit gesprek hoort bij Basisschool De Ander" in text
    html = response.get_data(as_text=True)  # the button's form says where to and back
    assert f'name="school_id" value="{board["b"].id}"' in html
    assert f'name="next" value="{url}"' in html
    # One click: they work in school B now, and read the letter.
    switched = client.post("/scholen", data={
        "csrf_token": csrf_token(response.get_data(as_text=True)),
        "school_id": board["b"].id, "next": url})
    assert switched.status_code == 303 and switched.headers["Location"].endswith(url)
    text = page_text(client.get(url))
    assert "Lotte heeft een nieuw adres" in text
    count, text = _chats(client, board["admin_a"], board["b"])
    assert "Lotte" in text
    # An admin of school A only is refused it, as before.
    login_as(client, make_admin(name="Alleen A"))
    assert client.get(url).status_code in (403, 404)


# -- 5. after the cut-off: each child's school's number ----------------------------------


def test_after_the_cut_off_a_family_is_given_each_childs_schools_number(client, board):
    clock.set_now(datetime(2027, 3, 9, 10, 0, tzinfo=UTC))  # 11:00 at school: past it
    fresh()
    login_as(client, board["family"], board["a"])  # working in school A
    text = page_text(client.get("/absentie/"))
    assert "Is het dringend? Bel dan de school: Basisschool De Ander 020 000 00 00, " \
           "Basisschool De Test 010 000 00 00." in text
    response = client.post("/absentie/ziek", data={"sick-student": board["lotte"].id},
                           follow_redirects=True)
    text = page_text(response)
    assert "Lotte is ziek gemeld" in text
    # Lotte's school's number, though the family works in school A.
    assert ("Let op: het is na 08:30. De leerkracht ziet uw melding misschien pas na de "
            "lessen. Is het dringend? Bel dan de school: 020 000 00 00.") in text
    # A family at one school reads its school's number once.
    fresh()
    login_as(client, board["one_school"])
    text = page_text(client.get("/absentie/"))
    assert "Is het dringend? Bel dan de school: 010 000 00 00." in text


# -- 3. mails are signed with the school they are about ----------------------------------


def _signed(mail) -> str:
    """The school name in the mail's coloured header, and the colour."""
    import re

    match = re.search(r'<td style="background-color:(#[0-9a-f]{6});[^"]*">([^<]*)</td>',
                      mail.body_html)
    assert match, mail.body_html[:500]
    return f"{match.group(2)} {match.group(1)}"


@pytest.fixture
def colours(board):
    from parro.theme.colour import brand

    board["a"].colour, board["b"].colour = "#1f6f8b", "#8b1f4a"
    db.session.commit()
    return {"a": f"Basisschool De Test {brand('#1f6f8b')}",
            "b": f"Basisschool De Ander {brand('#8b1f4a')}",
            "parro": f"parro {brand(None)}"}


def test_chat_digests_from_the_command_line_are_signed_with_the_conversations_school(
        board, colours):
    from datetime import timedelta

    from parro.chat.digest import digest_for
    from parro.models import NotificationChoice

    from .helpers import mails_to

    for user in (board["teacher_b"], board["family"]):
        db.session.add(NotificationChoice(user_id=user.id, category="chat", mail="digest"))
    make_message(make_kindgesprek(board["lotte"]), board["family"], body="Over Lotte")
    make_message(make_kindgesprek(board["sem"]), board["gym"], body="Over Sem")
    make_message(_kindgesprek_of(board["lotte"]), board["gym"], body="Nog over Lotte")
    db.session.commit()
    later = NOW + timedelta(hours=1)
    clock.set_now(later)
    # As the command line runs it: no one logged in, the current school is the first (A).
    assert digest_for(board["teacher_b"], later)
    assert _signed(mails_to(board["teacher_b"].email)[-1]) == colours["b"]
    # A family's digest about both schools' conversations: parro's own, no school's.
    assert digest_for(board["family"], later)
    assert _signed(mails_to(board["family"].email)[-1]) == colours["parro"]


def test_account_mails_name_the_users_one_school_or_none_of_several(client, board, colours):
    from parro.auth.reset import request_reset
    from parro.auth.service import invite_staff
    from parro.models import Role

    from .helpers import mails_to

    request_reset(board["teacher_b"].email)
    request_reset(board["gym"].email)
    request_reset(board["family"].email)
    db.session.commit()
    assert _signed(mails_to(board["teacher_b"].email)[-1]) == colours["b"]
    assert _signed(mails_to(board["gym"].email)[-1]) == colours["parro"]
    assert _signed(mails_to(board["family"].email)[-1]) == colours["parro"]
    # A staff member invited to school B: B's name and colour.
    invite_staff("nieuw@example.org", "Nieuwe Juf", Role.TEACHER, None, school=board["b"])
    db.session.commit()
    mail = mails_to("nieuw@example.org")[-1]
    assert _signed(mail) == colours["b"] and "Basisschool De Ander" in mail.subject


def test_activity_reminders_from_the_command_line_are_signed_with_the_activitys_school(
        board, colours):
    from datetime import timedelta

    from parro.activities.reminders import send_reminders
    from parro.models import ActivityKind

    from .factories import make_activity
    from .helpers import mails_to

    make_activity(ActivityKind.INVITATION, [board["b5"]], title="Spullen voor groep 5b",
                  deadline=NOW + timedelta(days=1))
    db.session.commit()
    deadline, _ = send_reminders()
    assert deadline >= 1
    mail = mails_to(board["family"].email)[-1]
    assert "Spullen voor groep 5b" in mail.subject
    assert _signed(mail) == colours["b"]


# -- 4. a family at two schools: the calendar and the coming days name the school ---------


def _calendar_title(make_client, user, school=None) -> str:
    import re

    browser = make_client()
    login_as(browser, user, school)
    assert browser.post("/activiteiten/agenda").status_code == 303
    html = browser.get("/activiteiten/agenda").get_data(as_text=True)
    path = re.search(r'value="http://parro.test(/activiteiten/agenda/[^"]+\.ics)"', html).group(1)
    phone = make_client()  # a phone asks without a login
    response = phone.get(path)
    assert response.status_code == 200
    return re.search(r"X-WR-CALNAME:(.*)\r\n", response.get_data(as_text=True)).group(1)


def test_the_calendar_subscription_is_named_by_the_users_schools(make_client, board):
    assert _calendar_title(make_client, board["family"]) == "Schoolagenda: mijn afspraken"
    # A family of school B only: B's name, though the phone is in no school at all.
    bram = make_student(board["b5"], first_name="Bram")
    b_parent = make_guardian(child=bram)
    db.session.commit()
    assert _calendar_title(make_client, b_parent) == "Basisschool De Ander: mijn afspraken"


def _upcoming(client, user) -> str:
    import re

    fresh()
    login_as(client, user)
    html = client.get("/groepen/").get_data(as_text=True)
    block = re.search(r'<section class="card calendar-upcoming".*?</section>', html, re.S)
    assert block, "no Binnenkort block"
    return page_text_of(block.group(0))


def test_binnenkort_names_each_items_school_for_a_family_at_two_schools(client, board):
    from datetime import date, timedelta

    from parro.models import CalendarItem, CalendarKind

    day = date(2027, 3, 11)
    for school, title in ((board["a"], "Sportdag A"), (board["b"], "Sportdag B")):
        db.session.add(CalendarItem(school_id=school.id, kind=CalendarKind.EVENT, title=title,
                                    starts_on=day, ends_on=day + timedelta(days=0)))
    db.session.commit()
    text = _upcoming(client, board["family"])
    assert "Sportdag A Basisschool De Test" in text
    assert "Sportdag B Basisschool De Ander" in text
    # A family at one school reads no school's name.
    text = _upcoming(client, board["one_school"])
    assert "Sportdag A" in text and "Basisschool" not in text
    # The block is a cached fragment: a renamed school shows its new name at once.
    fresh()
    board["b"].name = "Basisschool Het Anker"
    db.session.commit()
    text = _upcoming(client, board["family"])
    assert "Sportdag B Basisschool Het Anker" in text and "De Ander" not in text
