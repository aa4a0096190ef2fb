"""The words of the pages: one table per language, the same keys in each."""

from __future__ import annotations

from reportgen.render.strings import LANGUAGES, strings


def _keys(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_every_key_exists_in_every_language():
    keys = {language: set(_keys(strings(language))) for language in LANGUAGES}
    reference = keys[LANGUAGES[0]]
    for language, found in keys.items():
        assert found == reference, (language, sorted(found ^ reference))


def test_no_entry_is_empty():
    for language in LANGUAGES:
        for key in _keys(strings(language)):
            value = strings(language)
            for part in key.split("."):
                value = value[part]
            assert str(value).strip(), (language, key)
