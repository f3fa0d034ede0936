import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from scheduling import rota
from scheduling.services import timetable

from . import asking, peer_support, protocol, referrals, youth
from .models import PreparedText, ServiceLine

MAX_WIDGET_LINES = 10


@require_safe
def demo_page(request):
    """A neutral page embedding the widget; it touches no session, so it sets no cookie."""
    language = get_language() or "fi"
    public = ServiceLine.objects.filter(active=True, practice=False)
    lines = public.filter(kind=ServiceLine.Kind.ONE_TO_ONE)
    return render(
        request,
        "chats/demo.html",
        {
            "lines": [_line_texts(line, language) for line in lines],
            "groups": [
                _line_texts(line, language) for line in public.filter(kind=ServiceLine.Kind.GROUP)
            ],
        },
    )


def _line_texts(line: ServiceLine, language: str) -> dict:
    """A line's name and who it is for, in the page's language (no Finnish in another)."""
    return {
        "slug": line.slug,
        "name": line.localized_name(language),
        "description": line.localized_description(language),
    }


@login_required
@require_safe
def practice_page(request, slug):
    """A practice line's page (issue 21): a trainee plays the asker here, through the widget.
    Only with the line's code, and only for the line's own helpers (its trainees)."""
    line = ServiceLine.objects.filter(slug=slug, active=True, practice=True).first()
    code = request.GET.get("code", "")
    helper = getattr(request.user, "helper", None)
    if (
        line is None
        or not line.practice_code
        or not hmac.compare_digest(code.encode(), line.practice_code.encode())
        or helper is None
        or not helper.lines.filter(pk=line.pk).exists()
    ):
        raise Http404("No such practice line.")
    return render(request, "chats/practice.html", {"line": line})


@require_GET
def service_list(request):
    # Practice lines (for training) are never in the public list; their own address answers.
    lines = ServiceLine.objects.filter(active=True, practice=False)
    return JsonResponse([asking.service_object(line) for line in lines], safe=False)


@require_GET
def service_detail(request, slug):
    try:
        line = ServiceLine.objects.get(slug=slug, active=True)
    except ServiceLine.DoesNotExist:
        return JsonResponse(
            {"error": "not_found", "message": f"No service line {slug!r}."}, status=404
        )
    return JsonResponse(asking.service_object(line))


@require_GET
def widget_lines(request):
    """What the widget shows before a chat: `?services=a,b&language=sv`.

    The service objects of the named one-to-one lines plus the texts in the asker's language
    (name, who the line is for, the rules to accept). Sites of EMBEDDING_ORIGINS may read it.
    """
    language = request.GET.get("language", "fi")
    if language not in protocol.LANGUAGES:
        language = "fi"
    slugs = [slug for slug in request.GET.get("services", "").split(",") if slug][:MAX_WIDGET_LINES]
    found = {
        line.slug: line
        for line in ServiceLine.objects.filter(
            slug__in=slugs, active=True, kind=ServiceLine.Kind.ONE_TO_ONE
        ).select_related("group_line")
    }
    answer = []
    for slug in slugs:
        if line := found.get(slug):
            answer.append(
                {
                    **asking.service_object(line),
                    "name": line.localized_name(language),
                    "description": line.localized_description(language),
                    "rules": line.localized_rules(language),
                    # Additions (issue 21): the line's age ranges, the line for those outside
                    # them, and the referral directory's entries for the line.
                    "age_ranges": youth.age_question(line, language),
                    "outside_age_line": _line_ref(youth.adult_line(line), language),
                    "referrals": [
                        referrals.as_json(entry, language)
                        for entry in referrals.referrals_for(line)
                    ],
                    # Additions (issue 20): the weekly hours and coming exceptions for a closed
                    # line's asker, and the line's group chat if it has one.
                    **timetable(line),
                    "group": _group_ref(line.group_line, language),
                }
            )
    response = JsonResponse({"lines": answer})
    origin = request.headers.get("Origin")
    if origin and origin in settings.EMBEDDING_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _group_ref(line: ServiceLine | None, language: str) -> dict | None:
    if line is None or not line.active or line.kind != ServiceLine.Kind.GROUP:
        return None
    return {**_line_ref(line, language), "url": reverse("group", args=[line.slug])}


def _line_ref(line: ServiceLine | None, language: str) -> dict | None:
    return {"slug": line.slug, "name": line.localized_name(language)} if line else None


@login_required
def console(request):
    if not hasattr(request.user, "helper"):
        raise Http404("Only helpers have a console.")
    helper = request.user.helper
    current_shift, next_shift = rota.current_and_next_shift(helper)
    data = console_data(helper, get_language() or "fi")
    # The peer-support state (issue 21), as the socket's first `support` frame will be.
    data["support"] = peer_support.support_frame(helper)
    return render(
        request,
        "chats/console.html",
        {
            "helper": helper,
            "console_data": data,
            "support": data["support"],
            "moderation_data": moderation_strings(),
            "current_shift": current_shift,
            "next_shift": next_shift,
            # A peer works with a professional of the line on duty; warn when there is none.
            "lines_without_professional": rota.lines_lacking_professional(helper),
        },
    )


def console_data(helper, language: str) -> dict:
    """Everything the console script needs besides the socket: lines, topics, prepared texts."""
    lines = list(
        helper.lines.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE).prefetch_related(
            "topics"
        )
    )
    prepared = PreparedText.objects.filter(active=True).filter(
        Q(line__isnull=True) | Q(line__in=lines)
    )
    follow_up_times = rota.follow_up_times(helper)
    return {
        "helper": {"name": helper.display_name, "role": helper.role},
        "lines": [
            {
                "slug": line.slug,
                "name": line.localized_name(language),
                "topics": [
                    {"slug": topic.slug, "name": _localized_topic(topic, language)}
                    for topic in line.topics.all()
                    if topic.active
                ],
                # The times `end` may offer a follow-up at (docs/follow-ups.md); empty without
                # a booked shift of the line, and the console then says to book one.
                "follow_up_times": [protocol.iso(at) for at in follow_up_times.get(line.pk, [])],
            }
            for line in lines
        ],
        "prepared": [
            {
                "id": text.pk,
                "line": text.line.slug if text.line_id else None,
                "kind": text.kind,
                "title": text.title,
                "text": text.as_sent(),
                "url": text.url,
            }
            for text in prepared.select_related("line")
        ],
        "bar_hours": sorted({1, settings.CHAT_DEFAULT_BAR_HOURS, 24 * 7, 24 * 30}),
        "strings": console_strings() | workflow_strings(),
        # The helper's workflow (docs/workflow.md): the choices of a length limit and of
        # "come back later".
        "limit_minutes": [10, 15, 20, 30, 45, 60],
        "come_back_days": [1, 2, 3, 7, 14, 30],
    }


def _localized_topic(topic, language: str) -> str:
    return {"sv": topic.name_sv, "en": topic.name_en}.get(language) or topic.name


def console_strings() -> dict:
    """The console script's words that change with state; the rest are in the template."""
    return {
        "on_duty": _("On duty"),
        "paused": _("On a break"),
        "offline": _("Connection lost, reconnecting…"),
        "pause": _("Take a break"),
        "resume": _("Back on duty"),
        "queue": _("In the queue: %(n)s"),
        "empty": _("Nobody is waiting on %(line)s."),
        "chat_title": _("Chat %(n)s – %(line)s"),
        "ip": _("Asker's IP address: %(ip)s"),
        "asker": _("Asker"),
        "you": _("You"),
        "system": _("Notice"),
        "typing": _("The asker is typing…"),
        "ended_asker": _("The asker ended the chat."),
        "ended_helper": _("The chat has ended."),
        "ended_system": _("The chat ended: the asker's connection was lost."),
        "bar_confirm": _("Bar this asker for %(hours)s h and end the chat?"),
        "hours": _("%(n)s h"),
        "days": plural_forms(lambda n: ngettext("%(n)s day", "%(n)s days", n)),
        "new_asker": _("New asker in the queue"),
        "error": _("Error: %(message)s"),
        "peer": _("peer helper"),
        "consult_sent": _("Sent to the helpers on duty for %(line)s."),
        **support_strings(),
        "follow_up_offered": _("Follow-up offered for %(when)s; the asker got a code for it."),
        "follow_up_refused": _(
            "The follow-up could not be offered, so the chat is still open. Choose a later time in "
            "one of your booked shifts of this line."
        ),
    }


def support_strings() -> dict:
    """The console's words for peer support: the support person, advice, the debrief."""
    return {
        "support_on": _("Your support person: %(name)s (on duty now)"),
        "support_off": _("Your support person: %(name)s (not on duty now)"),
        "advice_private": _("private"),
        "advice_reply": _("Answer privately"),
        "advice_to": _("Answer to %(name)s:"),
        "debrief_peer": _(
            "Your shift on %(line)s has ended: hold the closing debrief with %(with)s."
        ),
        "debrief_peer_alone": _(
            "Your shift on %(line)s has ended: hold the closing debrief with your support person."
        ),
        "debrief_pro": _("%(peer)s's shift on %(line)s has ended: hold the closing debrief."),
        "debrief_record": _("Debrief held"),
    }


def workflow_strings() -> dict:
    """The console's words for transfers, capacity, limits and "come back later"."""
    return {
        "capacity": _("Your chats: %(n)s of %(max)s"),
        "capacity_full": _("Your chats: %(n)s of %(max)s – full"),
        "transfer": _("Hand over to a colleague"),
        "transfer_to": _("Colleague on duty"),
        "transfer_note": _("Handover note (only the colleague sees it)"),
        "transfer_send": _("Offer the chat"),
        "transfer_cancel": _("Withdraw the offer"),
        "transfer_none": _("No colleague of this line is on duty."),
        "transfer_pending": _("Offered to %(name)s; waiting for the answer…"),
        "transfer_declined": _("%(name)s did not take the chat (%(reason)s); it stays with you."),
        "reason_declined": _("declined"),
        "reason_expired": _("no answer in time"),
        "reason_cancelled": _("withdrawn"),
        "transfer_offer": _("%(name)s offers you a chat on %(line)s."),
        "transfer_offer_note": _("Handover note: %(note)s"),
        "transfer_accept": _("Take the chat"),
        "transfer_decline": _("Decline"),
        "transferred": _("The chat went to %(name)s."),
        "handover": _("Handed over by %(name)s. Note: %(note)s"),
        "colleague": _("%(name)s (%(role)s) – chats %(chats)s/%(max)s"),
        "colleague_paused": _("%(name)s (%(role)s) – on a break"),
        "professional": _("professional"),
        "limit": _("Limit the length"),
        "limit_minutes": _("The chat ends in"),
        "limit_set": _("Set the limit"),
        "minutes": _("%(n)s min"),
        "time_left": _("Time left: about %(n)s min"),
        "come_back": _("Come back later"),
        "come_back_days": _("Welcome back after"),
        "come_back_send": _("Thank and end the chat"),
        "come_back_confirm": plural_forms(
            lambda n: ngettext(
                "End the chat kindly and pause chats from this connection for %(n)s day?",
                "End the chat kindly and pause chats from this connection for %(n)s days?",
                n,
            )
        ),
        "ended_time_limit": _("The chat ended at its time limit."),
        "ended_come_back_later": _("The chat ended; the asker was asked to come back later."),
    }


def plural_forms(forms) -> dict:
    """A word that depends on a number, for common.js: its form for each plural category of
    the language (`Intl.PluralRules` in the browser). Finnish, Swedish and English have two:
    "one" (1) and "other"; `forms(n)` is an `ngettext` call, so makemessages finds its msgids."""
    return {"one": forms(1), "other": forms(2)}


def moderation_strings() -> dict:
    """The words of the console's group moderation and follow-up panels (moderate.js)."""
    return {
        "moderator": _("moderator"),
        "waiting": _("waiting now"),
        "follow_up": _("%(when)s (%(line)s, until %(until)s)"),
        "remove": _("Remove message"),
        "kick": _("Remove participant"),
        "removed": _("Removed by a moderator."),
        "participants": _("In the group now: %(count)s"),
        "closed": _("The session has closed; its messages were erased."),
        "confirm_close": _("Close the session for everyone now?"),
        "confirm_kick": _("Remove this participant for the rest of the session?"),
        "none": _("No session of this line that you moderate is running now."),
    }
