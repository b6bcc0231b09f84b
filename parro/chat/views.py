from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from wtforms.fields.choices import SelectChoice

from .. import media, policy
from ..database import end_reads, polled, reads_first
from ..extensions import db, limiter
from ..forms import EmptyForm, add_error
from ..fragments import fragments
from ..htmx import wants_fragment
from ..inputs import as_id, int_arg
from ..media.serving import VARIANTS, send_stored
from ..models import Conversation, Message, School, Student, User
from ..policy import current_school
from ..sql import CONVERSATION_ID, prebuilt
from . import attachments, bp, service
from .availability import (
    availability_of,
    chat_closed,
    describe_hours,
    earliest_reading,
    office_hours,
    office_statuses,
    set_availability,
    staff_statuses,
    when,
)
from .forms import (
    AvailabilityForm,
    EditMessageForm,
    MessageForm,
    OfficeForm,
    StartChatForm,
)

bp.add_app_template_filter(when, "chat_when")


@bp.app_template_global()
def message_fragments(messages: list[service.ShownMessage], oob: bool = False) -> Markup:
    """templates/chat/_message.html for each message, as the current user sees it.

    Each is kept whole (parro/fragments.py): what differs between readers is only whether
    it is their own and, for the office's messages, whether they are staff (a class of
    reader, not the reader: the key holds a boolean)."""
    viewer, staff = current_user.id, current_user.is_staff
    return fragments("chat/_message.html", (
        {"m": m, "author": m.author, "attachments": m.attachments, "mine": m.author_id == viewer,
         "staff": staff if m.as_office else None, "oob": oob}
        for m in messages
    ))


def _user_key() -> str:
    user_id = getattr(current_user, "id", None)
    return f"chat-user:{user_id}" if user_id else get_remote_address()


def _int_arg(name: str) -> int:
    return int_arg(name, request.values) or 0


@prebuilt
def _with_child():
    return (
        select(Conversation, Student)
        .outerjoin(Student, Student.id == Conversation.student_id)
        .where(Conversation.id == CONVERSATION_ID)
    )


def _conversation(conversation_id: int, any_school: bool = False) -> Conversation:
    # The child comes along for title_of, by a plain join: with a loader option,
    # service._lock's refresh FOR UPDATE would repeat the outer join, which PostgreSQL refuses.
    row = db.session.execute(_with_child(), {"conversation_id": conversation_id}).first()
    if row is None:
        abort(404)
    conversation, student = row
    set_committed_value(conversation, "student", student)
    policy.require(policy.can_see_conversation(current_user, conversation, any_school))
    return conversation


def _message(conversation_id: int, message_id: int) -> Message:
    message = db.get_or_404(Message, message_id)
    if message.conversation_id != conversation_id:
        abort(404)
    policy.require(policy.can_change_message(current_user, message))
    return message


def _compose_context(conversation: Conversation, form: MessageForm | None = None,
                     people: list[User] | None = None) -> dict:
    """What the send box needs: the form, and for guardians the teachers' availability.
    The office's hours and the phone number are those of the conversation's school (a
    family's other child may go to another school)."""
    school = current_school()
    if conversation.school_id is not None and school is not None \
            and conversation.school_id != school.id:
        school = db.session.get(School, conversation.school_id)
    if conversation.is_office:
        statuses = office_statuses(school) if current_user.is_guardian else []
        closed = False  # the office has opening hours, no switch
    else:
        statuses = staff_statuses(conversation, people, school) \
            if current_user.is_guardian else []
        closed = current_user.is_guardian and chat_closed(conversation, statuses)
    return {
        "office_hours": describe_hours(office_hours(school)) if conversation.is_office else "",
        "conversation": conversation,
        "form": form or MessageForm(formdata=None),
        "statuses": statuses,
        "closed": closed,
        "reads_from": earliest_reading(statuses),
        "anyone_available": any(s.available for s in statuses),
        "school_phone": (school.phone if school else "") or current_app.config["SCHOOL_PHONE"],
        "accept": attachments.ACCEPT,
    }


def _read_by_context(conversation: Conversation, people: list[User] | None = None,
                     shown: list[service.ShownMessage] | None = None,
                     marks: dict[int, int] | None = None) -> dict:
    """'Gelezen door …' under the user's own message when it is the newest one.

    `shown`: messages the caller has loaded, oldest first (the newest may be it);
    `marks`: service.last_read_by, when the caller has read it.
    """
    last_id = conversation.last_message_id
    if shown and shown[-1].id == last_id:
        last = shown[-1]
    else:
        last = db.session.get(Message, last_id) if last_id else None
    if last is None or last.author_id != current_user.id or last.deleted_at is not None:
        return {"read_by": None}
    people = service.members(conversation) if people is None else people
    marks = service.last_read_by(conversation.id) if marks is None else marks
    readers = service.read_by(last, people, marks)
    if conversation.is_office and current_user.is_guardian:
        # The office reads as one: the guardian is not told which admin did.
        names = [u.display_name for u in readers if not u.is_admin]
        if len(names) < len(readers):
            names.insert(0, _("de administratie"))
        return {"read_by": names}
    return {"read_by": [u.display_name for u in readers]}


def _news(conversation: Conversation, known_id: int, revision: int) -> str:
    """Messages new or changed since the browser's revision, and the next cursor."""
    changed = service.changed_since(conversation.id, revision)
    new = [m for m in changed if m.id > known_id]
    edited = [m for m in changed if m.id <= known_id]
    # The next cursor comes from these rows, never from a later read of the
    # conversation: a message committed in between would otherwise be skipped.
    cursor = {
        "last_id": max([known_id, *(m.id for m in new)]),
        "revision": max([revision, *(m.revision for m in changed)]),
    }
    read_by = _read_by_context(conversation, shown=new) if new else {}
    if new:
        service.mark_read_now(conversation.id, current_user.id, new[-1].id)
    return render_template(
        "chat/_news.html", conversation=conversation, new=new, edited=edited, **cursor, **read_by
    )


# -- pages --------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """List the user's conversations, news first; only the unread ones (?filter=ongelezen),
    or those whose child or parent is named (?q=)."""
    query = " ".join(request.args.get("q", "").split())[:100]
    only_unread = request.args.get("filter") == "ongelezen"
    everything = service.conversation_list(current_user)
    entries = everything
    if query:
        entries = [e for e in entries if e.matches(query.casefold().split())]
    if only_unread:
        entries = [e for e in entries if e.unread]
    # Staff have a kindgesprek line for every child of their groups: those without any
    # message yet are found by searching, not shown as a screen of empty rows.
    quiet = []
    if not current_user.is_guardian and not query:
        quiet = [e for e in entries if not e.last_message]
        entries = [e for e in entries if e.last_message]
    return render_template(
        "chat/index.html",
        entries=entries, quiet=len(quiet), query=query, only_unread=only_unread,
        unread_total=sum(1 for e in everything if e.unread), searchable=len(everything) > 5,
        can_start=policy.can_start_chat(current_user),
        can_set_availability=policy.can_set_availability(current_user),
        can_write_office=policy.can_write_office(current_user),
    )


@bp.get("/kind/<int:student_id>")
@login_required
def child(student_id: int):
    """Open the kindgesprek about a child (it is created the first time)."""
    student = db.get_or_404(Student, student_id)
    policy.require(policy.can_open_child_chat(current_user, student))
    conversation = service.open_child_conversation(student)
    return redirect(url_for("chat.show", conversation_id=conversation.id), 303)


FAMILY = "gezin"


@bp.route("/administratie", methods=["GET", "POST"])
@login_required
def office():
    """Write to the office (administratie) about one of one's children or the family."""
    policy.require(policy.can_write_office(current_user))
    children = service.office_subjects(current_user)
    form = OfficeForm()
    school = current_school()
    # Children at more than one school: each child's office is its own school's.
    several = len({c.school_id for c in children}) > 1
    form.subject.choices = [
        SelectChoice(FAMILY, _("Ons gezin (bijvoorbeeld een nieuw adres)")
                     + (f" · {school.name}" if several and school else "")),
        *(SelectChoice(str(s.id), s.full_name + (f" · {s.school.name}" if several else ""))
          for s in children),
    ]
    if not form.is_submitted():
        about = request.args.get("over", "")
        form.subject.data = about if about in {c.value for c in form.subject.choices} else None
    chosen = next((c for c in children if str(c.id) == form.subject.data), None)
    if chosen is not None:
        school = chosen.school  # the hours of the office written to
    if form.validate_on_submit():
        student = None
        if form.subject.data != FAMILY:
            raw = form.subject.data or ""
            student = db.session.get(Student, student_id) if (student_id := as_id(raw)) else None
        if form.subject.data != FAMILY and not (
            student is not None and policy.can_write_office_about(current_user, student)
        ):
            # Another family's child (or no child at all): refused, nothing stored.
            add_error(form.subject, _(
                "U kunt de administratie alleen schrijven over uw eigen kinderen of over uw "
                "gezin."))
        else:
            conversation = service.write_to_office(current_user, student, form.body.data.strip())
            flash(_("Uw bericht is verstuurd naar de administratie."), "success")
            return redirect(url_for("chat.show", conversation_id=conversation.id), 303)
    statuses = office_statuses(school)
    return render_template(
        "chat/office.html", form=form,
        statuses=statuses, anyone_available=any(s.available for s in statuses),
        reads_from=earliest_reading(statuses),
        office_hours=describe_hours(office_hours(school)),
    ), 422 if form.is_submitted() else 200


@bp.get("/<int:conversation_id>")
@login_required
def show(conversation_id: int):
    """Show a conversation: its newest messages and the send box."""
    conversation = _conversation(conversation_id, any_school=True)
    if policy.in_other_school(current_user, conversation):
        # Staff's list and counts hold the kindgesprekken and office conversations of the
        # school they work in; one of their other school's (a mail's link) asks to switch.
        return render_template("chat/other_school.html",
                               other=db.session.get(School, conversation.school_id),
                               next=request.full_path.rstrip("?"))
    before = int_arg("voor")
    people = service.members(conversation)
    messages, has_older = service.page_of_messages(
        conversation, current_app.config["CHAT_PAGE_SIZE"], before, people
    )
    marks = service.last_read_by(conversation.id)
    context = {
        "title": service.title_of(conversation, current_user),
        "messages": messages,
        "has_older": has_older,
        "older": before is not None,
        "people": people,
        "last_id": conversation.last_message_id,
        "revision": conversation.revision,
        "poll_seconds": current_app.config["CHAT_POLL_SECONDS"],
        **_compose_context(conversation, people=people),
        **_read_by_context(conversation, people, messages, marks),
    }
    # A visit that shows nothing new (a reload) writes nothing: the mark never moves back.
    last_id = conversation.last_message_id or 0
    if before is None and marks.get(current_user.id, 0) < last_id:
        service.mark_read_now(conversation.id, current_user.id, last_id)
    return render_template("chat/show.html", **context)


@bp.post("/<int:conversation_id>")
@reads_first
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_CHAT_POST"], key_func=_user_key)
def post(conversation_id: int):
    """Send a message; htmx gets what is new, a plain form a redirect."""
    conversation = _conversation(conversation_id)
    closed = current_user.is_guardian and chat_closed(conversation)
    if not policy.can_post_in(current_user, conversation, closed):
        # Chat switched off while the page was open: say so, save nothing.
        if wants_fragment():
            # 422, so htmx swaps it in (our htmx config swaps no other 4xx).
            return render_template("chat/_compose.html", **_compose_context(conversation)), 422
        flash(_("De leerkracht heeft de chat uitgezet. Uw bericht is niet verstuurd."), "error")
        return redirect(url_for("chat.show", conversation_id=conversation.id), 303)
    form = MessageForm()
    uploads = attachments.uploads_from(request)
    form.has_files = bool(uploads)
    checked, problems = attachments.check(uploads)
    if form.validate_on_submit() and not problems:
        end_reads(db.session())  # nothing is held while the files are processed
        try:
            staged = attachments.prepare(checked)
        except media.UploadErrors as exc:
            problems = exc.messages
        else:
            service.send_message(conversation, current_user, form.body.data, staged)
            flash(_("Uw bericht is verstuurd."), "success")
            if wants_fragment():
                compose = render_template("chat/_compose.html", **_compose_context(conversation))
                news = _news(conversation, _int_arg("na"), _int_arg("v"))
                return compose + news
            return redirect(
                url_for("chat.show", conversation_id=conversation.id, _anchor="chat-compose"), 303
            )
    if problems:
        add_error(form.body, *problems)
    context = _compose_context(conversation, form)
    if wants_fragment():
        return render_template("chat/_compose.html", **context), 422
    people = service.members(conversation)
    messages, has_older = service.page_of_messages(
        conversation, current_app.config["CHAT_PAGE_SIZE"], people=people
    )
    return render_template(
        "chat/show.html",
        title=service.title_of(conversation, current_user),
        messages=messages,
        has_older=has_older,
        older=False,
        people=people,
        last_id=conversation.last_message_id,
        revision=conversation.revision,
        poll_seconds=current_app.config["CHAT_POLL_SECONDS"],
        **context,
        **_read_by_context(conversation, people, messages),
    ), 422


@bp.errorhandler(429)
def too_many(exc):
    """Too many messages in a short time: say so where the user types, keeping the text."""
    text = _("U stuurt veel berichten kort na elkaar. Wacht even en probeer het dan opnieuw.")
    conversation_id = (request.view_args or {}).get("conversation_id")
    if wants_fragment() and conversation_id and current_user.is_authenticated:
        conversation = _conversation(conversation_id)
        form = MessageForm()
        form.body.errors = [text]
        # 422, so htmx swaps it in (our htmx config swaps no other 4xx).
        return render_template("chat/_compose.html", **_compose_context(conversation, form)), 422
    return render_template("errors/error.html", code=429, title=_("Even wachten"), text=text), 429


@bp.get("/<int:conversation_id>/nieuw")
@limiter.exempt
@polled
def poll(conversation_id: int):
    """Answer what is new since the browser's revision; 204 when nothing is.

    Polled every few seconds by every open conversation, so the empty answer
    costs two indexed queries: the session lookup and poll_state.
    """
    if not current_user.is_authenticated:
        return "", 401
    state = service.poll_state(conversation_id, current_user.id)
    if state is None:
        abort(404)
    policy.require(state.allowed)
    if state.revision <= _int_arg("v"):
        return "", 204
    conversation = db.session.get(Conversation, conversation_id)
    policy.require(not policy.in_other_school(current_user, conversation))
    return _news(conversation, _int_arg("na"), _int_arg("v"))


@bp.route("/<int:conversation_id>/berichten/<int:message_id>/bewerken", methods=["GET", "POST"])
@login_required
def edit(conversation_id: int, message_id: int):
    """Change the text of one's own message (it then shows "bewerkt")."""
    message = _message(conversation_id, message_id)
    form = EditMessageForm(body=message.body)
    if form.validate_on_submit():
        service.edit_message(message, form.body.data.strip())
        flash(_("Uw bericht is aangepast."), "success")
        if wants_fragment():
            return message_fragments([service.shown_message(message.id)])
        return redirect(
            url_for("chat.show", conversation_id=conversation_id, _anchor=f"message-{message.id}"),
            303,
        )
    status = 422 if request.method == "POST" else 200
    if wants_fragment():
        return render_template("chat/_edit.html", m=message, form=form), status
    return render_template("chat/edit.html", m=message, form=form,
                           title=service.title_of(message.conversation, current_user)), status


@bp.post("/<int:conversation_id>/berichten/<int:message_id>/verwijderen")
@login_required
def delete(conversation_id: int, message_id: int):
    """Delete one's own message; "bericht verwijderd" stays in its place."""
    message = _message(conversation_id, message_id)
    if EmptyForm().validate_on_submit():
        service.delete_message(message)
        flash(_("Uw bericht is verwijderd."), "success")
    if wants_fragment():
        return message_fragments([service.shown_message(message.id)])
    return redirect(
        url_for("chat.show", conversation_id=conversation_id, _anchor=f"message-{message.id}"), 303
    )


@bp.get("/bijlagen/<key>/<variant>")
@login_required
def attachment(key: str, variant: str):
    """Send an attachment to a member of its conversation, never to be cached."""
    if variant not in VARIANTS or not media.KEY_RE.fullmatch(key):
        abort(404)
    stored, kinds = VARIANTS[variant]
    item = db.session.scalar(
        select(attachments.MessageAttachment)
        .where(attachments.MessageAttachment.key == key)
        .options(joinedload(attachments.MessageAttachment.message))
    )
    if item is None or item.kind not in kinds:
        abort(404)
    policy.require(policy.can_see_attachment(current_user, item))
    return send_stored(item, stored)


# -- staff --------------------------------------------------------------------


@bp.route("/starten", methods=["GET", "POST"])
@login_required
def start():
    """Start a chat with chosen guardians of the teacher's groups."""
    policy.require(policy.can_start_chat(current_user))
    candidates = service.startable_guardians(current_user)
    form = StartChatForm()
    # Teachers think in children: "Sem: Eva Jansen", sorted by child.
    candidates.sort(key=lambda pair: [s.first_name for s in pair[1]])
    form.guardians.choices = [
        SelectChoice(user.id, f"{', '.join(s.first_name for s in kids)}: {user.display_name}")
        for user, kids in candidates
    ]
    if form.validate_on_submit():
        chosen = list(db.session.scalars(select(User).where(User.id.in_(form.guardians.data))))
        policy.require(
            len(chosen) == len(set(form.guardians.data))
            and policy.can_start_chat_with(current_user, chosen)
        )
        conversation = service.start_chat(current_user, form.title.data.strip(), chosen)
        flash(_("Het gesprek is gestart."), "success")
        return redirect(url_for("chat.show", conversation_id=conversation.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("chat/start.html", form=form), status


@bp.route("/beschikbaarheid", methods=["GET", "POST"])
@login_required
def availability():
    """Set one's working days and hours, or switch chat off for a while."""
    policy.require(policy.can_set_availability(current_user))
    current = availability_of(current_user)
    form = AvailabilityForm(
        data=None if request.method == "POST" else {
            "weekdays": sorted(current.days),
            "starts_at": current.starts_at,
            "ends_at": current.ends_at,
            "chat_off": current.chat_off,
            "off_until": current.off_until,
            "off_message": current.off_message,
        }
    )
    if form.validate_on_submit():
        set_availability(current_user, weekdays=form.weekdays.data,
                         starts_at=form.starts_at.data, ends_at=form.ends_at.data,
                         chat_off=form.chat_off.data, off_until=form.off_until.data,
                         off_message=form.off_message.data)
        flash(_("Uw beschikbaarheid is opgeslagen."), "success")
        return redirect(url_for("chat.availability"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("chat/availability.html", form=form), status
