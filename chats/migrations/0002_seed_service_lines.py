"""The service lines of the contract, their opening hours and first statistics topics.

Hours (Helsinki time, weekdays = Mon–Fri except Finnish public holidays):
- vakivalta 12–18 and lapset-nuoret 15–18, as the services publish them;
- ero, vauvan-uni and paihteet: weekdays 12–18 by default, the same three shifts (12–14,
  14–16, 16–18) so one rota covers every line; coordinators change them in admin.
- unichat is a group line: it opens only for scheduled group sessions.
Topics are documented in docs/topics.md.
"""

from datetime import time

from django.db import migrations

WEEKDAYS = range(5)

COMMON_RULES = (
    "Keskustelu on nimetöntä ja luottamuksellista. Älä kerro nimeäsi, osoitettasi tai muita "
    "tunnistetietoja. Chatauttajia sitoo vaitiolovelvollisuus. IP-osoitteesi näkyy "
    "keskustelun ajan sinua auttavalle chatauttajalle, mutta hän ei näe sen perusteella "
    "olinpaikkaasi tai yhteystietojasi; osoite poistetaan keskustelun päätyttyä ja viimeistään "
    "kuukausittain. Viestit poistetaan, kun keskustelu päättyy. Jos keskustelussa tulee ilmi "
    "asioita, joista laki velvoittaa ilmoittamaan viranomaisille (esimerkiksi lapsen "
    "turvallisuutta vakavasti uhkaava tilanne), chatauttaja kertoo sen sinulle. Chatauttaja "
    "voi lopettaa epäasiallisen keskustelun ja rajata keskustelun kestoa. Hätätilanteessa soita "
    "112."
)

LINES = [
    {
        "slug": "vakivalta",
        "name": "Apua väkivaltaan",
        "name_sv": "Hjälp vid våld",
        "name_en": "Help with violence",
        "kind": "one_to_one",
        "order": 1,
        "hours": (time(12), time(18)),
        "description": (
            "Perhe- ja lähisuhdeväkivallan kaikille osapuolille: väkivaltaa kokeneille, "
            "väkivaltaa käyttäneille, väkivallalle altistuneille ja huolestuneille läheisille."
        ),
        "topics": [
            ("fyysinen", "Fyysinen väkivalta", "Fysiskt våld", "Physical violence"),
            ("henkinen", "Henkinen väkivalta", "Psykiskt våld", "Psychological violence"),
            ("seksuaalinen", "Seksuaalinen väkivalta", "Sexuellt våld", "Sexual violence"),
            ("taloudellinen", "Taloudellinen väkivalta", "Ekonomiskt våld", "Economic violence"),
            ("digitaalinen", "Digitaalinen väkivalta", "Digitalt våld", "Digital violence"),
            ("vaino", "Vaino", "Förföljelse", "Stalking"),
            (
                "lapset-altistuneet",
                "Lapset altistuneet väkivallalle",
                "Barn som exponerats",
                "Children exposed to violence",
            ),
            (
                "oma-vakivalta",
                "Oma väkivaltainen käytös",
                "Eget våldsamt beteende",
                "Own violent behaviour",
            ),
            (
                "lahisen-huoli",
                "Huoli läheisestä",
                "Oro för en närstående",
                "Worry about someone close",
            ),
            ("avun-saaminen", "Avun saaminen ja palvelut", "Att få hjälp", "How to get help"),
            ("turvasuunnitelma", "Turvallisuussuunnitelma", "Säkerhetsplan", "Safety planning"),
            (
                "ero-ja-vakivalta",
                "Ero ja väkivalta",
                "Skilsmässa och våld",
                "Separation and violence",
            ),
        ],
    },
    {
        "slug": "lapset-nuoret",
        "name": "Lasten ja nuorten chat",
        "name_sv": "Chatt för barn och unga",
        "name_en": "Chat for children and young people",
        "kind": "one_to_one",
        "order": 2,
        "hours": (time(15), time(18)),
        "description": (
            "Alle 18-vuotiaille, kun kotona tai läheisissä suhteissa on turvattomuutta tai "
            "väkivaltaa."
        ),
        "topics": [
            (
                "riidat-kotona",
                "Riidat ja huuto kotona",
                "Gräl hemma",
                "Fights and shouting at home",
            ),
            ("vakivalta-kotona", "Väkivalta kotona", "Våld hemma", "Violence at home"),
            ("pelko", "Pelko ja turvattomuus", "Rädsla", "Fear and feeling unsafe"),
            (
                "vanhemman-paihteet",
                "Vanhemman päihteet",
                "Förälderns rusmedel",
                "A parent's alcohol or drugs",
            ),
            ("seurustelu", "Seurustelusuhde", "Dejtingrelation", "Dating relationship"),
            ("netti", "Netissä tapahtunut", "På nätet", "Something online"),
            ("kiusaaminen", "Kiusaaminen", "Mobbning", "Bullying"),
            ("kenelle-kertoa", "Kenelle kertoa", "Vem kan jag berätta för", "Who to tell"),
            ("avun-saaminen", "Avun saaminen", "Att få hjälp", "How to get help"),
        ],
    },
    {
        "slug": "ero",
        "name": "Apua eroon",
        "name_sv": "Hjälp vid skilsmässa",
        "name_en": "Help with separation",
        "kind": "one_to_one",
        "order": 3,
        "hours": (time(12), time(18)),
        "description": (
            "Eroa pohtiville, erotilanteessa eläville ja eronneille vanhemmille sekä läheisille."
        ),
        "topics": [
            ("eron-pohdinta", "Eron pohdinta", "Att överväga skilsmässa", "Considering separation"),
            ("lapset-erossa", "Lapset erossa", "Barnen i skilsmässan", "Children in separation"),
            (
                "huolto-tapaamiset",
                "Huolto ja tapaamiset",
                "Vårdnad och umgänge",
                "Custody and visitation",
            ),
            (
                "riidat",
                "Riitely ja yhteistyö",
                "Konflikter och samarbete",
                "Conflict and co-parenting",
            ),
            ("talous-asuminen", "Talous ja asuminen", "Ekonomi och boende", "Money and housing"),
            ("oma-jaksaminen", "Oma jaksaminen", "Egen ork", "Own wellbeing"),
            ("uusperhe", "Uusperhe", "Ombildad familj", "Blended family"),
            (
                "vakivalta-erossa",
                "Väkivalta erossa",
                "Våld i skilsmässan",
                "Violence in separation",
            ),
        ],
    },
    {
        "slug": "vauvan-uni",
        "name": "Apua vauvan uneen",
        "name_sv": "Hjälp med babyns sömn",
        "name_en": "Help with baby sleep",
        "kind": "one_to_one",
        "order": 4,
        "hours": (time(12), time(18)),
        "description": "Vauvaperheille, joissa vauvan uni haastaa.",
        "topics": [
            ("yoheraily", "Yöheräily", "Nattliga uppvaknanden", "Night waking"),
            ("nukahtaminen", "Nukahtaminen", "Insomning", "Falling asleep"),
            ("paivaunet", "Päiväunet", "Dagsömn", "Daytime naps"),
            ("unirytmi", "Unirytmi", "Sömnrytm", "Sleep rhythm"),
            ("imetys-ja-uni", "Imetys, syöttäminen ja uni", "Amning och sömn", "Feeding and sleep"),
            (
                "vanhemman-vasymys",
                "Vanhemman väsymys",
                "Förälderns trötthet",
                "Parent's exhaustion",
            ),
            (
                "parisuhde",
                "Parisuhde ja jaksaminen",
                "Parrelation och ork",
                "Relationship and coping",
            ),
        ],
    },
    {
        "slug": "paihteet",
        "name": "Apua päihteitä käyttäville raskaus- ja vauva-aikana",
        "name_sv": "Hjälp för den som använder rusmedel under graviditet och babytid",
        "name_en": "Help for substance use in pregnancy and with a baby",
        "kind": "one_to_one",
        "order": 5,
        "hours": (time(12), time(18)),
        "description": (
            "Ihmisille, jotka ovat huolissaan päihteiden käytön vaikutuksista vauvaan "
            "raskausaikana ja syntymän jälkeen."
        ),
        "topics": [
            ("alkoholi", "Alkoholi", "Alkohol", "Alcohol"),
            ("huumeet", "Huumeet", "Droger", "Drugs"),
            ("laakkeet", "Lääkkeet", "Läkemedel", "Medicines"),
            (
                "tupakka-nikotiini",
                "Tupakka ja nikotiini",
                "Tobak och nikotin",
                "Tobacco and nicotine",
            ),
            ("vaikutus-vauvaan", "Vaikutukset vauvaan", "Påverkan på babyn", "Effects on the baby"),
            ("raskaus", "Raskausaika", "Graviditet", "Pregnancy"),
            (
                "laheisen-kaytto",
                "Läheisen päihteiden käyttö",
                "En närståendes bruk",
                "Someone close using",
            ),
            ("hoitoon-hakeutuminen", "Hoitoon hakeutuminen", "Att söka vård", "Seeking treatment"),
        ],
    },
    {
        "slug": "unichat",
        "name": "Unichat-ryhmächat",
        "name_sv": "Unichat gruppchatt",
        "name_en": "Unichat group chat",
        "kind": "group",
        "order": 6,
        "hours": None,
        "description": "Ryhmächat vauvaperheille, joissa vauvan uni haastaa.",
        "topics": [],
    },
]


def seed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    OpeningHours = apps.get_model("scheduling", "OpeningHours")
    Topic = apps.get_model("stats", "Topic")
    for data in LINES:
        line, _ = ServiceLine.objects.get_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "name_sv": data["name_sv"],
                "name_en": data["name_en"],
                "kind": data["kind"],
                "order": data["order"],
                "description": data["description"],
                "rules": COMMON_RULES,
            },
        )
        if data["hours"]:
            opens, closes = data["hours"]
            for weekday in WEEKDAYS:
                OpeningHours.objects.get_or_create(
                    line=line, weekday=weekday, defaults={"opens": opens, "closes": closes}
                )
        for order, (slug, name, name_sv, name_en) in enumerate(data["topics"]):
            Topic.objects.get_or_create(
                line=line,
                slug=slug,
                defaults={"name": name, "name_sv": name_sv, "name_en": name_en, "order": order},
            )


def unseed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    ServiceLine.objects.filter(slug__in=[data["slug"] for data in LINES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0001_initial"),
        ("scheduling", "0001_initial"),
        ("stats", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
