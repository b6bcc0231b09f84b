"""The outbox, delivered to a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from parro import clock
from parro.extensions import db
from parro.mail import claim_due, queue_mail, send_all, send_pending
from parro.models import OutboxMail

from .factories import make_guardian
from .helpers import count_queries, fetch, login_as, logout, text_of
from .world import build_world

T0 = datetime(2027, 3, 1, 12, 35, tzinfo=UTC)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.delay = 0.0
        self._received = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._received:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._received.notify_all()
        return "250 Message accepted"

    @property
    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def wait_for(self, count: int) -> None:
        """Return once `count` messages have arrived (the timeout only stops a hang)."""
        with self._received:
            arrived = self._received.wait_for(lambda: len(self.messages) >= count, timeout=120)
        assert arrived, f"{len(self.messages)} of {count} mails arrived: {self.subjects}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def sender_for(make_app):
    """An app that delivers to the given port (the test's own app only queues)."""

    def factory(port, **config):
        return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, **config)

    return factory


def deliver(app) -> tuple[int, int]:
    with app.app_context():
        try:
            return send_all()
        finally:
            db.session.remove()


def add_mails(n: int, recipient="ouder{}@example.org") -> None:
    for i in range(n):
        db.session.add(
            OutboxMail(
                recipient=recipient.format(i), subject=f"Bericht {i}", body_text=f"Tekst {i}"
            )
        )
    db.session.commit()


def rows() -> list[OutboxMail]:
    return fetch(select(OutboxMail).order_by(OutboxMail.id))


# -- delivery -----------------------------------------------------------------


def test_a_queued_mail_is_delivered_in_the_recipients_language(app, client, smtp, sender_for):
    make_guardian(email="parent@example.org", name="Pat Parent", locale="en")
    make_guardian(email="ouder@example.org", name="Fatima Ouder", locale="nl")
    db.session.commit()
    clock.set_now(T0)
    client.post("/wachtwoord-vergeten", data={"email": "parent@example.org"})
    client.post("/wachtwoord-vergeten", data={"email": "ouder@example.org"})
    assert smtp.inbox.messages == []  # nothing is sent inside a request

    assert deliver(sender_for(smtp.port, MAIL_DEFAULT_SENDER="school@example.org")) == (2, 0)
    english, dutch = smtp.inbox.messages
    assert smtp.inbox.envelopes == [
        ("school@example.org", ["parent@example.org"]),
        ("school@example.org", ["ouder@example.org"]),
    ]
    assert english["To"] == "parent@example.org"
    assert english["From"] == "school@example.org"
    assert english["Subject"] == "Choose a new password"
    assert dutch["Subject"] == "Een nieuw wachtwoord kiezen"
    body = english.get_body(("plain",)).get_content()
    assert "Pat Parent" in body
    assert "http://parro.test/wachtwoord-herstellen/" in body
    assert "2:35\u202fPM" in body  # English date and time
    assert "14:35" in dutch.get_body(("plain",)).get_content()
    for row in rows():
        assert row.sent_at == T0
        assert row.attempts == 1
        assert row.last_error is None


def test_with_the_server_down_the_mail_waits_and_goes_out_when_it_is_back(app, sender_for):
    port = free_port()  # nothing listens here yet
    add_mails(1)
    sender = sender_for(port)
    clock.set_now(T0)
    assert deliver(sender) == (0, 1)
    (row,) = rows()
    assert row.sent_at is None and row.failed_at is None
    assert row.attempts == 1
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error
    assert row.next_attempt_at == T0 + timedelta(minutes=1)

    clock.set_now(T0 + timedelta(seconds=30))
    assert deliver(sender) == (0, 0)  # not due yet

    clock.set_now(T0 + timedelta(minutes=1))
    assert deliver(sender) == (0, 1)
    (row,) = rows()
    assert row.attempts == 2
    assert row.next_attempt_at == T0 + timedelta(minutes=3)  # back-off doubles

    server = SMTPServer(port).start()
    try:
        clock.set_now(T0 + timedelta(minutes=3))
        assert deliver(sender) == (1, 0)
    finally:
        server.stop()
    assert server.inbox.subjects == ["Bericht 0"]
    (row,) = rows()
    assert row.sent_at == T0 + timedelta(minutes=3)
    assert row.attempts == 3


def test_the_sender_gives_up_after_the_last_attempt(app, sender_for):
    add_mails(1)
    sender = sender_for(free_port(), MAIL_MAX_ATTEMPTS=2)
    clock.set_now(T0)
    deliver(sender)
    clock.set_now(T0 + timedelta(hours=1))
    deliver(sender)
    (row,) = rows()
    assert row.failed_at == T0 + timedelta(hours=1)
    clock.set_now(T0 + timedelta(days=1))
    assert deliver(sender) == (0, 0)


def test_a_refused_recipient_fails_alone_and_for_good(app, smtp, sender_for):
    add_mails(3)
    smtp.inbox.refuse.add("ouder1@example.org")
    clock.set_now(T0)
    assert deliver(sender_for(smtp.port)) == (2, 1)
    assert smtp.inbox.subjects == ["Bericht 0", "Bericht 2"]
    refused = rows()[1]
    assert refused.failed_at == T0  # 550: trying again will not help
    assert "550" in refused.last_error


def test_a_server_that_never_answers_does_not_hang_the_sender(app, sender_for):
    # Connections are accepted (into the backlog), and nothing is ever said on them.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        add_mails(2)
        sender = sender_for(silent.getsockname()[1], MAIL_TIMEOUT=1)
        clock.set_now(T0)
        assert deliver(sender) == (0, 2)
        # One connection, so one timeout for both mails, not one per mail.
        silent.setblocking(False)
        assert _accept_all(silent) == 1
    for row in rows():
        assert row.attempts == 1
        assert "timed out" in row.last_error
        assert row.next_attempt_at == T0 + timedelta(minutes=1)


def _accept_all(listener: socket.socket) -> int:
    """Accept and close the connections waiting in a non-blocking listener's backlog."""
    count = 0
    while True:
        try:
            connection, _address = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


@pytest.mark.parametrize("round_", range(2))
def test_two_senders_at_once_send_every_mail_once(app, smtp, sender_for, round_):
    add_mails(24)
    smtp.inbox.delay = 0.05  # long enough for both senders to get a turn on a busy machine
    sender = sender_for(smtp.port)
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def run():
        sent = 0
        with sender.app_context():
            try:
                barrier.wait()
                while True:
                    done, failed = send_pending(limit=3)
                    assert failed == 0
                    if done == 0:
                        break
                    sent += done
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()
        counts.append(sent)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(smtp.inbox.subjects) == sorted(f"Bericht {i}" for i in range(24))
    assert sum(counts) == 24 and min(counts) > 0, counts  # both took part
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows())


def test_the_claim_skips_rows_another_sender_holds_on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; its claim is BEGIN IMMEDIATE")
    add_mails(1)
    with count_queries() as q:
        claim_due()
    assert "FOR UPDATE SKIP LOCKED" in q.statements[0]


def test_a_claimed_mail_is_left_alone_until_the_claim_runs_out(app, smtp, sender_for):
    add_mails(1)
    clock.set_now(T0)
    assert claim_due() != []  # a sender that then died
    sender = sender_for(smtp.port)
    assert deliver(sender) == (0, 0)
    clock.set_now(T0 + timedelta(minutes=16))
    assert deliver(sender) == (1, 0)


def test_queued_mail_belongs_to_the_callers_transaction(app):
    user = make_guardian(email="ouder@example.org")
    db.session.commit()
    with app.test_request_context():
        queue_mail(
            user.email, "Welkom", "password_reset", locale="nl", user=user,
            school_name="De Test", url="http://parro.test/x", minutes=60, expires_at=T0,
        )
        db.session.rollback()
    assert rows() == []


# -- without a mail server: .eml files ----------------------------------------


def test_without_a_mail_server_mail_is_written_to_the_mail_folder(app, make_app, tmp_path):
    add_mails(1)
    sender = make_app(MAIL_SERVER=None, MAIL_DIR=str(tmp_path / "mail"))
    assert deliver(sender) == (1, 0)
    (row,) = rows()
    files = list((tmp_path / "mail").glob("*.eml"))
    assert [f.name for f in files] == [f"{row.id:08d}.eml"]
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "ouder0@example.org"
    assert message["Subject"] == "Bericht 0"
    assert message.get_body(("plain",)).get_content().strip() == "Tekst 0"
    assert row.sent_at is not None


# -- the command and the background thread -------------------------------------


def test_the_mail_send_command_delivers(smtp, sender_for):
    # Without the test's own app context: a command pushes its app's context
    # only when none is active, as on the command line.
    sender = sender_for(smtp.port)
    with sender.app_context():
        add_mails(2)
        db.session.remove()
    runner = sender.test_cli_runner()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 failed" in result.output
    assert sorted(smtp.inbox.subjects) == ["Bericht 0", "Bericht 1"]
    result = runner.invoke(args=["mail", "send"])
    assert "0 sent, 0 failed" in result.output


def test_the_web_process_thread_delivers_soon_after_a_commit(app, smtp, sender_for):
    make_guardian(email="ouder@example.org")
    add_mails(1)  # queued before the process started
    # Retries only every hour: within the test, nothing but a commit wakes the thread.
    web = sender_for(smtp.port, MAIL_SENDER_THREAD=True, MAIL_SENDER_POLL_SECONDS=3600)
    sender = web.extensions["parro_outbox"]
    client = web.test_client()
    try:
        assert sender.thread is None  # no request yet: no thread
        client.get("/healthz")
        assert sender.thread.is_alive()
        smtp.inbox.wait_for(1)  # its first round delivers what was waiting
        client.post("/wachtwoord-vergeten", data={"email": "ouder@example.org"})
        smtp.inbox.wait_for(2)
        assert smtp.inbox.subjects == ["Bericht 0", "Een nieuw wachtwoord kiezen"]
    finally:
        sender.stop()
    assert not sender.thread.is_alive()


# -- the mail viewer (demo mode without a mail server) -------------------------


def test_the_mail_viewer_lists_mails_and_shows_their_links(app, client):
    make_guardian(email="ouder@example.org")
    db.session.commit()
    client.post("/wachtwoord-vergeten", data={"email": "ouder@example.org"})
    index = client.get("/dev/mail/")
    assert index.status_code == 200
    assert "Een nieuw wachtwoord kiezen → ouder@example.org" in text_of(index)
    (row,) = rows()
    page = client.get(f"/dev/mail/{row.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    link = next(line for line in row.body_text.splitlines() if "/wachtwoord-herstellen/" in line)
    assert f'<a href="{link}"' in html
    assert client.get(link.removeprefix("http://parro.test")).status_code == 200
    assert client.get("/dev/mail/999999").status_code == 404


@pytest.mark.parametrize(
    "config", [{"DEMO": False}, {"DEMO": True, "MAIL_SERVER": "smtp.example.org"}]
)
def test_the_mail_viewer_does_not_exist_outside_demo_mode(app, make_app, config):
    other = make_app(**config)
    assert "devmail.index" not in {rule.endpoint for rule in other.url_map.iter_rules()}
    assert other.test_client().get("/dev/mail/").status_code == 404


OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


def test_the_mail_viewer_answers_others_only_on_this_machine(app, client):
    """A reset link in the viewer would give anyone on the network any account."""
    w = build_world()
    client.post("/wachtwoord-vergeten", data={"email": "guardian@example.org"})
    (row,) = rows()
    for path in ("/dev/mail/", f"/dev/mail/{row.id}"):
        assert client.get(path).status_code == 200  # the test client is 127.0.0.1
        assert client.get(path, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
        assert client.get(path, environ_base=OUTSIDE).status_code == 403
        login_as(client, w.guardian)
        assert client.get(path, environ_base=OUTSIDE).status_code == 403
        login_as(client, w.admin)
        assert client.get(path, environ_base=OUTSIDE).status_code == 200
        logout(client)


def test_behind_a_proxy_the_mail_viewer_looks_at_the_client(app, make_client):
    """With ProxyFix the proxy's own 127.0.0.1 does not count: the client's address does."""
    client = make_client(PROXY_FIX=1)
    forwarded = {"headers": {"X-Forwarded-For": "203.0.113.7"}}
    assert client.get("/dev/mail/", **forwarded).status_code == 403
    assert client.get("/dev/mail/", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
