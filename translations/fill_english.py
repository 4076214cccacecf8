"""The source strings are English: the English catalogue takes each msgid as its msgstr.

Run by `make translations-update` after merging; only empty entries are filled, so a deliberate English
wording is kept.
"""
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"

with CATALOGUE.open("rb") as handle:
    catalogue = read_po(handle, locale="en")
for message in catalogue:
    if isinstance(message.id, tuple):  # plural: singular and plural forms
        if not all(message.string):
            message.string = message.id
    elif message.id and not message.string:
        message.string = message.id
    message.flags.discard("fuzzy")
with CATALOGUE.open("wb") as handle:
    write_po(handle, catalogue, width=100, sort_output=True, omit_header=False, no_location=True)
