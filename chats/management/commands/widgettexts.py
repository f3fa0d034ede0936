"""Copy the widget's translations from the "djangojs" catalogues into static/chats/widget.js.

The widget is one static script with no requests before its launcher is drawn, so its words
travel inside it. They are translated like the rest of the UI, in
locale/<lang>/LC_MESSAGES/djangojs.po; this command writes what the compiled catalogues say
between the BEGIN/END TRANSLATIONS markers. `--check` changes nothing and fails when the
script is not what the catalogues say, or a language lacks a word (CI runs it through the
test suite). The steps after changing a text in widget.js (docs/ui.md):

    python manage.py makemessages -d djangojs -l fi -l sv --ignore=node_modules --ignore=.venv
    (translate the new entries in locale/fi and locale/sv)
    python manage.py compilemessages --ignore=.venv --ignore=node_modules
    python manage.py widgettexts
"""

import gettext
import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

WIDGET = Path(settings.BASE_DIR) / "static" / "chats" / "widget.js"
SOURCE_LANGUAGE = "en"  # the msgids are the English texts
MSGID = re.compile(r'gettext_noop\(("(?:[^"\\]|\\.)*")\)')
BLOCK = re.compile(r"(  // BEGIN TRANSLATIONS[^\n]*\n)(.*?)(  // END TRANSLATIONS)", re.DOTALL)


def widget_msgids(script: str) -> list[str]:
    return [json.loads(literal) for literal in MSGID.findall(script)]


def translations(msgids: list[str]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """{language: {msgid: text}} from the compiled catalogues, and what each one lacks."""
    found, missing = {}, []
    for language, _name in settings.LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        catalogue = {}
        for path in settings.LOCALE_PATHS:
            try:
                compiled = gettext.translation("djangojs", str(path), languages=[language])
            except FileNotFoundError:
                continue
            catalogue = {**compiled._catalog, **catalogue}  # the first path wins, as in Django
        found[language] = {}
        for msgid in msgids:
            if catalogue.get(msgid):
                found[language][msgid] = catalogue[msgid]
            else:
                missing.append(f"{language}: {msgid}")
    return found, missing


def rendered(found: dict[str, dict[str, str]]) -> str:
    body = json.dumps(found, ensure_ascii=False, indent=2)
    indented = "\n".join("  " + line for line in body.splitlines())
    return f"  var TRANSLATIONS = {indented.lstrip()};\n"


class Command(BaseCommand):
    help = "Write the widget's translations (djangojs catalogues) into static/chats/widget.js."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="change nothing; fail if out of date"
        )

    def handle(self, *args, check=False, **options):
        script = WIDGET.read_text(encoding="utf-8")
        block = BLOCK.search(script)
        if block is None:
            raise CommandError(f"{WIDGET} has no BEGIN/END TRANSLATIONS markers")
        msgids = widget_msgids(script)
        found, missing = translations(msgids)
        if missing:
            raise CommandError(
                "untranslated in the djangojs catalogues (makemessages, translate, "
                "compilemessages):\n  " + "\n  ".join(missing)
            )
        updated = script[: block.start(2)] + rendered(found) + script[block.end(2) :]
        if updated == script:
            self.stdout.write(f"{WIDGET.name}: {len(msgids)} texts, up to date")
            return
        if check:
            raise CommandError(f"{WIDGET} is out of date: run `python manage.py widgettexts`")
        WIDGET.write_text(updated, encoding="utf-8")
        self.stdout.write(f"{WIDGET.name}: {len(msgids)} texts written for {', '.join(found)}")
