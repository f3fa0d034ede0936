"""Issue 20: a line's group chat (the widget and the front page lead to it), and the asker's
texts in Swedish and English.

1. `ServiceLine.group_line`: Apua vauvan uneen leads to the Unichat group chat (brochure 000:
   "Apua vauvan uneen -chat ja Unichat-ryhmächat on tarkoitettu vauvaperheille").
2. Who each contract line is for, in Swedish and English (before: Finnish only, so a Swedish or
   English asker read no description). Only blank fields are filled: a coordinator's text stays.
3. The referral directory's shipped entries (0013) in Swedish and English, and the 24/7 hours
   in words. Only blank fields are filled.
"""

import django.db.models.deletion
from django.db import migrations, models

DESCRIPTIONS = {  # slug: (sv, en)
    "vakivalta": (
        "För alla parter i våld i familjen och i nära relationer: den som utsatts för våld, den "
        "som använt våld, den som bevittnat våld och oroliga närstående.",
        "For everyone involved in family and domestic violence: those who experienced it, those "
        "who used it, those exposed to it, and worried people close to them.",
    ),
    "lapset-nuoret": (
        "För dig under 18 år, när det finns otrygghet eller våld hemma eller i nära relationer.",
        "For under-18s, when there is insecurity or violence at home or in close relationships.",
    ),
    "ero": (
        "För föräldrar som funderar på skilsmässa, är mitt i en skilsmässa eller har skilt sig, "
        "och för deras närstående.",
        "For parents who are thinking about separating, separating or separated, and for people "
        "close to them.",
    ),
    "vauvan-uni": (
        "För babyfamiljer där babyns sömn är en utmaning.",
        "For families with a baby whose sleep is a challenge.",
    ),
    "paihteet": (
        "För den som är orolig över hur bruk av alkohol eller droger påverkar babyn under "
        "graviditeten och efter födseln.",
        "For anyone worried about how alcohol or drug use affects the baby during pregnancy and "
        "after birth.",
    ),
    "unichat": (
        "Gruppchatt för babyfamiljer där babyns sömn är en utmaning.",
        "A group chat for families with a baby whose sleep is a challenge.",
    ),
}

# Finnish name (as shipped in 0013): (name sv, name en, description sv, description en)
REFERRALS = {
    "Hätänumero 112": (
        "Nödnumret 112",
        "Emergency number 112",
        "Ring 112 i en nödsituation.",
        "In an emergency, call 112.",
    ),
    "Nollalinja": (
        "Nollalinja",
        "Nollalinja helpline",
        "Nollalinja hjälper den som utsatts för våld i nära relationer, dygnet runt, gratis och "
        "anonymt.",
        "Nollalinja helps those who have experienced domestic violence, around the clock, free "
        "of charge and anonymously.",
    ),
    "Nettiturvakoti": (
        "Nettiturvakoti",
        "Nettiturvakoti",
        "Förbundet för mödra- och skyddshems webbtjänst: information och chattar om våld i "
        "familjen och i nära relationer.",
        "The online service of the Federation of Mother and Child Homes and Shelters: "
        "information and chats about family and domestic violence.",
    ),
    "Turvakodit": (
        "Skyddshem",
        "Shelters",
        "Du kan söka dig till ett skyddshem när du har utsatts för våld eller hot om våld.",
        "You can go to a shelter when you have experienced violence or the threat of it.",
    ),
    "Ensi- ja turvakotien liiton väkivaltatyön avopalvelut": (
        "Förbundet för mödra- och skyddshems öppna tjänster mot våld",
        "Outpatient violence services of the Federation of Mother and Child Homes and Shelters",
        "Gratis tjänster för alla parter i våld: telefonrådgivning, samtalsstöd, kamratgrupper, "
        "stödboende och anonym chatt. Du kan söka dig dit på eget initiativ.",
        "Free services for everyone involved in violence: telephone advice, counselling, peer "
        "groups, supported housing and an anonymous chat. You can contact them yourself.",
    ),
    "Sekasin-chat": (
        "Sekasin-chatten",
        "Sekasin chat",
        "Sekasin-chatten är en riksomfattande chatt för 12–29-åringar.",
        "Sekasin is a national chat for 12–29-year-olds.",
    ),
    "Lasten ja nuorten puhelin": (
        "Barn- och ungdomstelefonen",
        "Children and young people's helpline",
        "MLL:s telefon och chatt för barn och unga under 21 år.",
        "MLL's helpline and chat for children and young people under 21.",
    ),
}
ALWAYS_OPEN_HOURS = "24/7"


def fill(record, values):
    changed = [name for name, value in values.items() if not getattr(record, name) and value]
    for name in changed:
        setattr(record, name, values[name])
    if changed:
        record.save(update_fields=changed)


def seed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    Referral = apps.get_model("chats", "Referral")
    lines = {line.slug: line for line in ServiceLine.objects.all()}
    for slug, (sv, en) in DESCRIPTIONS.items():
        if slug in lines:
            fill(lines[slug], {"description_sv": sv, "description_en": en})
    baby, unichat = lines.get("vauvan-uni"), lines.get("unichat")
    if baby is not None and unichat is not None and baby.group_line_id is None:
        baby.group_line = unichat
        baby.save(update_fields=["group_line"])
    for name, (name_sv, name_en, text_sv, text_en) in REFERRALS.items():
        for entry in Referral.objects.filter(name=name):
            fill(
                entry,
                {
                    "name_sv": name_sv,
                    "name_en": name_en,
                    "description_sv": text_sv,
                    "description_en": text_en,
                    "hours": ALWAYS_OPEN_HOURS if entry.always_open else "",
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0014_practice_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="serviceline",
            name="group_line",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "A group chat for the same askers: the widget and the front page lead to it."
                ),
                limit_choices_to={"kind": "group"},
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="chats.serviceline",
                verbose_name="the line's group chat",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
