"""Issue 21's data: line settings that replace code, and what the five brochures describe.

1. The youth line's age question and its adult line become settings of the line (before: code in
   chats/youth.py and scheduling/signals.py): ranges under 13 / 13–15 / 16–17 / 18 or over
   (the last outside the line, pointed to `vakivalta`), and its slots 15-16,16-18 for a new line.
2. The referral directory, with only what the brochures (and the project's prepared referral
   texts of 0004) say: names, descriptions and the web addresses and numbers they give.
3. The lines of services the brochures describe that Verkkoapu can run, besides the contract's
   six: switched off (`active` False) until a coordinator sets their hours, which the brochures
   do not give, and switches them on; a practice line for training (002, 003, 001).
4. Example group series of the Red Cross (003), not in use: a coordinator copies them.
"""

from datetime import date, time

from django.db import migrations

YOUTH_RANGES = [
    ("under_13", "alle 13", "under 13", "under 13", False),
    ("13_15", "13–15", "13–15", "13–15", False),
    ("16_17", "16–17", "16–17", "16–17", False),
    ("18_plus", "18 tai yli", "18 eller äldre", "18 or over", True),
]
YOUNG_ADULT_RANGES = [  # 003: Nettiturvis and Sekasin-chat are for 12–29-year-olds
    ("12_17", "12–17", "12–17", "12–17", False),
    ("18_29", "18–29", "18–29", "18–29", False),
]

# (slug, name fi, name sv, name en, kind, description, extra settings, age ranges)
LINES = [
    (
        "vanhemmuus",
        "Vanhemmuuden verkkotuki",
        "",
        "",
        "one_to_one",
        "Anonyymi ja luotettava vanhemmuuden verkkotuki kuormittuneissa ja vaikeissa "
        "tilanteissa eläville vanhemmille ennen kuin ongelmat kriisiytyvät. Chatista myös "
        "ohjataan oman paikkakunnan palvelujen ja vertaistuen piiriin.",
        {},
        [],
    ),
    (
        "nettiturvis",
        "Nettiturvis",
        "",
        "",
        "one_to_one",
        "Ilmaista keskusteluapua koulutetun ammattilaisen kanssa 12–29-vuotiaille nuorille, "
        "vanhemmille ja heidän läheisilleen, kertaluontoisesti tai säännöllisesti n. 1–10 "
        "kertaa.",
        {},
        YOUNG_ADULT_RANGES,
    ),
    (
        "sekasin",
        "Sekasin-chat",
        "",
        "",
        "one_to_one",
        "Valtakunnallinen keskustelualusta 12–29-vuotiaille: voit keskustella mieltäsi "
        "askarruttavista kysymyksistä tai aiheista nimettömänä ja luottamuksellisesti. "
        "Päivystäjinä toimii sekä vapaaehtoisia että ammattilaisia.",
        {"volunteers_need_professional": False},
        YOUNG_ADULT_RANGES,
    ),
    (
        "paperittomat",
        "Paperittomien chat-neuvonta",
        "",
        "",
        "one_to_one",
        "Punaisen Ristin neuvontaa haastavissa tilanteissa oleville, kuten ilman oleskelulupaa "
        "maassa oleskeleville. Avoinna kahtena päivänä viikossa.",
        {},
        [],
    ),
    (
        "verkkokohtaamispaikka",
        "Verkkokohtaamispaikka",
        "",
        "Online meeting place",
        "group",
        "Matalan kynnyksen ryhmächat, jossa viikoittain keskusteluja suomen ja englannin "
        "kielellä. Voit liittyä anonyymisti ilman rekisteröitymistä. Keskustelussa mukana "
        "ystävävapaaehtoisia.",
        {},
        [],
    ),
    (
        "yksinaisyys-puheeksi",
        "Yksinäisyys puheeksi",
        "",
        "",
        "group",
        "Suljettu vertaisryhmä yksinäisyyttä kokeville verkossa. Ryhmä kokoontuu 5–8 kertaa "
        "vapaaehtoisten johdolla.",
        {},
        [],
    ),
    (
        "harjoitus",
        "Harjoituschat",
        "Övningschatt",
        "Practice chat",
        "one_to_one",
        "Koulutuksessa harjoitellaan chatkeskusteluja ja chatalustan käyttöä. Ei julkisessa "
        "listassa eikä tilastoissa.",
        {"practice": True},
        [],
    ),
]
LINE_DESCRIPTIONS_EN = {
    "verkkokohtaamispaikka": (
        "A low-threshold group chat with weekly conversations in Finnish and English. Join "
        "anonymously, with no registration. Volunteer friends take part in the conversation."
    ),
}

RC = "https://www.punainenristi.fi"
# (name, description, phone, url, always open, languages, line slugs (empty: every line))
REFERRALS = [
    ("Hätänumero 112", "Hätätilanteessa soita 112.", "112", "https://112.fi", True, "", []),
    (
        "Nollalinja",
        "Nollalinja auttaa lähisuhdeväkivaltaa kokeneita ympäri vuorokauden, maksutta ja "
        "nimettömästi.",
        "080 005 005",
        "https://www.nollalinja.fi",
        True,
        "",
        ["vakivalta", "lapset-nuoret"],
    ),
    (
        "Nettiturvakoti",
        "Ensi- ja turvakotien liiton verkkopalvelu: tietoa ja chatit perhe- ja "
        "lähisuhdeväkivallasta.",
        "",
        "",
        False,
        "",
        ["vakivalta", "lapset-nuoret"],
    ),
    (
        "Turvakodit",
        "Turvakotiin voi hakeutua, kun on kokenut väkivaltaa tai sen uhkaa.",
        "",
        "",
        False,
        "",
        ["vakivalta", "lapset-nuoret"],
    ),
    (
        "Ensi- ja turvakotien liiton väkivaltatyön avopalvelut",
        "Maksuttomia palveluja väkivallan kaikille osapuolille: puhelinneuvontaa, "
        "keskusteluapua, vertaisryhmiä, tuettua asumista ja anonyymi keskustelu chatissa. "
        "Niihin voi hakeutua omatoimisesti.",
        "",
        "",
        False,
        "",
        ["vakivalta"],
    ),
    (
        "Sekasin-chat",
        "Sekasin-chat on 12–29-vuotiaiden valtakunnallinen chat.",
        "",
        "https://sekasin247.fi",
        False,
        "",
        [],
    ),
    (
        "Lasten ja nuorten puhelin",
        "MLL:n Lasten ja nuorten puhelin ja chat alle 21-vuotiaille.",
        "116 111",
        "https://www.mll.fi",
        False,
        "",
        [],
    ),
    (
        "Nettiturvis",
        "Punaisen Ristin ilmaista keskusteluapua koulutetun ammattilaisen kanssa "
        "12–29-vuotiaille nuorille, vanhemmille ja heidän läheisilleen.",
        "",
        f"{RC}/nettiturvis/",
        False,
        "",
        [],
    ),
    (
        "Verkkoystävätoiminta",
        "Vapaaehtoisen verkkoystävän kanssa käydään keskusteluja 1–2 viikon välein "
        "sähköpostin tai anonyymin pikaviestipalvelun välityksellä.",
        "",
        f"{RC}/hae-apua-ja-tukea/tukea-ja-toimintaa-verkossa/ystava-verkossa/",
        False,
        "",
        [],
    ),
    (
        "Verkkokohtaamispaikka",
        "Matalan kynnyksen ryhmächat, jossa viikoittain keskusteluja suomen ja englannin "
        "kielellä, anonyymisti ilman rekisteröitymistä.",
        "",
        "http://www.punainenristi.fi/verkkokohtaamispaikka",
        False,
        "fi,en",
        [],
    ),
    (
        "Yksinäisyys puheeksi -ryhmät",
        "Suljettu vertaisryhmä yksinäisyyttä kokeville verkossa; kokoontuu 5–8 kertaa.",
        "",
        f"{RC}/hae-apua-ja-tukea/tukea-ja-toimintaa-verkossa/vertaisryhmat/",
        False,
        "",
        [],
    ),
    (
        "Digiraati",
        "Kanava, jossa nuoret pääsevät osallistumaan ja vaikuttamaan turvallisissa ja "
        "ohjatuissa verkkokeskusteluissa.",
        "",
        f"{RC}/tyomme/nuortenturvatalot/digiraati/",
        False,
        "",
        [],
    ),
    (
        "Maahanmuuttajien verkkoneuvonta",
        "Punainen Risti tarjoaa maahan muuttaneille neuvontaa ja tukea verkossa, esimerkiksi "
        "perheenyhdistämiseen, kadonneen omaisen etsimiseen tai sosiaalipalveluihin.",
        "",
        "https://flaprecase-contactform-fin.powerappsportals.com/fi-FI/",
        False,
        "",
        [],
    ),
    (
        "Paperittomien chat-neuvonta",
        "Neuvontaa ilman oleskelulupaa maassa oleskeleville; chat kahtena päivänä viikossa, "
        "lisäksi puhelimitse tai Whatsappin välityksellä.",
        "",
        f"{RC}/hae-apua-ja-tukea/apua-paperittomille/",
        False,
        "",
        [],
    ),
    (
        "Punaisen Ristin verkkoapu",
        "Kaikki Punaisen Ristin verkkoavun palvelut yhdellä sivulla.",
        "",
        "http://www.punainenristi.fi/verkkoapu",
        False,
        "",
        [],
    ),
]

# Examples of the Red Cross formats (003), not in use: the brochure gives no day or time, so a
# coordinator copies one, sets them and switches it on.
SERIES = [
    ("verkkokohtaamispaikka", "Verkkokohtaamispaikka", "weekly", "fi", 1, None),
    ("verkkokohtaamispaikka", "Online meeting place", "weekly", "en", 3, None),
    ("yksinaisyys-puheeksi", "Yksinäisyys puheeksi", "closed", "fi", 2, 8),
]


def seed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    AgeRange = apps.get_model("chats", "AgeRange")
    Referral = apps.get_model("chats", "Referral")
    GroupSeries = apps.get_model("chats", "GroupSeries")

    def ranges(line, rows):
        for order, (key, fi, sv, en, outside) in enumerate(rows):
            AgeRange.objects.get_or_create(
                line=line,
                key=key,
                defaults={
                    "label": fi,
                    "label_sv": sv,
                    "label_en": en,
                    "outside": outside,
                    "order": order,
                },
            )

    youth = ServiceLine.objects.filter(slug="lapset-nuoret").first()
    if youth is not None:
        youth.outside_age_line = ServiceLine.objects.filter(slug="vakivalta").first()
        youth.default_slots = "15-16,16-18"
        youth.save(update_fields=["outside_age_line", "default_slots"])
        ranges(youth, YOUTH_RANGES)

    last = ServiceLine.objects.order_by("-order").values_list("order", flat=True).first() or 0
    for n, (slug, name, name_sv, name_en, kind, text, extra, rows) in enumerate(LINES, 1):
        line, created = ServiceLine.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "name_sv": name_sv,
                "name_en": name_en,
                "kind": kind,
                "description": text,
                "description_en": LINE_DESCRIPTIONS_EN.get(slug, ""),
                "active": False,
                "order": last + n,
                **extra,
            },
        )
        if created:
            ranges(line, rows)

    lines = {line.slug: line for line in ServiceLine.objects.all()}
    for order, (name, text, phone, url, always, languages, slugs) in enumerate(REFERRALS):
        entry, created = Referral.objects.get_or_create(
            name=name,
            defaults={
                "description": text,
                "phone": phone,
                "url": url,
                "always_open": always,
                "languages": languages,
                "order": order,
            },
        )
        if created:
            entry.lines.set([lines[slug] for slug in slugs if slug in lines])

    for slug, title, kind, language, weekday, meetings in SERIES:
        if slug in lines and not GroupSeries.objects.filter(title=title).exists():
            GroupSeries.objects.create(
                line=lines[slug],
                title=title,
                kind=kind,
                language=language,
                weekday=weekday,
                starts=time(18),
                ends=time(19, 30),
                first_day=date(2027, 1, 4),
                until=date(2027, 6, 30) if kind == "weekly" else None,
                meetings=meetings,
                active=False,
            )


def unseed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    apps.get_model("chats", "GroupSeries").objects.filter(
        title__in=[row[1] for row in SERIES]
    ).delete()
    apps.get_model("chats", "Referral").objects.filter(
        name__in=[row[0] for row in REFERRALS]
    ).delete()
    ServiceLine.objects.filter(slug__in=[row[0] for row in LINES]).delete()
    apps.get_model("chats", "AgeRange").objects.filter(line__slug="lapset-nuoret").delete()


class Migration(migrations.Migration):
    dependencies = [("chats", "0012_issue21_roles_lines_referrals_series")]

    operations = [migrations.RunPython(seed, unseed)]
