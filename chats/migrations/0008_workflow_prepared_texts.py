"""Prepared texts for the helper's workflow (docs/workflow.md): the services' own wording for
refusing inappropriate talk, for a length limit and for "come back later"; and replies that fit
children and young people on the youth line. Coordinators edit them in admin."""

from django.db import migrations

# (line slug or None for every line, kind, title, text, url)
PREPARED_TEXTS = [
    (
        None,
        "reply",
        "Epäasiallinen keskustelu",
        "Tämä chat on tarkoitettu tukea tarvitseville. Loukkaava, seksuaalinen tai muuten "
        "epäasiallinen keskustelu ei kuulu tänne. Jos keskustelu jatkuu samanlaisena, lopetan "
        "sen. Voit halutessasi kertoa, mihin tarvitset apua.",
        "",
    ),
    (
        None,
        "reply",
        "Keskustelun kesto",
        "Meillä on tässä keskustelussa aikaa vielä noin 15 minuuttia. Mikä olisi sinulle nyt "
        "tärkeintä käydä läpi?",
        "",
    ),
    (
        None,
        "reply",
        "Tervetuloa myöhemmin uudelleen",
        "Kiitos, että kirjoitit. Pidetään nyt tauko: olet tervetullut chattiin uudelleen "
        "muutaman päivän päästä. Hätätilanteessa soita 112.",
        "",
    ),
    (
        "vakivalta",
        "reply",
        "Oletko turvassa?",
        "Oletko nyt turvassa? Jos olet välittömässä vaarassa, soita hätänumeroon 112.",
        "",
    ),
    (
        "lapset-nuoret",
        "reply",
        "Tervetuloa (lapset ja nuoret)",
        "Hei! Kiva, että kirjoitit. Täällä voit kertoa ihan mistä vain, mikä mietityttää, "
        "pelottaa tai tuntuu pahalta. Sinun ei tarvitse kertoa nimeäsi. Kirjoita omaan "
        "tahtiisi.",
        "",
    ),
    (
        "lapset-nuoret",
        "reply",
        "Et ole syyllinen",
        "Se, mitä kotona tapahtuu, ei ole sinun syytäsi. Aikuiset ovat vastuussa siitä, että "
        "kotona on turvallista.",
        "",
    ),
    (
        "lapset-nuoret",
        "reply",
        "Turvallinen aikuinen",
        "Olisiko lähelläsi joku aikuinen, jolle voisit kertoa tästä? Esimerkiksi opettaja, "
        "koulukuraattori, terveydenhoitaja tai joku sukulainen. Voimme miettiä yhdessä, miten "
        "asian voisi ottaa puheeksi.",
        "",
    ),
    (
        "lapset-nuoret",
        "reply",
        "Asiaton keskustelu (lapset ja nuoret)",
        "Tämä chat on lapsille ja nuorille, jotka haluavat puhua huolistaan. Rumia tai "
        "kiusallisia viestejä ei lähetetä täällä. Jos sinulla on jokin huoli, kerro siitä: "
        "olen täällä sinua varten.",
        "",
    ),
    (
        "lapset-nuoret",
        "reply",
        "Hätätilanne (lapset ja nuoret)",
        "Jos olet nyt vaarassa tai joku satuttaa sinua, soita hätänumeroon 112. Sinne voi "
        "soittaa ilmaiseksi, vaikka puhelimessa ei olisi saldoa.",
        "",
    ),
]


def seed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    PreparedText = apps.get_model("chats", "PreparedText")
    lines = {line.slug: line for line in ServiceLine.objects.all()}
    for order, (slug, kind, title, text, url) in enumerate(PREPARED_TEXTS, start=20):
        if slug is not None and slug not in lines:
            continue  # a coordinator removed the line
        PreparedText.objects.get_or_create(
            line=lines.get(slug),
            title=title,
            defaults={"kind": kind, "text": text, "url": url, "order": order},
        )


def unseed(apps, schema_editor):
    PreparedText = apps.get_model("chats", "PreparedText")
    for slug, _kind, title, _text, _url in PREPARED_TEXTS:
        where = {"line__slug": slug} if slug else {"line": None}
        PreparedText.objects.filter(title=title, **where).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0007_helper_capacity_and_workflow"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
