"""Every user-facing string has an English translation (Dutch is the source language).

When this fails: `make translations`, then fill in the empty msgstr's in
parro/translations/en/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("parro/**.py", "python"), ("templates/**.html", "jinja2"),
           ("templates/**.txt", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**": {}}
    ):
        if isinstance(message, tuple):
            found.add(message[0])
        else:
            found.add(message)
    return {m for m in found if m}


def test_every_string_has_an_english_translation():
    with open(ROOT / "parro/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
        and not m.fuzzy
    }
    missing = sorted(source_messages() - translated)
    assert not missing, (f"{len(missing)} strings without English translation:\n"
                         + "\n".join(missing))
