"""Screenshots of each page at desktop (1280×800) and phone (390×844) size: docs/screenshots/.

    ./dev screenshots                 every page, in Finnish
    ./dev screenshots --only admin    the pages whose name contains "admin"
    ./dev screenshots --full          whole pages instead of the first screen

It makes a throw-away SQLite database with example data (demo mode, a peer, shifts, counts,
feedback, one line closed today, letters on two lines, a group session, a practice code),
serves it with daphne on a free port, and drives Debian's Chromium through Playwright. The
widget's states (line picker, closed line, letter, queue, feedback) are shot after a few clicks
on the asker's page. The tests never write these files. Look at the PNGs after a change.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "demo passphrase 2026"

# The widget on the asker's page, opened and clicked through: (Playwright page method, args).
OPEN = [("click", ".va-launcher")]
QUEUE = OPEN + [
    ("click", ".va-line-open >> nth=0"),
    ("click", "#va-accept"),
    ("click", ".va-start button[type=submit]"),
    ("wait_for_selector", ".va-end"),
]
CLOSED = OPEN + [("click", ".va-line-closed >> nth=0")]
LETTER = CLOSED + [("click", ".va-letters .va-primary"), ("fill", "#va-letter", "Hei, ...")]

# (name, who is logged in, path[, steps]). Paths with {line} / {helper} / {booking} are filled
# in; the steps run before the shot.
PAGES = [
    ("asker-page", None, "/"),
    ("widget-picker", None, "/", OPEN + [("wait_for_selector", ".va-line")]),
    ("widget-closed", None, "/", CLOSED),
    ("widget-letter", None, "/", LETTER),
    ("widget-queued", None, "/", QUEUE),
    ("widget-feedback", None, "/", QUEUE + [("click", ".va-end"), ("click", ".va-feedback")]),
    ("group", None, "/group/unichat/"),
    ("feedback", None, "/feedback/vakivalta/"),
    ("letters-write", None, "/letters/vakivalta/"),
    ("letters-read", None, "/letters/read/"),
    ("practice", "helper", "/practice/harjoitus/?code=demo"),
    ("console-letters", "helper", "/console/letters/"),
    ("login", None, "/accounts/login/"),
    ("console", "helper", "/console/"),
    ("calendar", "helper", "/console/calendar/"),
    ("admin-index", "coordinator", "/admin/"),
    ("admin-lines", "coordinator", "/admin/chats/serviceline/"),
    ("admin-line", "coordinator", "/admin/chats/serviceline/{line}/change/"),
    ("admin-helpers", "coordinator", "/admin/chats/helperprofile/"),
    ("admin-helper", "coordinator", "/admin/chats/helperprofile/{helper}/change/"),
    ("admin-prepared-texts", "coordinator", "/admin/chats/preparedtext/"),
    ("admin-groups", "coordinator", "/admin/chats/groupsession/"),
    ("admin-group-add", "coordinator", "/admin/chats/groupsession/add/"),
    ("admin-live", "coordinator", "/admin/chats/liveboard/"),
    ("admin-shifts", "coordinator", "/admin/scheduling/shiftbooking/"),
    ("admin-shift", "coordinator", "/admin/scheduling/shiftbooking/{booking}/change/"),
    ("admin-rota", "coordinator", "/admin/scheduling/shiftbooking/rota/"),
    ("admin-commitment", "coordinator", "/admin/scheduling/shiftbooking/commitment/"),
    ("admin-hours-exceptions", "coordinator", "/admin/scheduling/hoursexception/"),
    ("admin-slots", "coordinator", "/admin/scheduling/shiftslot/"),
    ("admin-export", "coordinator", "/admin/stats/statisticsexport/"),
    ("admin-charts", "coordinator", "/admin/stats/statisticschart/"),
    ("admin-daily-counts", "coordinator", "/admin/stats/dailycount/"),
    ("admin-feedback", "coordinator", "/admin/feedback/feedback/"),
]


def seed() -> dict:
    """Example data in the current database; returns the accounts and the ids the pages need."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from chats.accounts import create_helper
    from chats.models import GroupSession, ServiceLine
    from feedback.models import Feedback
    from letters.models import LetterSettings
    from scheduling.models import HoursException, ShiftBooking, ShiftSlot
    from stats.models import DailyCount
    from verkkoapu import demo

    accounts = demo.turn_on()
    today = timezone.localdate()
    User = get_user_model()
    for name in (accounts.helper, accounts.coordinator):
        user = User.objects.get(username=name)
        user.set_password(PASSWORD)
        user.save()
    line = ServiceLine.objects.get(slug="vakivalta")
    closed = ServiceLine.objects.get(slug="ero")  # closed today: a later exception wins
    HoursException.objects.create(line=closed, first_day=today, last_day=today, closed=True)
    for letters in (line, closed):
        LetterSettings.objects.update_or_create(line=letters, defaults={"offers_letters": True})
    ServiceLine.objects.filter(slug="harjoitus").update(active=True, practice_code="demo")
    group = ServiceLine.objects.get(slug="unichat")
    GroupSession.objects.create(
        line=group,
        title="Illan unipiiri",
        starts_at=timezone.now() + timedelta(hours=2),
        ends_at=timezone.now() + timedelta(hours=3),
    )
    helper = User.objects.get(username=accounts.helper).helper
    helper.lines.add(*ServiceLine.objects.filter(slug="harjoitus"))
    peer = create_helper("demo-vertainen", PASSWORD, "peer", "Vertais-Veera", [line.slug])
    if not ShiftSlot.objects.filter(line=line, active=True).exists():  # a flushed test database
        for starts in (12, 14, 16):
            ShiftSlot.objects.create(line=line, starts=clock(starts), ends=clock(starts + 2))
    slots = list(ShiftSlot.objects.filter(line=line, active=True).order_by("starts"))
    booking = None
    for offset in range(0, 21):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5 or not slots:
            continue
        slot = slots[offset % len(slots)]
        booking = ShiftBooking.objects.create(slot=slot, day=day, helper=peer)
        if offset % 3:
            ShiftBooking.objects.create(slot=slot, day=day, helper=helper)
    month = today.replace(day=1)
    for n, (metric, key, count) in enumerate(
        [("chats_started", "", 23), ("chats_answered", "", 19), ("queue_abandoned", "", 4)]
    ):
        DailyCount.objects.create(
            line=line, day=today - timedelta(days=n + 1), metric=metric, key=key, count=count
        )
    Feedback.objects.create(
        line=line, month=month, rating=4, got_help="yes", would_use_again="yes", text="Kiitos."
    )
    return {"line": line.pk, "helper": helper.pk, "booking": booking.pk if booking else 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, proc, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("daphne stopped before it served")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("daphne did not start")


def log_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    page.close()


def shoot(base: str, ids: dict, only: str, full: bool, locale: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from verkkoapu import demo

    users = {"helper": demo.HELPER, "coordinator": demo.COORDINATOR}
    made = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for size, viewport in SIZES.items():
            contexts = {}
            for name, who, path, *steps in PAGES:
                if only and only not in name:
                    continue
                if who not in contexts:
                    contexts[who] = browser.new_context(locale=locale, viewport=viewport)
                    if who:
                        log_in(contexts[who], base, users[who])
                page = contexts[who].new_page()
                page.goto(base + path.format(**ids))
                page.wait_for_load_state("load")
                for method, *args in steps[0] if steps else ():
                    getattr(page, method)(*args)
                target = out / f"{name}-{size}.png"
                page.screenshot(path=str(target), full_page=full)
                made.append(target)
                page.close()
            for context in contexts.values():
                context.close()
        browser.close()
    return made


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="pages whose name contains this")
    parser.add_argument("--full", action="store_true", help="whole pages, not the first screen")
    parser.add_argument("--locale", default="fi-FI", help="the browser's language (fi-FI)")
    parser.add_argument("--out", default=str(OUT), help="folder (docs/screenshots)")
    parser.add_argument("--keep", default="", help="a folder to keep the example database in")
    return parser.parse_args(argv)


def _example_database(folder: Path) -> tuple[dict, dict]:
    """Django set up on the folder's SQLite database (made and seeded once): its environment
    and the example objects' ids."""
    folder.mkdir(parents=True, exist_ok=True)
    fresh = not (folder / "ids.json").exists()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "false",
        "PRODUCTION": "false",
        "OTP_REQUIRED": "false",
        "CHAT_MAX_OPEN_PER_ADDRESS": "10",  # the widget's queued shots, all from 127.0.0.1
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verkkoapu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if fresh:
        call_command("migrate", verbosity=0)
        ids = seed()
        (folder / "ids.json").write_text(json.dumps(ids))
    return env, json.loads((folder / "ids.json").read_text())


def main(argv=None):
    args = _arguments(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="verkkoapu-screenshots-"))
    env, ids = _example_database(folder)
    port = free_port()
    log = open(folder / "daphne.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "--access-log", "/dev/null", "-p", str(port)]
        + ["verkkoapu.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(port, proc)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        made = shoot(f"http://127.0.0.1:{port}", ids, args.only, args.full, args.locale, out)
    finally:
        proc.terminate()
        proc.wait(10)
    for path in made:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    print(f"{len(made)} screenshots.")


if __name__ == "__main__":
    main()
