"""Read a students CSV and plan what importing it would do.

Pure: no database and no Flask. The service hands in what the database holds
now (`Existing`), gets back a `Plan`, shows it as the preview and, on confirm,
applies a plan recomputed from the same bytes. A plan with problems is never
applied: one bad row stops the whole file.

The file comes from the student administration system or from Excel: columns
by (Dutch) name in a header row, `;` or `,` between them, UTF-8 with or without
BOM, or Windows-1252 (what Dutch Excel writes as "CSV").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from ..models.user import normalize_email  # the accounts' own: one address, one account

MAX_BYTES = 1_000_000  # about 10,000 students; the file travels back in a form field
# The columns, in the order the messages list them, each with the longest value it may hold.
MAX_LENGTH = {
    "leerlingnummer": 40,
    "voornaam": 80,
    "achternaam": 120,
    "groep": 60,
    "ouder1_naam": 120,
    "ouder1_email": 254,
    "ouder2_naam": 120,
    "ouder2_email": 254,
}
COLUMNS = tuple(MAX_LENGTH)
REQUIRED = COLUMNS[:4]
GUARDIAN_COLUMNS = (("ouder1_naam", "ouder1_email"), ("ouder2_naam", "ouder2_email"))

# "3", "groep 3", "3A", "Groep 3b": one grade. "5/6", "Groep 1-2": a combination
# group, which has no single grade. A name without digits ("Kleuters Rood") has
# no grade either. Anything else with a number in it is a typo we refuse.
SINGLE_GRADE = re.compile(r"^(?:groep\s*)?([1-8])\s*([a-z])?$", re.IGNORECASE)
COMBINATION = re.compile(r"^(?:groep\s*)?[1-8]\s*[/+&-]\s*[1-8]$", re.IGNORECASE)
BARE_GRADE = re.compile(r"^[1-8]$")


# -- what goes in -------------------------------------------------------------


@dataclass(frozen=True)
class StudentState:
    id: int
    first_name: str
    last_name: str


@dataclass(frozen=True)
class GroupState:
    id: int
    name: str
    grade: int | None


@dataclass(frozen=True)
class AccountState:
    id: int
    is_staff: bool


@dataclass
class Existing:
    """What the database holds now, as plain data."""

    students: dict[str, StudentState] = field(default_factory=dict)  # by student number
    placements: dict[int, int] = field(default_factory=dict)  # student id -> group id, target year
    groups: dict[str, GroupState] = field(default_factory=dict)  # by name_key(), target year
    accounts: dict[str, AccountState] = field(default_factory=dict)  # by normalised email
    links: set[tuple[int, int]] = field(default_factory=set)  # (user id, student id)

    def group_by_id(self, group_id: int) -> GroupState | None:
        return next((group for group in self.groups.values() if group.id == group_id), None)


# -- what comes out -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    line: int | None  # None: about the file as a whole
    message: object  # a lazy, translatable string


@dataclass
class GuardianStep:
    email: str
    name: str
    new_account: bool  # this row is the first to mention an unknown email
    account_id: int | None  # None: the account is created by this import
    link: bool  # the child is not linked to this guardian yet


@dataclass
class StudentStep:
    line: int
    number: str
    first_name: str
    last_name: str
    group_key: str
    group_name: str
    student_id: int | None
    old_first_name: str | None = None
    old_last_name: str | None = None
    old_group_name: str | None = None  # None: not in a group in the target year
    group_changed: bool = False
    name_changed: bool = False
    guardians: list[GuardianStep] = field(default_factory=list)
    notes: list[object] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.student_id is None

    @property
    def status(self) -> str:
        if self.is_new:
            return "new"
        if self.group_changed or self.name_changed or any(g.link for g in self.guardians):
            return "changed"
        return "unchanged"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class NewGroup:
    name: str
    grade: int | None


@dataclass
class Plan:
    rows: list[StudentStep] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    new_groups: dict[str, NewGroup] = field(default_factory=dict)  # by name_key()
    new_accounts: dict[str, str] = field(default_factory=dict)  # email -> name
    not_in_file: int = 0  # students placed in the target year that the file leaves alone

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def links(self) -> int:
        return sum(1 for row in self.rows for g in row.guardians if g.link)

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_groups or self.new_accounts) or any(
            row.status != "unchanged" for row in self.rows
        )

    def digest(self) -> str:
        """A fingerprint of every action, to see whether a confirmed plan is the previewed one."""
        actions = {
            "groups": sorted((g.name, g.grade) for g in self.new_groups.values()),
            "accounts": sorted(self.new_accounts.items()),
            "rows": [
                [
                    row.number, row.student_id, row.first_name, row.last_name, row.group_name,
                    row.old_first_name, row.old_last_name, row.old_group_name,
                    [[g.email, g.account_id, g.link] for g in row.guardians],
                ]
                for row in self.rows
                if row.status != "unchanged"
            ],
        }
        return hashlib.sha256(json.dumps(actions, ensure_ascii=False).encode()).hexdigest()


# -- reading --------------------------------------------------------------------


@dataclass
class Row:
    line: int
    values: dict[str, str]


def clean(value: str) -> str:
    """One form for text: NFC (macOS writes é as e + accent), single spaces, no edges."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def name_key(group_name: str) -> str:
    return clean(group_name).casefold()


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; ValueError when it is neither."""
    if b"\x00" in data:
        raise ValueError("binary")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")  # raises UnicodeDecodeError (a ValueError) on undefined bytes


def _header_key(cell: str) -> str:
    return re.sub(r"[\s_\-]", "", cell.strip().lower())


_KNOWN = {_header_key(c): c for c in COLUMNS}


def read(data: bytes) -> tuple[list[Row], list[Problem]]:
    """The data rows as {column: value}, or the problems that stop the file."""
    if not data.strip():
        return [], [Problem(None, _l("Het bestand is leeg."))]
    if len(data) > MAX_BYTES:
        return [], [Problem(None, _l("Het bestand is te groot (meer dan 1 MB)."))]
    try:
        text = decode(data)
    except ValueError:
        return [], [
            Problem(
                None,
                _l(
                    "Dit bestand kan niet als CSV worden gelezen. Is het misschien een "
                    "Excel-bestand? Kies in Excel ‘Opslaan als’ → ‘CSV UTF-8’ of ‘CSV "
                    "(gescheiden door lijstscheidingsteken)’."
                ),
            )
        ]
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if first_line.count(";") >= first_line.count(",") and ";" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    problems: list[Problem] = []
    header: list[str] | None = None
    last_line = 0
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_problems = _read_header(cells, line)
                if header_problems:
                    return [], header_problems
                continue
            if len(cells) > len(header):
                # Usually a name with the delimiter in it, written without quotes: the
                # values after it have shifted one column, so nothing on the line is safe.
                problems.append(Problem(line, _l(
                    "Te veel kolommen: %(found)s in plaats van %(expected)s. Staat er een "
                    "komma of puntkomma in een naam? Zet die naam dan tussen aanhalingstekens.",
                    found=len(cells), expected=len(header),
                )))
                continue
            unnamed = [n for n, (column, cell)
                       in enumerate(zip(header, cells, strict=False), start=1)
                       if not column and cell.strip()]
            if unnamed:
                problems.append(Problem(line, _l(
                    "In kolom %(n)s staat iets, maar die kolom heeft geen naam in de kopregel.",
                    n=unnamed[0],
                )))
                continue
            if any("\n" in c or "\r" in c for c in cells):
                # Nobody's name has a line break: an opening quote without its closing one
                # has swallowed the lines after it.
                problems.append(Problem(line, _l(
                    "Een waarde op deze regel loopt door over meerdere regels. Staat er ergens "
                    "een aanhalingsteken (\") zonder een tweede erbij?"
                )))
                continue
            values = dict.fromkeys(COLUMNS, "")
            # A short line leaves the last columns empty.
            for column, cell in zip(header, cells, strict=False):
                if column:
                    values[column] = clean(cell)
            rows.append(Row(line, values))
    except csv.Error:
        problems.append(Problem(last_line + 1, _l(
            "Deze regel kan niet worden gelezen. Controleer de aanhalingstekens."
        )))
    if header is None:
        return [], [Problem(None, _l("Het bestand is leeg."))]
    if not rows and not problems:
        problems.append(
            Problem(None, _l("Het bestand bevat alleen een kopregel, geen leerlingen."))
        )
    return rows, problems


def _read_header(cells: list[str], line: int) -> tuple[list[str], list[Problem]]:
    header: list[str] = []
    problems: list[Problem] = []
    for cell in cells:
        key = _header_key(cell.lstrip("\ufeff"))
        column = _KNOWN.get(key)
        if not key:
            header.append("")  # an empty column (Excel writes trailing separators)
        elif column is None:
            problems.append(Problem(line, _l(
                "Onbekende kolom ‘%(name)s’. Gebruik de kolommen: %(columns)s.",
                name=cell.strip(), columns=", ".join(COLUMNS),
            )))
        elif column in header:
            problems.append(Problem(line, _l("De kolom ‘%(name)s’ staat er twee keer in.",
                                             name=column)))
        else:
            header.append(column)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(line, _l(
            "De kopregel mist de kolom(men): %(missing)s. De eerste regel moet de kolomnamen "
            "bevatten: %(columns)s.",
            missing=", ".join(missing), columns=", ".join(COLUMNS),
        )))
    return header, problems


# -- planning -------------------------------------------------------------------


def group_grade(name: str) -> tuple[str, int | None] | None:
    """The name a new group gets and its grade; None when the grade cannot be read."""
    if BARE_GRADE.match(name):
        return f"Groep {name}", int(name)
    single = SINGLE_GRADE.match(name)
    if single:
        return name, int(single.group(1))
    if COMBINATION.match(name) or not re.search(r"\d", name):
        return name, None
    return None


def _valid_email(value: str) -> bool:
    if len(value) > 254:  # no address is longer; email_validator is slow on long text
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def plan(data: bytes, existing: Existing) -> Plan:
    """What importing `data` into the target year would do, given what exists."""
    rows, problems = read(data)
    result = Plan(problems=list(problems))
    seen_numbers: dict[str, int] = {}
    valid_emails: dict[str, bool] = {}

    for row in rows:
        v = row.values
        row_problems: list[object] = []
        for column in COLUMNS:
            if len(v[column]) > MAX_LENGTH[column]:
                row_problems.append(_l("%(column)s is te lang (hoogstens %(max)s tekens).",
                                       column=column, max=MAX_LENGTH[column]))
        number = v["leerlingnummer"]
        if not number:
            row_problems.append(_l("Het leerlingnummer ontbreekt."))
        elif number in seen_numbers:
            row_problems.append(_l("Leerlingnummer %(number)s staat ook op regel %(line)s.",
                                   number=number, line=seen_numbers[number]))
        else:
            seen_numbers[number] = row.line
        if not v["voornaam"]:
            row_problems.append(_l("De voornaam ontbreekt."))
        if not v["achternaam"]:
            row_problems.append(_l("De achternaam ontbreekt."))

        group = _resolve_group(v["groep"], existing, result, row_problems)

        guardians: list[tuple[str, str]] = []
        notes: list[object] = []
        for n, (name_col, email_col) in enumerate(GUARDIAN_COLUMNS, start=1):
            name, raw = v[name_col], v[email_col]
            if not raw:
                if name:
                    notes.append(_l("Ouder %(n)s (%(name)s) heeft geen e-mailadres en wordt "
                                    "overgeslagen.", n=n, name=name))
                continue
            email = normalize_email(raw)
            if email not in valid_emails:
                valid_emails[email] = _valid_email(email)
            if not valid_emails[email]:
                row_problems.append(_l("Het e-mailadres van ouder %(n)s (%(email)s) is ongeldig.",
                                       n=n, email=raw))
                continue
            account = existing.accounts.get(email)
            if account is not None and account.is_staff:
                row_problems.append(_l(
                    "Het e-mailadres van ouder %(n)s (%(email)s) hoort bij een medewerker van "
                    "de school. Een ouder heeft een eigen e-mailadres nodig.", n=n, email=email))
                continue
            if email not in (g[0] for g in guardians):
                guardians.append((email, name))

        if row_problems:
            result.problems.extend(Problem(row.line, m) for m in row_problems)
            continue
        result.rows.append(_step(row, number, group, guardians, notes, existing, result))

    if result.problems:
        result.rows = []
        result.new_groups = {}
        result.new_accounts = {}
        result.problems.sort(key=lambda p: p.line or 0)
        return result
    in_file = {existing.students[r.number].id for r in result.rows if r.number in existing.students}
    result.not_in_file = sum(1 for sid in existing.placements if sid not in in_file)
    return result


def _resolve_group(
    raw: str, existing: Existing, result: Plan, problems: list
) -> GroupState | NewGroup | None:
    if not raw:
        problems.append(_l("De groep ontbreekt."))
        return None
    for key in (name_key(raw), name_key(f"Groep {raw}") if BARE_GRADE.match(raw) else None):
        if key and key in existing.groups:
            return existing.groups[key]
    named = group_grade(raw)
    if named is None:
        problems.append(_l(
            "Onbekende groep ‘%(group)s’. Schrijf de groep als bijvoorbeeld ‘Groep 3’, ‘3B’ of "
            "‘Groep 5/6’ (groep 1 tot en met 8), of maak de groep eerst aan onder Groepen.",
            group=raw))
        return None
    name, grade = named
    key = name_key(name)
    if key in existing.groups:
        return existing.groups[key]
    return result.new_groups.setdefault(key, NewGroup(name, grade))


def _step(row: Row, number: str, group, guardians, notes, existing: Existing, result: Plan):
    v = row.values
    current = existing.students.get(number)
    step = StudentStep(
        line=row.line,
        number=number,
        first_name=v["voornaam"],
        last_name=v["achternaam"],
        group_key=name_key(group.name),
        group_name=group.name,
        student_id=current.id if current else None,
        notes=notes,
    )
    if current is not None:
        placed = existing.placements.get(current.id)
        old_group = existing.group_by_id(placed) if placed is not None else None
        step.old_group_name = old_group.name if old_group else None
        step.group_changed = old_group is None or name_key(old_group.name) != step.group_key
        if (current.first_name, current.last_name) != (step.first_name, step.last_name):
            step.name_changed = True
            step.old_first_name, step.old_last_name = current.first_name, current.last_name
    for email, name in guardians:
        account = existing.accounts.get(email)
        new_account = account is None and email not in result.new_accounts
        if new_account:
            result.new_accounts[email] = name
        linked = (
            account is not None
            and current is not None
            and (account.id, current.id) in existing.links
        )
        step.guardians.append(GuardianStep(
            email=email,
            name=name,
            new_account=new_account,
            account_id=account.id if account else None,
            link=not linked,
        ))
    return step
