"""Inzage: a guardian downloads everything about their family as a ZIP; an admin can too."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from parro import audit, clock, media
from parro.chat import service as chat_service
from parro.extensions import db
from parro.models import (
    AuditEvent,
    Booking,
    Like,
    MessageAttachment,
    Pledge,
    ReadReceipt,
    Response,
    SignUp,
)
from parro.models.activity import Answer
from parro.privacy import service as privacy

from .factories import (
    give_consent,
    make_absence,
    make_admin,
    make_chat,
    make_conference,
    make_consent_topic,
    make_group,
    make_guardian,
    make_invitation,
    make_kindgesprek,
    make_materials,
    make_message,
    make_post,
    make_reason,
    make_student,
    make_teacher,
    make_volunteer,
    pdf_bytes,
    photo_bytes,
    stage_files,
)
from .feed_helpers import fresh, reader, sign_in

pytestmark = pytest.mark.usefixtures("reader")
__all__ = ["reader"]

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PDF = pdf_bytes()


@pytest.fixture
def media_dir(app, tmp_path):
    app.config["MEDIA_PATH"] = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def client(make_client, media_dir):
    return make_client(MEDIA_PATH=str(media_dir))


def _attach(message, *files):
    """Files sent with a chat message, through the upload pipeline."""
    staged = stage_files(*files)
    for item in staged:
        db.session.add(MessageAttachment(
            message_id=message.id, key=item.key, kind=item.kind, filename=item.filename,
            content_type=item.content_type, size=item.size,
        ))
    db.session.flush()
    media.commit(staged)
    return staged


@pytest.fixture
def family(app, media_dir):
    """Eva (Sem's mother) and everything she did; the Dekkers next door did the same."""
    clock.set_now(NOW)
    g3, g5 = make_group("Groep 3"), make_group("Groep 5", grade=5)
    sem = make_student(g3, first_name="Sem", last_name="Jansen")
    noah = make_student(g5, first_name="Noah", last_name="Dekker")
    eva = make_guardian(child=sem, name="Eva Jansen", email="eva@example.org")
    peter = make_guardian(child=sem, name="Peter Jansen", email="peter@example.org")
    mark = make_guardian(child=noah, name="Mark Dekker", email="mark@example.org")
    anna = make_teacher(g3, name="Anna de Boer")
    ilse = make_teacher(g5, name="Ilse Vermeulen")
    admin = make_admin(name="Beheerder")

    topic = make_consent_topic("Foto's in de app")
    website = make_consent_topic("Foto's op de website", app_photos=False)
    clock.set_now(datetime(2027, 2, 1, 8, 0, tzinfo=UTC))
    privacy.set_answers({(sem.id, website.id): True}, eva)
    clock.set_now(datetime(2027, 2, 3, 8, 0, tzinfo=UTC))
    privacy.set_answers({(sem.id, website.id): False}, peter)
    privacy.set_answers({(sem.id, topic.id): True}, eva)
    privacy.set_answers({(noah.id, topic.id): True}, mark)
    clock.set_now(NOW)

    reason = make_reason("Tandarts")
    make_absence(sem, day=date(2027, 2, 10), by=eva, note="Koorts")
    make_absence(sem, day=date(2027, 2, 11), by=eva, reason=reason, note="Beugel",
                 withdrawn_at=NOW, withdrawn_by=eva)
    make_absence(noah, day=date(2027, 2, 10), by=mark, note="Buikpijn Noah")

    conference = make_conference(g3, title="Rapportgesprekken")
    db.session.add(Booking(slot=conference.slots[1], activity_id=conference.id, student=sem,
                           booked_by=eva))
    other_conf = make_conference(g5, title="Gesprekken groep 5")
    db.session.add(Booking(slot=other_conf.slots[0], activity_id=other_conf.id, student=noah,
                           booked_by=mark))
    volunteer = make_volunteer(g3, shifts=(("Luizencontrole", 3),))
    db.session.add(SignUp(shift=volunteer.shifts[0], user=eva))
    materials = make_materials(g3, items=(("lege wc-rollen", 10),))
    db.session.add(Pledge(item=materials.items[0], user=eva, quantity=4))
    invitation = make_invitation(g3, title="Kerstviering")
    db.session.add(Response(activity=invitation, student=sem, answer=Answer.YES, people=2,
                            answered_by=peter))

    kind = make_kindgesprek(sem)
    own = make_message(kind, eva, "Sem heeft morgen een feestje")
    staged = _attach(own, ("uitnodiging.pdf", PDF), ("taart.jpg", photo_bytes(90, 60)))
    make_message(kind, anna, "Leuk, dank u!")
    make_message(kind, peter, "Bericht van Peter")
    chat = make_chat(anna, [eva, mark], title="Schoolreis groep 3")
    make_message(chat, eva, "Ik kan rijden")
    clock.set_now(datetime(2027, 3, 1, 9, 5, tzinfo=UTC))
    chat_service.edit_message(make_message(chat, eva, "Om 8 uur"), "Om half 9")
    chat_service.delete_message(make_message(chat, eva, "Oeps"))
    clock.set_now(NOW)
    make_message(chat, mark, "Geheim van Mark")
    other_kind = make_kindgesprek(noah)
    make_message(other_kind, mark, "Noah is ziek")

    tagged = make_post(g3, author=anna, title="Sinterklaas", photos=1, tagged=[sem])
    untagged = make_post(g3, author=anna, title="Klassenfoto", photos=1)
    noah_photo = make_post(g5, author=ilse, title="Groep 5 op reis", photos=1, tagged=[noah])
    db.session.add_all([
        Like(post_id=tagged.id, user_id=eva.id), Like(post_id=noah_photo.id, user_id=mark.id),
        ReadReceipt(post_id=untagged.id, user_id=eva.id),
    ])
    db.session.commit()
    return {
        "g3": g3, "g5": g5, "sem": sem, "noah": noah, "eva": eva, "peter": peter, "mark": mark,
        "anna": anna, "ilse": ilse, "admin": admin, "staged": staged, "tagged": tagged,
        "untagged": untagged, "noah_photo": noah_photo,
    }


def open_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def doc(archive, name):
    return json.loads(archive.read(name).decode("utf-8"))


def test_a_guardian_downloads_everything_about_their_family(client, family):
    sign_in(client, family["eva"])
    page = client.get("/account")
    assert "Mijn gegevens downloaden" in page.get_data(as_text=True)
    archive = open_zip(client.post("/account/gegevens-downloaden"))
    names = archive.namelist()
    assert "README.txt" in names
    assert "Uw gegevens uit de schoolapp" in archive.read("README.txt").decode("utf-8")

    profile = doc(archive, "profiel.json")
    assert profile["naam"] == "Eva Jansen" and profile["e-mail"] == "eva@example.org"
    assert profile["ingelogde_apparaten"]  # this very session

    children = doc(archive, "kinderen.json")
    assert [(c["voornaam"], c["groepen"][0]["groep"]) for c in children] == [("Sem", "Groep 3")]

    (consent,) = doc(archive, "toestemming.json")
    now_ = {t["onderwerp"]: t["toestemming"] for t in consent["nu"]}
    assert now_ == {"Foto's in de app": True, "Foto's op de website": False}
    history = [(h["onderwerp"], h["toestemming"], h["door"], h["moment"])
               for h in consent["geschiedenis"]]
    assert history[:2] == [
        ("Foto's op de website", True, "zelf", "2027-02-01T08:00:00+00:00"),
        ("Foto's op de website", False, "andere ouder of verzorger", "2027-02-03T08:00:00+00:00"),
    ]

    absences = doc(archive, "absenties.json")
    assert [(a["dag"], a["soort"], a["ingetrokken_op"] is not None) for a in absences] == [
        ("2027-02-10", "ziek", False), ("2027-02-11", "afspraak", True),
    ]
    assert absences[1]["reden"] == "Tandarts" and absences[1]["van"] == "10:00"

    activities = doc(archive, "activiteiten.json")
    assert [b["activiteit"] for b in activities["gesprekken"]] == ["Rapportgesprekken"]
    assert activities["hulp"][0]["taak"] == "Luizencontrole"
    assert activities["spullen"][0]["aantal"] == 4
    assert activities["uitnodigingen"][0]["antwoord"] == "ja"

    messages = doc(archive, "berichten.json")["verstuurd"]
    assert [(m["gesprek"], m["tekst"], m["bewerkt_op"], m["verwijderd_op"]) for m in messages] == [
        ("Kindgesprek Sem Jansen", "Sem heeft morgen een feestje", None, None),
        ("Schoolreis groep 3", "Ik kan rijden", None, None),
        ("Schoolreis groep 3", "Om half 9", "2027-03-01T09:05:00+00:00", None),
        ("Schoolreis groep 3", "", None, "2027-03-01T09:05:00+00:00"),
    ]
    # The files she sent, byte for byte as the app keeps them.
    sent = messages[0]["bijlagen"]
    assert [f["bestandsnaam"] for f in sent] == ["uitnodiging.pdf", "taart.jpg"]
    pdf, photo = family["staged"]
    assert archive.read(sent[0]["bestand"]) == media.path_for(pdf.key, "file").read_bytes()
    assert archive.read(sent[1]["bestand"]) == media.path_for(photo.key, "display").read_bytes()

    photos = doc(archive, "fotos.json")
    assert [(p["bericht"], p["kinderen_op_de_foto"]) for p in photos] == [
        ("Sinterklaas", ["Sem Jansen"])
    ]
    stored = family["tagged"].photos[0]
    assert archive.read(photos[0]["bestand"]) == media.path_for(stored.key, "display").read_bytes()
    assert len([n for n in names if n.startswith("files/")]) == 3
    feed = doc(archive, "groepsberichten.json")
    assert [like["bericht"] for like in feed["vind_ik_leuk"]] == ["Sinterklaas"]
    assert [read["bericht"] for read in feed["gelezen"]] == ["Klassenfoto"]

    # Nothing about the Dekkers, the other guardian's messages, or untagged photos.
    everything = b"".join(archive.read(n) for n in names if n.endswith(".json")).decode()
    for secret in ("Noah", "Dekker", "Mark", "Buikpijn", "Geheim", "Bericht van Peter",
                   "Peter Jansen", "Gesprekken groep 5", "Groep 5", "mark@example.org"):
        assert secret not in everything, secret
    assert "Klassenfoto" not in archive.read("fotos.json").decode()

    fresh()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == audit.EXPORT))
    assert event.target_id == family["eva"].id and event.actor_id == family["eva"].id
    assert event.details["by_admin"] is False


def test_a_photo_with_an_unconsented_other_child_is_left_out(client, family):
    lisa = make_student(family["g3"], first_name="Lisa", last_name="Bakker")
    give_consent(lisa, given=False)
    make_post(family["g3"], author=family["anna"], title="Met Lisa", photos=1,
              tagged=[family["sem"], lisa])
    sign_in(client, family["eva"])
    archive = open_zip(client.post("/account/gegevens-downloaden"))
    assert [p["bericht"] for p in doc(archive, "fotos.json")] == ["Sinterklaas"]
    assert "Lisa" not in archive.read("fotos.json").decode()


def test_admin_exports_a_family_and_it_is_logged(client, family):
    sign_in(client, family["admin"])
    page = client.get(f"/beheer/ouders/{family['mark'].id}")
    assert "Gegevens downloaden" in page.get_data(as_text=True)
    archive = open_zip(client.post(f"/beheer/ouders/{family['mark'].id}/gegevens-downloaden"))
    assert doc(archive, "profiel.json")["e-mail"] == "mark@example.org"
    assert [c["voornaam"] for c in doc(archive, "kinderen.json")] == ["Noah"]
    assert [m["tekst"] for m in doc(archive, "berichten.json")["verstuurd"]] == [
        "Geheim van Mark", "Noah is ziek",
    ]
    assert "Sem" not in archive.read("absenties.json").decode()
    fresh()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == audit.EXPORT))
    assert event.actor_id == family["admin"].id and event.target_id == family["mark"].id
    assert event.details["by_admin"] is True


def test_nobody_else_gets_a_familys_export(client, family):
    mark = family["mark"]
    url = f"/beheer/ouders/{mark.id}/gegevens-downloaden"
    for user in (family["eva"], family["anna"]):
        sign_in(client, user)
        assert client.post(url).status_code == 403
    # The own export takes no id: there is nothing to change to get someone else's.
    sign_in(client, family["eva"])
    assert client.post(f"/account/gegevens-downloaden?user_id={mark.id}").status_code == 200
    # Staff have no family to export.
    sign_in(client, family["anna"])
    assert client.post("/account/gegevens-downloaden").status_code == 403
    assert "Mijn gegevens downloaden" not in client.get("/account").get_data(as_text=True)
    sign_in(client, family["admin"])
    assert client.post(f"/beheer/ouders/{family['anna'].id}/gegevens-downloaden").status_code == 404
    fresh()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == audit.EXPORT))
    assert [e.target_id for e in events] == [family["eva"].id]


def test_the_own_export_is_rate_limited(make_client, media_dir, family):
    client = make_client(MEDIA_PATH=str(media_dir), RATELIMIT_EXPORT="2 per hour")
    sign_in(client, family["eva"])
    assert client.post("/account/gegevens-downloaden").status_code == 200
    assert client.post("/account/gegevens-downloaden").status_code == 200
    assert client.post("/account/gegevens-downloaden").status_code == 429
    # Another guardian is not held up by Eva's downloads.
    sign_in(client, family["mark"])
    assert client.post("/account/gegevens-downloaden").status_code == 200


def test_the_button_works_with_a_csrf_token_and_not_without(make_client, media_dir, family):
    from .helpers import csrf_token

    client = make_client(MEDIA_PATH=str(media_dir), WTF_CSRF_ENABLED=True)
    sign_in(client, family["eva"])
    assert client.post("/account/gegevens-downloaden").status_code == 400
    token = csrf_token(client.get("/account").get_data(as_text=True))
    response = client.post("/account/gegevens-downloaden", data={"csrf_token": token})
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).testzip() is None



def test_admin_exports_all_guardians_of_a_family_at_once(client, family):
    # Sem's brother Daan has only Eva; Peter is Sem's father: the family is all three.
    daan = make_student(family["g5"], first_name="Daan", last_name="Jansen")
    from parro.models import Guardianship

    db.session.add(Guardianship(user=family["eva"], student=daan))
    db.session.commit()
    sign_in(client, family["admin"])
    for page in (f"/beheer/leerlingen/{daan.id}", f"/beheer/ouders/{family['peter'].id}"):
        assert "Gegevens van het hele gezin downloaden" in client.get(page).get_data(as_text=True)
    response = client.post(f"/beheer/gezin-gegevens?leerling={daan.id}")
    archive = open_zip(response)
    assert "parro-gezin-jansen-" in response.headers["Content-Disposition"]
    names = archive.namelist()
    assert "LEESMIJ.txt" in names
    readme = archive.read("LEESMIJ.txt").decode()
    assert "eva@example.org/" in readme and "peter@example.org/" in readme
    assert "mark@example.org" not in readme
    # Each folder is that guardian's own download.
    assert doc(archive, "eva@example.org/profiel.json")["e-mail"] == "eva@example.org"
    assert [c["voornaam"] for c in doc(archive, "eva@example.org/kinderen.json")] == [
        "Daan", "Sem"]
    assert [c["voornaam"] for c in doc(archive, "peter@example.org/kinderen.json")] == ["Sem"]
    assert "eva@example.org/README.txt" in names
    assert any(n.startswith("eva@example.org/files/") for n in names)
    assert not any(n.startswith("mark@example.org") for n in names)
    assert "Noah" not in "".join(archive.read(n).decode("utf-8", "replace")
                                 for n in names if n.endswith(".json"))
    fresh()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == audit.EXPORT)
                                .order_by(AuditEvent.target_id))
    assert sorted(e.target_id for e in events) == sorted(
        [family["eva"].id, family["peter"].id])
    # Starting from a guardian gives the same family.
    archive = open_zip(client.post(f"/beheer/gezin-gegevens?ouder={family['peter'].id}"))
    assert {n.split("/")[0] for n in archive.namelist() if "/" in n} == {
        "eva@example.org", "peter@example.org"}


def test_only_the_office_exports_a_whole_family(client, family):
    url = f"/beheer/gezin-gegevens?leerling={family['sem'].id}"
    for user in (family["eva"], family["anna"]):
        sign_in(client, user)
        assert client.post(url).status_code == 403
    sign_in(client, family["admin"])
    # A staff member's id or an unknown child: nothing to export.
    assert client.post(f"/beheer/gezin-gegevens?ouder={family['anna'].id}").status_code == 404
    assert client.post("/beheer/gezin-gegevens?leerling=999999").status_code == 404
    # A child without guardians: said so, nothing downloaded.
    alone = make_student(family["g3"], first_name="Ties", last_name="Alleen")
    db.session.commit()
    response = client.post(f"/beheer/gezin-gegevens?leerling={alone.id}")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dit gezin heeft geen ouders of verzorgers met een account." in page
    fresh()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == audit.EXPORT)) is None
