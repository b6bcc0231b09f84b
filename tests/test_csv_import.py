"""The CSV import's reader and planner: pure functions, no database."""

from __future__ import annotations

import pytest

from parro.admin import csv_import
from parro.admin.csv_import import (
    AccountState,
    Existing,
    GroupState,
    StudentState,
    group_grade,
    name_key,
    plan,
    read,
)

HEADER = (
    "leerlingnummer;voornaam;achternaam;groep;ouder1_naam;ouder1_email;ouder2_naam;ouder2_email"
)


def csv(*lines: str, header: str = HEADER, newline: str = "\r\n", encoding: str = "utf-8") -> bytes:
    return newline.join([header, *lines]).encode(encoding) + newline.encode()


def messages(result) -> list[tuple[int | None, str]]:
    return [(p.line, str(p.message)) for p in result.problems]


def existing_school() -> Existing:
    """Groep 3 and Groep 4 exist; Sem (1001) is in Groep 3 with his mother linked."""
    return Existing(
        students={
            "1001": StudentState(1, "Sem", "Jansen"),
            "1002": StudentState(2, "Noor", "Bakker"),
        },
        placements={1: 10},
        groups={
            name_key("Groep 3"): GroupState(10, "Groep 3", 3),
            name_key("Groep 4"): GroupState(11, "Groep 4", 4),
        },
        accounts={
            "eva@example.org": AccountState(100, is_staff=False),
            "juf.anna@example.org": AccountState(200, is_staff=True),
        },
        links={(100, 1)},
    )


# -- reading: encodings, delimiters, line endings ----------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_reads_accented_names_in_every_encoding_delimiter_and_line_ending(encoding, delimiter,
                                                                          newline):
    header = HEADER.replace(";", delimiter)
    line = delimiter.join(["1", "Zoë", "Öztürk", "Groep 3", "Ayşe Öztürk" if encoding != "cp1252"
                           else "Ayse Öztürk", "ayse@example.org", "", ""])
    rows, problems = read(csv(line, header=header, newline=newline, encoding=encoding))
    assert problems == []
    assert len(rows) == 1
    v = rows[0].values
    assert (v["voornaam"], v["achternaam"], v["groep"]) == ("Zoë", "Öztürk", "Groep 3")
    assert v["ouder1_email"] == "ayse@example.org"
    assert rows[0].line == 2


def test_utf8_names_with_letters_outside_windows_1252():
    rows, problems = read(csv("1;Şahin;Çelik;3;Gülşen Şahin;g@example.org;;"))
    assert problems == []
    assert rows[0].values["voornaam"] == "Şahin"
    assert rows[0].values["ouder1_naam"] == "Gülşen Şahin"


def test_quoted_fields_with_delimiters_and_quotes():
    data = csv(
        '1,"Anna, Maria","van ""de"" Berg",Groep 3,,,,',
        '2,Piet "PJ",Bos,Groep 3,,,,',
        header=HEADER.replace(";", ","),
    )
    rows, problems = read(data)
    assert problems == []
    assert [r.values["voornaam"] for r in rows] == ["Anna, Maria", 'Piet "PJ"']
    assert rows[0].values["achternaam"] == 'van "de" Berg'


def test_a_value_over_several_lines_is_an_unclosed_quote():
    data = csv(
        "1;Anna;Smit;Groep 3;;;;",
        '2;"Piet\r\nJan";Bos;Groep 3;;;;',
        "3;Kees;Smit;Groep 3;;;;",
        '4;"Sem;Jansen;3;;;;',
        "5;Noor;Bakker;3;;;;",
    )
    rows, problems = read(data)
    # Line numbers are the lines where a row starts, as a text editor shows them.
    assert [r.line for r in rows] == [2, 5]
    assert [p.line for p in problems] == [3, 6]
    assert "aanhalingsteken" in str(problems[1].message)


def test_an_unclosed_quote_in_a_big_file_is_reported_at_its_line():
    lines = ["1;Anna;Smit;3;;;;", '2;"Sem;Jansen;3;;;;'] + [
        f"{n};Kind;Tester;3;;;;" for n in range(3, 9000)]
    _, problems = read(csv(*lines))
    assert [(p.line, str(p.message)) for p in problems] == [
        (3, "Deze regel kan niet worden gelezen. Controleer de aanhalingstekens.")]


def test_header_is_case_insensitive_and_columns_may_come_in_any_order():
    data = csv("Jansen;Sem;groep 3;1", header="Achternaam;VOORNAAM;Groep;LeerlingNummer")
    rows, problems = read(data)
    assert problems == []
    assert rows[0].values["leerlingnummer"] == "1"
    assert rows[0].values["ouder1_email"] == ""


def test_names_are_normalised_to_nfc_and_single_spaces():
    decomposed = "Zoe\u0308"  # macOS writes ë as e + combining diaeresis
    rows, _ = read(csv(f"1;  {decomposed} ;van  Dijk;Groep 3;;;;"))
    assert rows[0].values["voornaam"] == "Zoë"
    assert rows[0].values["achternaam"] == "van Dijk"


def test_blank_lines_and_rows_of_empty_separators_are_skipped():
    rows, problems = read(csv("", "1;Sem;Jansen;3;;;;", ";;;;;;;", "", "2;Noor;Bakker;3;;;;"))
    assert problems == []
    assert [r.line for r in rows] == [3, 6]


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\xef\xbb\xbf", b"   "])
def test_an_empty_file_is_refused(data):
    rows, problems = read(data)
    assert rows == []
    assert [str(p.message) for p in problems] == ["Het bestand is leeg."]


def test_a_file_with_only_a_header_is_refused():
    rows, problems = read(csv())
    assert rows == []
    assert "alleen een kopregel" in str(problems[0].message)


def test_an_excel_file_is_not_a_csv():
    rows, problems = read(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
    assert rows == []
    assert "Excel" in str(problems[0].message)


def test_utf16_is_not_read_as_garbage():
    rows, problems = read(csv("1;Sem;Jansen;3;;;;", encoding="utf-16"))
    assert rows == [] and problems


def test_unknown_and_missing_columns_are_named():
    _, problems = read(csv("1;Sem;3", header="leerlingnummer;voornaam;klas"))
    text = " ".join(str(p.message) for p in problems)
    assert "Onbekende kolom ‘klas’" in text
    assert "achternaam" in text and "groep" in text
    assert all(p.line == 1 for p in problems)


def test_a_repeated_column_is_refused():
    header = "leerlingnummer;voornaam;achternaam;groep;groep"
    _, problems = read(csv("1;Sem;Jansen;3;4", header=header))
    assert "twee keer" in str(problems[0].message)


def test_trailing_empty_columns_are_tolerated_but_extra_data_is_not():
    data = csv("1;Sem;Jansen;3;;;;;;", "2;Anna;Jansen;3;;;;;x", "3;Kees;Bos;3;;;;;;;",
               header=HEADER + ";;")
    rows, problems = read(data)
    assert [r.line for r in rows] == [2]
    assert [(p.line, str(p.message)) for p in problems] == [
        (3, "In kolom 9 staat iets, maar die kolom heeft geen naam in de kopregel."),
        (4, ("Te veel kolommen: 11 in plaats van 10. Staat er een komma of puntkomma in een "
             "naam? Zet die naam dan tussen aanhalingstekens.")),
    ]


def test_an_unquoted_comma_in_a_name_makes_too_many_columns():
    data = csv("1,Sem,Jansen,de,3,,,,", header=HEADER.replace(";", ","))
    rows, problems = read(data)
    assert rows == []
    assert problems[0].line == 2
    assert "aanhalingstekens" in str(problems[0].message)


def test_a_file_larger_than_the_limit_is_refused():
    _, problems = read(b"x" * (csv_import.MAX_BYTES + 1))
    assert "te groot" in str(problems[0].message)


# -- group names and grades -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("3", ("Groep 3", 3)),
        ("Groep 3", ("Groep 3", 3)),
        ("groep 8", ("groep 8", 8)),
        ("3A", ("3A", 3)),
        ("Groep 4b", ("Groep 4b", 4)),
        ("Groep 5/6", ("Groep 5/6", None)),
        ("1-2", ("1-2", None)),
        ("Kleuters Rood", ("Kleuters Rood", None)),
        ("Groep 9", None),
        ("0", None),
        ("12", None),
        ("Groep 3 extra 2", None),
    ],
)
def test_group_grade(raw, expected):
    assert group_grade(raw) == expected


# -- planning -------------------------------------------------------------------------


def test_plan_for_a_new_student_with_a_new_group_and_new_guardians():
    data = csv("2001;Zoë;de Vries;Groep 5;Anna de Vries;Anna.DeVries@Example.org;"
               "Karim de Vries;karim@example.org")
    result = plan(data, existing_school())
    assert result.ok, messages(result)
    row = result.rows[0]
    assert row.status == "new"
    assert row.group_name == "Groep 5"
    assert list(result.new_groups) == ["groep 5"]
    assert result.new_groups["groep 5"].grade == 5
    # Emails are case-insensitive: stored lower-case.
    assert result.new_accounts == {"anna.devries@example.org": "Anna de Vries",
                                   "karim@example.org": "Karim de Vries"}
    assert [(g.email, g.new_account, g.link) for g in row.guardians] == [
        ("anna.devries@example.org", True, True), ("karim@example.org", True, True)]
    assert result.links == 2
    assert result.not_in_file == 1  # Sem stays in Groep 3


def test_bare_grade_matches_the_existing_group():
    result = plan(csv("1001;Sem;Jansen;3;Eva Jansen;eva@example.org;;"), existing_school())
    assert result.ok
    assert result.rows[0].status == "unchanged"
    assert result.new_groups == {}


def test_group_names_match_case_insensitively():
    result = plan(csv("1001;Sem;Jansen;GROEP 3;;;;"), existing_school())
    assert result.rows[0].status == "unchanged"


def test_plan_for_a_changed_group_and_name():
    data = csv("1001;Sem;Jansen-Smit;Groep 4;Eva Jansen;EVA@example.org;;")
    result = plan(data, existing_school())
    row = result.rows[0]
    assert row.status == "changed"
    assert (row.group_changed, row.old_group_name, row.group_name) == (True, "Groep 3", "Groep 4")
    assert (row.name_changed, row.old_last_name) == (True, "Jansen")
    assert row.guardians[0].link is False  # Eva is already linked
    assert result.new_accounts == {}


def test_an_existing_student_without_a_group_this_year_is_placed():
    result = plan(csv("1002;Noor;Bakker;Groep 4;;;;"), existing_school())
    row = result.rows[0]
    assert row.status == "changed"
    assert (row.old_group_name, row.group_name) == (None, "Groep 4")


def test_an_existing_guardian_is_linked_to_another_child():
    result = plan(csv("1002;Noor;Bakker;Groep 4;Eva;eva@example.org;;"), existing_school())
    g = result.rows[0].guardians[0]
    assert (g.new_account, g.account_id, g.link) == (False, 100, True)


def test_a_guardian_of_two_children_in_the_file_gets_one_account():
    data = csv("2001;Zoë;Kaya;Groep 3;Ayşe Kaya;ayse@example.org;;",
               "2002;Emre;Kaya;Groep 5;Ayşe Kaya;AYSE@example.org;;")
    result = plan(data, existing_school())
    assert result.new_accounts == {"ayse@example.org": "Ayşe Kaya"}
    assert [g.new_account for r in result.rows for g in r.guardians] == [True, False]
    assert result.links == 2


def test_the_same_guardian_twice_in_one_row_is_one_guardian():
    result = plan(csv("2001;Zoë;Kaya;3;Ayşe;ayse@example.org;Ayşe;ayse@example.org"),
                  existing_school())
    assert len(result.rows[0].guardians) == 1


def test_a_guardian_without_email_is_skipped_with_a_note():
    result = plan(csv("2001;Zoë;Kaya;3;Ayşe Kaya;;;"), existing_school())
    assert result.ok
    assert result.rows[0].guardians == []
    assert "geen e-mailadres" in str(result.rows[0].notes[0])


def test_an_unchanged_file_plans_nothing():
    result = plan(csv("1001;Sem;Jansen;Groep 3;Eva Jansen;eva@example.org;;"), existing_school())
    assert result.ok
    assert not result.changes_anything
    assert result.count("unchanged") == 1


def test_bad_rows_are_reported_by_line_and_nothing_is_planned():
    data = csv(
        "2001;Zoë;de Vries;Groep 3;;;;",  # 2: fine
        ";Piet;Bos;Groep 3;;;;",  # 3: no number
        "2001;Anna;Smit;Groep 3;;;;",  # 4: duplicate of line 2
        "2003;;Smit;Groep 3;;;;",  # 5: no first name
        "2004;Kees;;Groep 3;;;;",  # 6: no last name
        "2005;Kees;Bos;;;;;",  # 7: no group
        "2006;Kees;Bos;Groep 9;;;;",  # 8: unknown grade
        "2007;Kees;Bos;3;Ouder;geen-email;;",  # 9: invalid email
        "2008;Kees;Bos;3;Juf;Juf.Anna@example.org;;",  # 10: a staff account
        "2009;Kees;Bos;3;Ouder;o@example.org;Ouder 2;o2@@example.org",  # 11: second email invalid
        "2010;Kees;Bos;3;;;;;extra",  # 12: too many columns
    )
    result = plan(data, existing_school())
    assert not result.ok
    assert result.rows == [] and result.new_groups == {} and result.new_accounts == {}
    got = messages(result)
    assert [line for line, _ in got] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    text = dict(got)
    assert text[3] == "Het leerlingnummer ontbreekt."
    assert text[4] == "Leerlingnummer 2001 staat ook op regel 2."
    assert text[5] == "De voornaam ontbreekt."
    assert text[6] == "De achternaam ontbreekt."
    assert text[7] == "De groep ontbreekt."
    assert "Onbekende groep ‘Groep 9’" in text[8]
    assert text[9] == "Het e-mailadres van ouder 1 (geen-email) is ongeldig."
    assert "hoort bij een medewerker" in text[10]
    assert text[11] == "Het e-mailadres van ouder 2 (o2@@example.org) is ongeldig."
    assert "Te veel kolommen" in text[12]


def test_a_value_that_is_too_long_is_reported():
    result = plan(csv(f"{'9' * 41};Sem;Jansen;3;;;;"), existing_school())
    assert messages(result) == [(2, "leerlingnummer is te lang (hoogstens 40 tekens).")]


def test_the_digest_changes_when_the_database_changes():
    data = csv("1002;Noor;Bakker;Groep 4;Eva;eva@example.org;;")
    before = plan(data, existing_school()).digest()
    assert plan(data, existing_school()).digest() == before
    moved = existing_school()
    moved.placements[2] = 11  # someone placed Noor in Groep 4 meanwhile
    assert plan(data, moved).digest() != before


def test_a_5000_row_file_is_planned_quickly():
    import time

    lines = [f"{30000 + i};Kind{i};Achternaam {i % 97};Groep {1 + i % 8};Ouder {i};"
             f"ouder{i // 2}@example.org;;" for i in range(5000)]
    start = time.process_time()  # CPU: what others run on the machine does not count
    result = plan(csv(*lines), existing_school())
    assert result.ok
    assert result.count("new") == 5000
    assert len(result.new_accounts) == 2500
    assert time.process_time() - start < 3
