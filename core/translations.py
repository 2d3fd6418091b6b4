"""Keeping the gettext catalogues: extract the texts, update each language, compile, check.

    python -m core.translations extract   # core/locale/cloudacct.pot from core/ and tui/
    python -m core.translations update    # merge the template into every language's .po
    python -m core.translations compile   # .po -> .mo (shipped in the wheel)
    python -m core.translations check     # CI: nothing missing or fuzzy, placeholders kept,
                                          # every .mo compiled from its .po as committed

Texts are found by Babel's extractor wherever the code marks them (`_()`, `N_()`,
`ngettext()`, see core.i18n). Babel is a maintained implementation of gettext's tools in
Python, so there is no GNU gettext to install, and the same package formats dates and money.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from core.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, _catalogue_name

ROOT = LOCALE_DIR.parent.parent
SOURCES = ("core", "tui")
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:[:!][^{}]*)?\}")


def po_path(language: str) -> Path:
    return LOCALE_DIR / _catalogue_name(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def _keywords() -> dict[str, object]:
    """The calls whose first string is a text for people: the i18n functions, core.i18n.phrase,
    and every refusal class (`Refused("...")` is a message id as written)."""
    import inspect

    from core import errors

    refusals = {name: None for name, kind in vars(errors).items()
                if inspect.isclass(kind) and issubclass(kind, errors.DomainError)}
    return {"_": None, "N_": None, "ngettext": (1, 2), "phrase": None, "plural_text": (1, 2),
            "counted": (1, 2), **refusals}


def extract_template():
    """Every marked text of the sources, as a Babel Catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="cloudacct", domain=DOMAIN)
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / source, method_map=[("**.py", "python")], keywords=_keywords(),
                comment_tags=("Translators:",), strip_comment_tags=True):
            first = message[0] if isinstance(message, tuple) else message
            if not any(ch.isalpha() for ch in first):
                continue  # a key or a control sequence, not a text for people
            catalog.add(message, locations=[(f"{source}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


def _write_po(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_by_file=True, omit_header=False,
             ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def _read_po(path: Path, language: str):
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, locale=_catalogue_name(language), domain=DOMAIN)


def _mo_bytes(catalog) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def translated_languages() -> tuple[str, ...]:
    return tuple(language for language in LANGUAGES if language != "en")


def extract() -> int:
    template = extract_template()
    _write_po(template, TEMPLATE)
    return len(template)


def update() -> None:
    from babel.messages.catalog import Catalog

    template = extract_template()
    for language in translated_languages():
        path = po_path(language)
        catalog = (_read_po(path, language) if path.exists()
                   else Catalog(locale=_catalogue_name(language), domain=DOMAIN))
        catalog.update(template, no_fuzzy_matching=True)
        _write_po(catalog, path)


def compile_all() -> None:
    for language in translated_languages():
        path = po_path(language)
        path.with_suffix(".mo").write_bytes(_mo_bytes(_read_po(path, language)))


def _placeholders(text: str) -> set[str]:
    return {match.split(":")[0].split("!")[0] + "}" for match in _PLACEHOLDER.findall(text)}


def problems() -> list[str]:
    """What stops a catalogue from being complete and in force; empty when all is well."""
    template = extract_template()
    found: list[str] = []
    for language in translated_languages():
        path = po_path(language)
        if not path.exists():
            found.append(f"{language}: no catalogue at {path.relative_to(ROOT)}")
            continue
        catalog = _read_po(path, language)
        for message in template:
            if not message.id:
                continue
            entry = catalog.get(message.id, context=message.context)
            where = message.locations[0][0] if message.locations else "?"
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            if entry is None:
                found.append(f"{language}: missing {ids[0]!r} ({where})")
                continue
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if entry.fuzzy:
                found.append(f"{language}: fuzzy {ids[0]!r}")
            if not all(strings):
                found.append(f"{language}: untranslated {ids[0]!r} ({where})")
            elif any(_placeholders(s) != _placeholders(ids[0]) for s in strings):
                found.append(f"{language}: placeholders differ in {ids[0]!r}")
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
            found.append(f"{language}: {mo.name} is not compiled from its .po "
                         "(python -m core.translations compile)")
    return found


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:] or ["check"])[0]
    if command == "extract":
        print(f"{extract()} texts in {TEMPLATE.relative_to(ROOT)}")
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        print("catalogues complete" if not found else f"{len(found)} problems")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
