"""The group chat page: `/group/<slug>/`. Like the asker's page it sets no cookie."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import protocol
from .models import GroupSession, ServiceLine


@require_GET
def group_page(request, slug):
    line = ServiceLine.objects.filter(slug=slug, active=True, kind=ServiceLine.Kind.GROUP).first()
    if line is None:
        raise Http404("No such group chat.")
    now = timezone.now()
    # Only sessions open to anyone are announced: a closed group's title stays with its members.
    public = GroupSession.objects.filter(line=line, invite="")
    session = public.running(now).first() or public.upcoming(now).first()
    # An English session's page is English throughout (issue 21): its words, the line's name and
    # description. `?language=` (a closed group's invitation link) names the language; else a
    # session in another language than the service's own; else the browser's, as before.
    language = request.GET.get("language")
    if language not in protocol.LANGUAGES:
        foreign = session is not None and session.language != settings.LANGUAGE_CODE
        language = session.language if foreign else translation.get_language()
    with translation.override(language):
        return render(
            request,
            "chats/group.html",
            {
                "line": line,
                "name": line.localized_name(language),
                "description": line.localized_description(language),
                "session": session,
                "running": bool(session and session.starts_at <= now),
                "group_data": {"slug": line.slug, "strings": _strings()},
            },
        )


def _strings() -> dict:
    """The group page script's words, in the page's language."""
    return {
        "connecting": _("Connecting…"),
        "reconnecting": _("The connection was lost. Reconnecting…"),
        "joined": _("You are in the group as %(nickname)s."),
        "participants": _("In the group now: %(count)s"),
        "closed": _("The group chat is closed. The next session starts %(when)s."),
        "closed_unknown": _("The group chat is closed. The next session is not scheduled yet."),
        "moderator": _("moderator"),
        "removed": _("A moderator removed this message."),
        "kicked": _("A moderator removed you from this session."),
        "nickname_taken": _("Someone in the group already has that nickname. Choose another."),
        "full": _("The group is full right now. Try again in a while."),
        "not_found": _("This group is for invited members: check the invitation code."),
        "rate_limited": _("Too many messages at once. Wait a moment and send again."),
        "blocked": _("Chats from this connection are paused for a while."),
        "invalid": _("Check the nickname: 1–32 visible characters."),
        "too_long": _("The message is too long."),
        "error": _("Something went wrong. Try again."),
        "meeting": _("meeting %(number)s of %(total)s"),
    }
