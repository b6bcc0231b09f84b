"""What people type, as HTML: parro/user_text.py for posts, announcements and chat."""

from __future__ import annotations

import re

from parro.extensions import db
from parro.user_text import render_text

from .factories import (
    make_group,
    make_guardian,
    make_kindgesprek,
    make_message,
    make_post,
    make_student,
    make_teacher,
)
from .helpers import login_as


def test_text_is_escaped_links_are_clickable_and_line_breaks_kept():
    html = str(render_text(
        '<script>alert("x")</script>\nZie https://school.nl/a?b=1&c=2.\nwww.x.nl'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://school.nl/a?b=1&amp;c=2" rel="noopener noreferrer nofollow"' in html
    assert ">https://school.nl/a?b=1&amp;c=2</a>." in html  # the full stop is the sentence's
    assert '<a href="https://www.x.nl"' in html
    assert html.count("<br>") == 2


def test_links_cannot_carry_markup_or_other_schemes():
    html = str(render_text(
        'javascript:alert(1) https://x.nl/"onmouseover=alert(1) (zie https://x.nl/a_(b))'))
    assert 'href="javascript' not in html
    assert '<a href="https://x.nl/" ' in html and "&#34;onmouseover" in html
    assert '<a href="https://x.nl/a_(b)"' in html


def links(html) -> list[str]:
    return re.findall(r'<a href="([^"]*)"', str(html))


def test_brackets_around_a_link_belong_to_the_sentence():
    html = render_text("[https://x.nl/a] en (https://x.nl/b), of https://x.nl/c).\n"
                       "Zie https://nl.wikipedia.org/wiki/Sint_(feest)).")
    assert links(html) == ["https://x.nl/a", "https://x.nl/b", "https://x.nl/c",
                           "https://nl.wikipedia.org/wiki/Sint_(feest)"]
    assert ">https://x.nl/a</a>]" in html and ">https://x.nl/c</a>)." in html


def test_windows_and_old_mac_line_breaks_are_line_breaks():
    assert render_text("Hallo\r\nallemaal\rtot morgen\n") == (
        "Hallo<br>\nallemaal<br>\ntot morgen<br>\n")


def test_only_web_addresses_become_links():
    html = render_text("Mail juf@school.nl of kijk op school.nl, ftp://x.nl of WWW.School.nl")
    assert links(html) == ["https://WWW.School.nl"]


def test_a_post_and_a_chat_message_show_the_same_text_the_same_way(make_client, app):
    body = "Zie (https://x.nl/a_(b)) en [www.x.nl].\r\nTot morgen!"
    expected = str(render_text(body))
    assert expected.count("<a ") == 2 and "\r" not in expected
    group = make_group("Groep 3", grade=3)
    child = make_student(group, first_name="Sem")
    teacher = make_teacher(group)
    guardian = make_guardian(child=child)
    make_post(group, author=teacher, title="Morgen", body=body)
    conversation = make_kindgesprek(child)
    make_message(conversation, teacher, body)
    db.session.commit()
    client = make_client()
    login_as(client, guardian)
    assert expected in client.get("/groepen/").get_data(as_text=True)
    assert expected in client.get(f"/gesprekken/{conversation.id}").get_data(as_text=True)
