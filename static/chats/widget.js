/*
 * Verkkoapu asker widget: one script tag, no build step, no dependencies.
 *
 *   <script src="https://HOST/static/chats/widget.js" data-services="vakivalta,ero" defer></script>
 *
 * Optional attributes: data-language (fi, sv, en; default: the page's <html lang>),
 * data-neutral-url (where quick exit goes), data-css (the stylesheet; "none" for your own).
 *
 * Privacy: the chat's token lives in sessionStorage only (this tab, gone when it closes); no
 * cookie and no localStorage is ever written. Every text from the network is put on the page
 * as text (textContent), never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-services]");
  if (!script || window.__verkkoapuWidget) {
    return;
  }
  window.__verkkoapuWidget = true;

  var BASE = new URL(script.src, window.location.href).origin;
  var STORE_KEY = "verkkoapu.chat";
  var DEFAULT_NEUTRAL_URL = "https://www.google.com/search?q=s%C3%A4%C3%A4";
  var TYPING_SHOWN_MS = 4000;
  var TYPING_SEND_MS = 3000;
  var ESCAPE_TWICE_MS = 1200;
  var STATUS_REFRESH_MS = 60000;
  var MAX_CHARS = 4000;
  var URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

  // The widget's words, in English: the msgids of the "djangojs" catalogues (locale/).
  // Translations live in locale/<lang>/LC_MESSAGES/djangojs.po like the rest of the UI;
  // `manage.py widgettexts` copies them into TRANSLATIONS below (docs/ui.md).
  function gettext_noop(text) {
    return text;
  }

  var MESSAGES = {
    launcher: gettext_noop("Chat"),
    launcher_label: gettext_noop("Open the anonymous chat"),
    title: gettext_noop("Anonymous chat"),
    minimise: gettext_noop("Minimise"),
    quick_exit: gettext_noop("Quick exit"),
    quick_exit_hint: gettext_noop("Quick exit (or press Esc twice)"),
    loading: gettext_noop("Loading…"),
    unavailable: gettext_noop("The chat could not be loaded. Please try again in a moment."),
    retry: gettext_noop("Try again"),
    choose_line: gettext_noop("Choose a service"),
    open_now: gettext_noop("Open now"),
    open_until: gettext_noop("Open until {time}"),
    closed: gettext_noop("Closed"),
    opens: gettext_noop("Opens {when}"),
    no_opening: gettext_noop("The next opening time is not known yet."),
    today: gettext_noop("today at {time}"),
    tomorrow: gettext_noop("tomorrow at {time}"),
    on_day: gettext_noop("{day} at {time}"),
    rules_heading: gettext_noop("Before you start"),
    accept: gettext_noop("I have read this and accept the rules of the chat"),
    start: gettext_noop("Start the chat"),
    must_accept: gettext_noop("Please accept the rules of the chat first."),
    back: gettext_noop("Other services"),
    connecting: gettext_noop("Connecting…"),
    reconnecting: gettext_noop("The connection was lost. Reconnecting…"),
    queued: gettext_noop("You are number {n} in the queue."),
    queued_next: gettext_noop("You are next in the queue."),
    queued_hint: gettext_noop("A helper will answer as soon as one is free. Keep this window open."),
    leave_queue: gettext_noop("Leave the queue"),
    joined: gettext_noop("{name} joined the chat."),
    peer: gettext_noop("peer supporter"),
    volunteer: gettext_noop("trained volunteer"),
    you: gettext_noop("You"),
    helper: gettext_noop("Helper"),
    system: gettext_noop("Notice"),
    typing: gettext_noop("{name} is typing…"),
    message_label: gettext_noop("Write a message"),
    send: gettext_noop("Send"),
    sending: gettext_noop("sending…"),
    end: gettext_noop("End the chat"),
    end_confirm: gettext_noop("Do you really want to end the chat?"),
    ended_title: gettext_noop("The chat has ended"),
    ended_asker: gettext_noop("You ended the chat."),
    ended_helper: gettext_noop("The helper ended the chat."),
    ended_system: gettext_noop("The chat ended because the connection was lost."),
    erased: gettext_noop("The messages have been deleted from the server."),
    feedback: gettext_noop("Give anonymous feedback"),
    referrals: gettext_noop("Links the helper sent"),
    new_chat: gettext_noop("Start a new chat"),
    not_found: gettext_noop("This chat no longer exists: it has ended."),
    rate_limited: gettext_noop("You sent messages too fast. Please wait a moment."),
    limit_open_chats: gettext_noop("A chat is already open from this connection (perhaps in another tab or window). Continue there, or end it first."),
    limit_starts: gettext_noop("Many chats have been started from this connection this hour. Please try again later."),
    limit_codes: gettext_noop("Too many codes have been tried. Please try again later."),
    too_long: gettext_noop("The message is too long."),
    follow_up: gettext_noop("The helper offered a follow-up chat {when}. Write down the code: {code}"),
    code_label: gettext_noop("Follow-up code (if you were given one)"),
    bad_code: gettext_noop("The code was not recognised, or it has been used already."),
    error: gettext_noop("Something went wrong. Please try again."),
    estimate: gettext_noop("Estimated wait {min}–{max} min. An estimate, not a promise."),
    estimate_unknown: gettext_noop("The wait cannot be estimated just now."),
    time_left: gettext_noop("About {n} min left in this chat."),
    ended_time_limit: gettext_noop("The time set for the chat is over."),
    ended_come_back_later: gettext_noop("The helper ended the chat. You are welcome back later."),
    queue_full_title: gettext_noop("The queue is full for today"),
    next_opening: gettext_noop("The chat is next open {when}."),
    other_services: gettext_noop("Other services that can help"),
    age_question: gettext_noop("How old are you?"),
    age_hint: gettext_noop("We only ask your age group, for statistics. Nothing else is kept."),
    age_under_13: gettext_noop("under 13"),
    age_13_15: gettext_noop("13–15"),
    age_16_17: gettext_noop("16–17"),
    age_18_plus: gettext_noop("18 or over"),
    must_age: gettext_noop("Please choose your age group first."),
    adult_line: gettext_noop("This chat is for under-18s. Adults have their own chat, where you are welcome:"),
    go_to_line: gettext_noop("Go to {name}"),
    closed_title: gettext_noop("The chat is closed just now"),
    hours_heading: gettext_noop("Opening hours"),
    hours_day: gettext_noop("{day} {opens}–{closes}"),
    hours_none: gettext_noop("No regular opening hours."),
    holidays_closed: gettext_noop("Closed on public holidays."),
    exception_closed: gettext_noop("{days}: closed"),
    exception_hours: gettext_noop("{days}: {opens}–{closes}"),
    exception_weekdays: gettext_noop("{days}: {opens}–{closes} on weekdays"),
    exception_all_day: gettext_noop("{days}: open around the clock"),
    exceptions_heading: gettext_noop("Coming changes"),
    finnish_time: gettext_noop("The times are Finnish time."),
    time_zoned: gettext_noop("{time} Finnish time ({local} your time)"),
    help_now: gettext_noop("Help available now"),
    emergency: gettext_noop("In an emergency, call 112."),
    open_always: gettext_noop("open 24/7"),
    more_services: gettext_noop("More services"),
    region_label: gettext_noop("Show services of your area too"),
    region_all: gettext_noop("Nationwide services only"),
    region_hint: gettext_noop("Your choice is only used on this screen: it is not sent or saved."),
    call: gettext_noop("Call {phone}"),
    group_chat: gettext_noop("Group chat: {name}"),
    feedback_title: gettext_noop("Anonymous feedback"),
    feedback_privacy: gettext_noop("Your answers are anonymous. They are stored with the service and the month only: not with your chat, your helper, your address or the time. Answer only what you want to."),
    feedback_send: gettext_noop("Send feedback"),
    feedback_thanks: gettext_noop("Thank you for your feedback. It helps us make the service better."),
    feedback_limit: gettext_noop("Thank you, we already received several answers from this connection. Please try again later."),
    unread: gettext_noop("New messages: {n}"),
    state_queued: gettext_noop("in the queue"),
    state_chatting: gettext_noop("chat open"),
    state_ended: gettext_noop("chat ended")
  };

  // BEGIN TRANSLATIONS: written by `python manage.py widgettexts`; do not edit by hand.
  var TRANSLATIONS = {
    "fi": {
      "Chat": "Chat",
      "Open the anonymous chat": "Avaa nimetön chat",
      "Anonymous chat": "Nimetön chat",
      "Minimise": "Pienennä",
      "Quick exit": "Poistu nopeasti",
      "Quick exit (or press Esc twice)": "Poistu nopeasti (tai paina Esc kahdesti)",
      "Loading…": "Ladataan…",
      "The chat could not be loaded. Please try again in a moment.": "Chattia ei voitu ladata. Yritä hetken kuluttua uudelleen.",
      "Try again": "Yritä uudelleen",
      "Choose a service": "Valitse palvelu",
      "Open now": "Avoinna nyt",
      "Open until {time}": "Avoinna klo {time} asti",
      "Closed": "Suljettu",
      "Opens {when}": "Avautuu {when}",
      "The next opening time is not known yet.": "Seuraavaa aukioloaikaa ei ole vielä tiedossa.",
      "today at {time}": "tänään klo {time}",
      "tomorrow at {time}": "huomenna klo {time}",
      "{day} at {time}": "{day} klo {time}",
      "Before you start": "Ennen kuin aloitat",
      "I have read this and accept the rules of the chat": "Olen lukenut tiedot ja hyväksyn keskustelun säännöt",
      "Start the chat": "Aloita keskustelu",
      "Please accept the rules of the chat first.": "Hyväksy ensin keskustelun säännöt.",
      "Other services": "Muut palvelut",
      "Connecting…": "Yhdistetään…",
      "The connection was lost. Reconnecting…": "Yhteys katkesi. Yhdistetään uudelleen…",
      "You are number {n} in the queue.": "Olet jonossa sijalla {n}.",
      "You are next in the queue.": "Olet seuraavana vuorossa.",
      "A helper will answer as soon as one is free. Keep this window open.": "Auttaja vastaa sinulle heti, kun vapautuu. Pidä tämä ikkuna auki.",
      "Leave the queue": "Poistu jonosta",
      "{name} joined the chat.": "{name} liittyi keskusteluun.",
      "peer supporter": "chatvertainen",
      "trained volunteer": "vapaaehtoinen",
      "You": "Sinä",
      "Helper": "Auttaja",
      "Notice": "Ilmoitus",
      "{name} is typing…": "{name} kirjoittaa…",
      "Write a message": "Kirjoita viesti",
      "Send": "Lähetä",
      "sending…": "lähetetään…",
      "End the chat": "Lopeta keskustelu",
      "Do you really want to end the chat?": "Haluatko varmasti lopettaa keskustelun?",
      "The chat has ended": "Keskustelu on päättynyt",
      "You ended the chat.": "Lopetit keskustelun.",
      "The helper ended the chat.": "Auttaja lopetti keskustelun.",
      "The chat ended because the connection was lost.": "Keskustelu päättyi, koska yhteys katkesi.",
      "The messages have been deleted from the server.": "Keskustelun viestit on poistettu palvelimelta.",
      "Give anonymous feedback": "Anna nimetöntä palautetta",
      "Links the helper sent": "Auttajan lähettämät linkit",
      "Start a new chat": "Aloita uusi keskustelu",
      "This chat no longer exists: it has ended.": "Keskustelua ei enää ole: se on päättynyt.",
      "You sent messages too fast. Please wait a moment.": "Lähetit viestejä liian nopeasti. Odota hetki.",
      "A chat is already open from this connection (perhaps in another tab or window). Continue there, or end it first.": "Tästä verkkoyhteydestä on jo avoinna keskustelu (ehkä toisessa välilehdessä tai ikkunassa). Jatka siellä tai lopeta se ensin.",
      "Many chats have been started from this connection this hour. Please try again later.": "Tästä verkkoyhteydestä on aloitettu tällä tunnilla jo monta keskustelua. Yritä myöhemmin uudelleen.",
      "Too many codes have been tried. Please try again later.": "Koodeja on kokeiltu liian monta. Yritä myöhemmin uudelleen.",
      "The message is too long.": "Viesti on liian pitkä.",
      "The helper offered a follow-up chat {when}. Write down the code: {code}": "Auttaja tarjosi jatkokeskustelua {when}. Kirjoita koodi muistiin: {code}",
      "Follow-up code (if you were given one)": "Jatkokeskustelun koodi (jos sait sellaisen)",
      "The code was not recognised, or it has been used already.": "Koodia ei tunnistettu, tai se on jo käytetty.",
      "Something went wrong. Please try again.": "Jotain meni vikaan. Yritä uudelleen.",
      "Estimated wait {min}–{max} min. An estimate, not a promise.": "Arvioitu odotusaika {min}–{max} min. Se on arvio, ei lupaus.",
      "The wait cannot be estimated just now.": "Odotusaikaa ei voi juuri nyt arvioida.",
      "About {n} min left in this chat.": "Keskustelua on jäljellä noin {n} min.",
      "The time set for the chat is over.": "Keskustelulle varattu aika päättyi.",
      "The helper ended the chat. You are welcome back later.": "Auttaja lopetti keskustelun. Olet tervetullut takaisin myöhemmin.",
      "The queue is full for today": "Jono on tältä päivältä täynnä",
      "The chat is next open {when}.": "Chat on seuraavan kerran auki {when}.",
      "Other services that can help": "Muita palveluja, joista saat apua",
      "How old are you?": "Kuinka vanha olet?",
      "We only ask your age group, for statistics. Nothing else is kept.": "Kysymme vain ikäryhmää tilastoja varten. Muuta emme tallenna.",
      "under 13": "alle 13",
      "13–15": "13–15",
      "16–17": "16–17",
      "18 or over": "18 tai yli",
      "Please choose your age group first.": "Valitse ensin ikäryhmäsi.",
      "This chat is for under-18s. Adults have their own chat, where you are welcome:": "Tämä chat on alle 18-vuotiaille. Aikuisille on oma chat, jonne olet tervetullut:",
      "Go to {name}": "Siirry palveluun {name}",
      "The chat is closed just now": "Chat on juuri nyt suljettu",
      "Opening hours": "Aukioloajat",
      "{day} {opens}–{closes}": "{day} {opens}–{closes}",
      "No regular opening hours.": "Ei säännöllisiä aukioloaikoja.",
      "Closed on public holidays.": "Suljettu arkipyhinä.",
      "{days}: closed": "{days}: suljettu",
      "{days}: {opens}–{closes}": "{days}: {opens}–{closes}",
      "{days}: {opens}–{closes} on weekdays": "{days}: arkipäivisin {opens}–{closes}",
      "{days}: open around the clock": "{days}: avoinna ympäri vuorokauden",
      "Coming changes": "Tulevat poikkeukset",
      "The times are Finnish time.": "Ajat ovat Suomen aikaa.",
      "{time} Finnish time ({local} your time)": "{time} Suomen aikaa (sinun aikaasi {local})",
      "Help available now": "Apua saatavilla nyt",
      "In an emergency, call 112.": "Hätätilanteessa soita 112.",
      "open 24/7": "avoinna ympäri vuorokauden",
      "More services": "Lisää palveluja",
      "Show services of your area too": "Näytä myös oman alueesi palvelut",
      "Nationwide services only": "Vain valtakunnalliset palvelut",
      "Your choice is only used on this screen: it is not sent or saved.": "Valintaasi käytetään vain tällä näytöllä: sitä ei lähetetä eikä tallenneta.",
      "Call {phone}": "Soita {phone}",
      "Group chat: {name}": "Ryhmächat: {name}",
      "Anonymous feedback": "Nimetön palaute",
      "Your answers are anonymous. They are stored with the service and the month only: not with your chat, your helper, your address or the time. Answer only what you want to.": "Vastauksesi ovat nimettömiä. Ne tallennetaan vain palvelun ja kuukauden kanssa: ei keskustelusi, auttajasi, osoitteesi tai ajankohdan kanssa. Vastaa vain siihen, mihin haluat.",
      "Send feedback": "Lähetä palaute",
      "Thank you for your feedback. It helps us make the service better.": "Kiitos palautteestasi. Se auttaa meitä parantamaan palvelua.",
      "Thank you, we already received several answers from this connection. Please try again later.": "Kiitos, olemme jo saaneet tästä yhteydestä useita vastauksia. Yritä myöhemmin uudelleen.",
      "New messages: {n}": "Uusia viestejä: {n}",
      "in the queue": "jonossa",
      "chat open": "keskustelu auki",
      "chat ended": "keskustelu päättyi",
      "Write a letter": "Kirjoita kirje",
      "You can write at any time of day. You need no e-mail address and no account, and your name is not asked.": "Voit kirjoittaa mihin vuorokaudenaikaan tahansa. Et tarvitse sähköpostiosoitetta etkä tunnusta, eikä nimeäsi kysytä.",
      "I already have a letter code": "Minulla on jo kirjekoodi",
      "Your letter": "Kirjeesi",
      "What is it about? (if you like)": "Mitä se koskee? (jos haluat kertoa)",
      "After sending you get a letter code. Write it down: with it you read the replies. Whoever holds the code can read the replies, so keep it to yourself.": "Lähettämisen jälkeen saat kirjekoodin. Kirjoita se muistiin: sillä luet vastaukset. Kuka tahansa, jolla koodi on, voi lukea vastaukset, joten pidä se omana tietonasi.",
      "Send the letter": "Lähetä kirje",
      "Your letter was sent": "Kirjeesi lähetettiin",
      "Your letter code:": "Kirjekoodisi:",
      "Write the code down now: it is shown only this once and cannot be sent to you again. With it you read the replies, write more or end the conversation. Whoever holds the code can read the replies.": "Kirjoita koodi muistiin nyt: se näytetään vain tämän kerran, eikä sitä voi lähettää sinulle uudelleen. Sillä luet vastaukset, kirjoitat lisää tai lopetat keskustelun. Kuka tahansa, jolla koodi on, voi lukea vastaukset.",
      "Read the replies": "Lue vastaukset",
      "Type the letter code you got when you wrote.": "Kirjoita kirjekoodi, jonka sait kirjoittaessasi.",
      "Letter code": "Kirjekoodi",
      "Read": "Lue",
      "Read the replies with the code": "Lue vastaukset koodilla",
      "Your letters": "Kirjeesi",
      "Your letter is waiting for an answer.": "Kirjeesi odottaa vastausta.",
      "Write again": "Kirjoita uudelleen",
      "Your letter was sent.": "Kirjeesi lähetettiin.",
      "Ending erases every letter of this conversation at once. The code stops working.": "Lopettaminen poistaa keskustelun kaikki kirjeet heti. Koodi lakkaa toimimasta.",
      "End and erase the conversation": "Lopeta ja poista keskustelu",
      "The conversation was erased": "Keskustelu poistettiin",
      "Every letter of the conversation has been erased. Thank you for writing.": "Keskustelun kaikki kirjeet on poistettu. Kiitos, että kirjoitit.",
      "Back": "Takaisin"
    },
    "sv": {
      "Chat": "Chat",
      "Open the anonymous chat": "Öppna den anonyma chatten",
      "Anonymous chat": "Anonym chatt",
      "Minimise": "Minimera",
      "Quick exit": "Lämna snabbt",
      "Quick exit (or press Esc twice)": "Lämna snabbt (eller tryck Esc två gånger)",
      "Loading…": "Laddar…",
      "The chat could not be loaded. Please try again in a moment.": "Chatten kunde inte laddas. Försök igen om en stund.",
      "Try again": "Försök igen",
      "Choose a service": "Välj tjänst",
      "Open now": "Öppen nu",
      "Open until {time}": "Öppen till kl. {time}",
      "Closed": "Stängd",
      "Opens {when}": "Öppnar {when}",
      "The next opening time is not known yet.": "Nästa öppettid är inte känd ännu.",
      "today at {time}": "i dag kl. {time}",
      "tomorrow at {time}": "i morgon kl. {time}",
      "{day} at {time}": "{day} kl. {time}",
      "Before you start": "Innan du börjar",
      "I have read this and accept the rules of the chat": "Jag har läst informationen och godkänner reglerna för chatten",
      "Start the chat": "Starta chatten",
      "Please accept the rules of the chat first.": "Godkänn först reglerna för chatten.",
      "Other services": "Andra tjänster",
      "Connecting…": "Ansluter…",
      "The connection was lost. Reconnecting…": "Förbindelsen bröts. Ansluter på nytt…",
      "You are number {n} in the queue.": "Du står i kö på plats {n}.",
      "You are next in the queue.": "Du är näst på tur.",
      "A helper will answer as soon as one is free. Keep this window open.": "En hjälpare svarar så snart hen blir ledig. Håll fönstret öppet.",
      "Leave the queue": "Lämna kön",
      "{name} joined the chat.": "{name} har anslutit till chatten.",
      "peer supporter": "kamratstödjare",
      "trained volunteer": "frivillig",
      "You": "Du",
      "Helper": "Hjälpare",
      "Notice": "Meddelande",
      "{name} is typing…": "{name} skriver…",
      "Write a message": "Skriv ett meddelande",
      "Send": "Skicka",
      "sending…": "skickas…",
      "End the chat": "Avsluta chatten",
      "Do you really want to end the chat?": "Vill du verkligen avsluta chatten?",
      "The chat has ended": "Chatten har avslutats",
      "You ended the chat.": "Du avslutade chatten.",
      "The helper ended the chat.": "Hjälparen avslutade chatten.",
      "The chat ended because the connection was lost.": "Chatten avslutades eftersom förbindelsen bröts.",
      "The messages have been deleted from the server.": "Meddelandena har raderats från servern.",
      "Give anonymous feedback": "Ge anonym respons",
      "Links the helper sent": "Länkar från hjälparen",
      "Start a new chat": "Starta en ny chatt",
      "This chat no longer exists: it has ended.": "Chatten finns inte längre: den har avslutats.",
      "You sent messages too fast. Please wait a moment.": "Du skickade meddelanden för snabbt. Vänta en stund.",
      "A chat is already open from this connection (perhaps in another tab or window). Continue there, or end it first.": "Från den här uppkopplingen finns redan en öppen chatt (kanske i en annan flik eller ett annat fönster). Fortsätt där eller avsluta den först.",
      "Many chats have been started from this connection this hour. Please try again later.": "Från den här uppkopplingen har redan många chattar startats den här timmen. Försök igen senare.",
      "Too many codes have been tried. Please try again later.": "För många koder har prövats. Försök igen senare.",
      "The message is too long.": "Meddelandet är för långt.",
      "The helper offered a follow-up chat {when}. Write down the code: {code}": "Hjälparen erbjöd en fortsatt chatt {when}. Skriv upp koden: {code}",
      "Follow-up code (if you were given one)": "Kod för fortsatt chatt (om du fick en)",
      "The code was not recognised, or it has been used already.": "Koden kändes inte igen eller har redan använts.",
      "Something went wrong. Please try again.": "Något gick fel. Försök igen.",
      "Estimated wait {min}–{max} min. An estimate, not a promise.": "Uppskattad väntetid {min}–{max} min. Det är en uppskattning, inget löfte.",
      "The wait cannot be estimated just now.": "Väntetiden kan inte uppskattas just nu.",
      "About {n} min left in this chat.": "Det återstår ungefär {n} min av chatten.",
      "The time set for the chat is over.": "Tiden för chatten tog slut.",
      "The helper ended the chat. You are welcome back later.": "Hjälparen avslutade chatten. Du är välkommen tillbaka senare.",
      "The queue is full for today": "Kön är full för i dag",
      "The chat is next open {when}.": "Chatten är öppen nästa gång {when}.",
      "Other services that can help": "Andra tjänster som kan hjälpa",
      "How old are you?": "Hur gammal är du?",
      "We only ask your age group, for statistics. Nothing else is kept.": "Vi frågar bara åldersgruppen för statistik. Inget annat sparas.",
      "under 13": "under 13",
      "13–15": "13–15",
      "16–17": "16–17",
      "18 or over": "18 eller äldre",
      "Please choose your age group first.": "Välj först din åldersgrupp.",
      "This chat is for under-18s. Adults have their own chat, where you are welcome:": "Den här chatten är för dig som är under 18. Vuxna har en egen chatt, där du är välkommen:",
      "Go to {name}": "Gå till {name}",
      "The chat is closed just now": "Chatten är stängd just nu",
      "Opening hours": "Öppettider",
      "{day} {opens}–{closes}": "{day} {opens}–{closes}",
      "No regular opening hours.": "Inga regelbundna öppettider.",
      "Closed on public holidays.": "Stängd på helgdagar.",
      "{days}: closed": "{days}: stängd",
      "{days}: {opens}–{closes}": "{days}: {opens}–{closes}",
      "{days}: {opens}–{closes} on weekdays": "{days}: vardagar {opens}–{closes}",
      "{days}: open around the clock": "{days}: öppet dygnet runt",
      "Coming changes": "Kommande ändringar",
      "The times are Finnish time.": "Tiderna är finsk tid.",
      "{time} Finnish time ({local} your time)": "{time} finsk tid ({local} din tid)",
      "Help available now": "Hjälp som finns nu",
      "In an emergency, call 112.": "I en nödsituation, ring 112.",
      "open 24/7": "öppet dygnet runt",
      "More services": "Fler tjänster",
      "Show services of your area too": "Visa också tjänster i ditt område",
      "Nationwide services only": "Endast riksomfattande tjänster",
      "Your choice is only used on this screen: it is not sent or saved.": "Ditt val används bara på den här skärmen: det skickas inte och sparas inte.",
      "Call {phone}": "Ring {phone}",
      "Group chat: {name}": "Gruppchatt: {name}",
      "Anonymous feedback": "Anonym respons",
      "Your answers are anonymous. They are stored with the service and the month only: not with your chat, your helper, your address or the time. Answer only what you want to.": "Dina svar är anonyma. De sparas bara med tjänsten och månaden: inte med din chatt, din hjälpare, din adress eller tidpunkten. Svara bara på det du vill.",
      "Send feedback": "Skicka respons",
      "Thank you for your feedback. It helps us make the service better.": "Tack för din respons. Den hjälper oss att göra tjänsten bättre.",
      "Thank you, we already received several answers from this connection. Please try again later.": "Tack, vi har redan fått flera svar från den här uppkopplingen. Försök igen senare.",
      "New messages: {n}": "Nya meddelanden: {n}",
      "in the queue": "i kön",
      "chat open": "chatten pågår",
      "chat ended": "chatten avslutad",
      "Write a letter": "Skriv ett brev",
      "You can write at any time of day. You need no e-mail address and no account, and your name is not asked.": "Du kan skriva när som helst på dygnet. Du behöver ingen e-postadress och inget konto, och ditt namn frågas inte.",
      "I already have a letter code": "Jag har redan en brevkod",
      "Your letter": "Ditt brev",
      "What is it about? (if you like)": "Vad handlar det om? (om du vill)",
      "After sending you get a letter code. Write it down: with it you read the replies. Whoever holds the code can read the replies, so keep it to yourself.": "Efter att du skickat får du en brevkod. Skriv upp den: med den läser du svaren. Vem som helst som har koden kan läsa svaren, så håll den för dig själv.",
      "Send the letter": "Skicka brevet",
      "Your letter was sent": "Ditt brev skickades",
      "Your letter code:": "Din brevkod:",
      "Write the code down now: it is shown only this once and cannot be sent to you again. With it you read the replies, write more or end the conversation. Whoever holds the code can read the replies.": "Skriv upp koden nu: den visas bara den här gången och kan inte skickas till dig igen. Med den läser du svaren, skriver mer eller avslutar samtalet. Vem som helst som har koden kan läsa svaren.",
      "Read the replies": "Läs svaren",
      "Type the letter code you got when you wrote.": "Skriv brevkoden som du fick när du skrev.",
      "Letter code": "Brevkod",
      "Read": "Läs",
      "Read the replies with the code": "Läs svaren med koden",
      "Your letters": "Dina brev",
      "Your letter is waiting for an answer.": "Ditt brev väntar på svar.",
      "Write again": "Skriv igen",
      "Your letter was sent.": "Ditt brev skickades.",
      "Ending erases every letter of this conversation at once. The code stops working.": "Att avsluta raderar alla brev i samtalet genast. Koden slutar fungera.",
      "End and erase the conversation": "Avsluta och radera samtalet",
      "The conversation was erased": "Samtalet raderades",
      "Every letter of the conversation has been erased. Thank you for writing.": "Alla brev i samtalet har raderats. Tack för att du skrev.",
      "Back": "Tillbaka"
    }
  };
  // END TRANSLATIONS

  var LOCALES = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" };
  var AGE_RANGES = ["under_13", "13_15", "16_17", "18_plus"];
  // The one place the asker's label of each helper role is written (HelperProfile.Role).
  var ROLE_BADGES = { peer: "peer", volunteer: "volunteer" };

  function pickLanguage(value) {
    var code = String(value || "").slice(0, 2).toLowerCase();
    return LOCALES[code] ? code : "fi";
  }

  var config = {
    services: (script.getAttribute("data-services") || "")
      .split(",")
      .map(function (slug) { return slug.trim(); })
      .filter(Boolean),
    language: pickLanguage(script.getAttribute("data-language") || document.documentElement.lang),
    neutralUrl: script.getAttribute("data-neutral-url") || DEFAULT_NEUTRAL_URL,
    css: script.getAttribute("data-css") || BASE + "/static/chats/widget.css"
  };
  var CATALOG = TRANSLATIONS[config.language] || {};

  function has(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key);
  }

  function t(key, values) {
    var english = MESSAGES[key];
    var text = has(CATALOG, english) ? CATALOG[english] : english;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  // --- Storage: sessionStorage only ------------------------------------------------------------

  function loadStored() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      return stored && typeof stored.token === "string" && typeof stored.slug === "string"
        ? stored
        : null;
    } catch (error) {
      return null;
    }
  }

  function store(slug, token) {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify({ slug: slug, token: token }));
    } catch (error) {
      // Storage may be disabled; the chat still works until the page is reloaded.
    }
  }

  function forget() {
    try {
      window.sessionStorage.removeItem(STORE_KEY);
    } catch (error) {
      // Nothing stored, nothing to clear.
    }
  }

  // --- Small DOM helpers (text only, never HTML) -----------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else if (name === "className") {
        node.className = value;
      } else if (name.slice(0, 2) === "on") {
        node.addEventListener(name.slice(2), value);
      } else {
        node.setAttribute(name, value === true ? "" : value);
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function safeUrl(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function trimUrl(raw) {
    // A sentence's closing punctuation is not part of the address.
    return raw.replace(/[.,;:!?)\]]+$/, "");
  }

  function linkify(text, into) {
    var last = 0;
    text.replace(URL_PATTERN, function (raw, offset) {
      var candidate = trimUrl(raw);
      var href = safeUrl(candidate);
      if (!href) {
        return raw;
      }
      into.appendChild(document.createTextNode(text.slice(last, offset)));
      into.appendChild(
        el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: candidate })
      );
      last = offset + candidate.length;
      return raw;
    });
    into.appendChild(document.createTextNode(text.slice(last)));
  }

  function urlsIn(text) {
    return (text.match(URL_PATTERN) || []).map(trimUrl).map(safeUrl).filter(Boolean);
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); })
      .join("");
  }

  // --- Times in words --------------------------------------------------------------------------

  function helsinkiDay(date) {
    return date.toLocaleDateString("en-CA", { timeZone: "Europe/Helsinki" });
  }

  function clock(date) {
    return date.toLocaleTimeString(LOCALES[config.language], {
      hour: "2-digit",
      minute: "2-digit",
      timeZone: "Europe/Helsinki"
    });
  }

  function localClock(date) {
    return date.toLocaleTimeString(LOCALES[config.language], { hour: "2-digit", minute: "2-digit" });
  }

  // The browser's zone differs from Helsinki's (at `date`): say which time a time is.
  function zoneDiffers(date) {
    return clock(date) !== localClock(date);
  }

  function zoned(date) {
    return zoneDiffers(date) ? t("time_zoned", { time: clock(date), local: localClock(date) }) : clock(date);
  }

  function inWords(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) {
      return "";
    }
    var now = new Date();
    var tomorrow = new Date(now.getTime() + 24 * 3600 * 1000);
    if (helsinkiDay(date) === helsinkiDay(now)) {
      return t("today", { time: zoned(date) });
    }
    if (helsinkiDay(date) === helsinkiDay(tomorrow)) {
      return t("tomorrow", { time: zoned(date) });
    }
    var day = date.toLocaleDateString(LOCALES[config.language], {
      weekday: "long",
      day: "numeric",
      month: "numeric",
      timeZone: "Europe/Helsinki"
    });
    return t("on_day", { day: day, time: zoned(date) });
  }

  function lineStatus(line) {
    if (line.open) {
      var closes = line.closes_at ? new Date(line.closes_at) : null;
      return closes && helsinkiDay(closes) === helsinkiDay(new Date())
        ? t("open_until", { time: zoned(closes) })
        : t("open_now");
    }
    return line.opens_at ? t("closed") + ". " + t("opens", { when: inWords(line.opens_at) }) : t("closed") + ". " + t("no_opening");
  }

  // --- State -----------------------------------------------------------------------------------

  var state = {
    lines: [],
    line: null,
    slug: null,
    token: null,
    view: "loading",
    helper: null,
    lastId: 0,
    messages: {}, // id -> true, for de-duplication
    pending: [], // {client_id, text, node}: sent or waiting to be sent, not yet echoed
    referrals: [],
    ended: null,
    ws: null,
    retries: 0,
    reconnectTimer: null,
    typingTimer: null,
    lastTypingSent: 0,
    lastEscape: 0,
    statusTimer: null,
    resuming: false,
    replaying: false,
    unread: 0,
    launcherState: null,
    history: null
  };

  // --- Layout ----------------------------------------------------------------------------------

  var ui = {};

  function build() {
    if (config.css !== "none") {
      document.head.appendChild(el("link", { rel: "stylesheet", href: config.css }));
    }
    ui.root = el("div", { className: "va-root", lang: config.language });
    ui.title = el("h2", { className: "va-title", id: "va-title", tabindex: "-1", text: t("title") });
    ui.minimise = el("button", {
      type: "button",
      className: "va-minimise",
      "aria-label": t("minimise"),
      text: "–",
      onclick: function () { setOpen(false); }
    });
    ui.exitInPanel = quickExitButton();
    ui.status = el("p", { className: "va-status", role: "status", "aria-live": "polite" });
    ui.body = el("div", { className: "va-body" });
    ui.panel = el(
      "section",
      { className: "va-panel", id: "va-panel", role: "dialog", "aria-labelledby": "va-title", hidden: true },
      [
        el("div", { className: "va-head" }, [ui.title, ui.exitInPanel, ui.minimise]),
        ui.status,
        ui.body
      ]
    );
    ui.launcher = el(
      "button",
      {
        type: "button",
        className: "va-launcher",
        "aria-expanded": "false",
        "aria-controls": "va-panel",
        onclick: function () { setOpen(ui.panel.hidden); }
      },
      [
        // The name is the visible text first (axe: label-content-name-mismatch), then what a
        // screen reader needs besides: what the button does and how many messages are new.
        el("span", { className: "va-launcher-icon", "aria-hidden": "true" }),
        t("launcher"),
        el("span", { className: "va-visually-hidden", text: " – " + t("launcher_label") }),
        (ui.launcherState = el("span", { className: "va-launcher-state", hidden: true })),
        (ui.unread = el("span", { className: "va-unread", "aria-hidden": "true", hidden: true })),
        (ui.unreadText = el("span", { className: "va-visually-hidden" }))
      ]
    );
    // Read out while the panel is minimised: new messages (the host page's title is untouched).
    ui.announce = el("p", { className: "va-visually-hidden", role: "status", "aria-live": "polite" });
    ui.exitOutside = quickExitButton();
    ui.root.appendChild(ui.panel);
    ui.root.appendChild(el("div", { className: "va-dock" }, [ui.exitOutside, ui.launcher, ui.announce]));
    // First in the page's tab order, whatever the host page holds: quick exit is one Tab away.
    document.body.insertBefore(ui.root, document.body.firstChild);
    document.addEventListener("keydown", onKeydown, true);
    window.addEventListener("online", function () { if (state.token && !isConnected()) { reconnectNow(); } });
    window.addEventListener("offline", function () { if (state.ws) { state.ws.close(); } });
  }

  function quickExitButton() {
    return el("button", {
      type: "button",
      className: "va-exit",
      title: t("quick_exit_hint"),
      "aria-label": t("quick_exit_hint"),
      text: t("quick_exit"),
      onclick: quickExit
    });
  }

  // The launcher tells a minimised asker where the chat is (queued, chatting, ended) and how
  // many messages came meanwhile.
  function setLauncherState(name) {
    state.launcherState = name;
    ui.launcherState.hidden = !name;
    ui.launcherState.textContent = name ? t("state_" + name) : "";
    ui.launcher.className = "va-launcher" + (name ? " va-launcher-" + name : "");
    updateLauncherLabel();
  }

  function updateLauncherLabel() {
    ui.unreadText.textContent = state.unread ? ", " + t("unread", { n: state.unread }) : "";
  }

  function countUnread(sender) {
    if (!ui.panel.hidden || sender === "asker" || state.replaying) {
      return;
    }
    state.unread += 1;
    ui.unread.textContent = String(state.unread);
    ui.unread.hidden = false;
    ui.announce.textContent = t("unread", { n: state.unread });
    updateLauncherLabel();
  }

  function clearUnread() {
    state.unread = 0;
    ui.unread.hidden = true;
    ui.unread.textContent = "";
    ui.announce.textContent = "";
    updateLauncherLabel();
  }

  function setOpen(open) {
    ui.panel.hidden = !open;
    ui.exitOutside.hidden = open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.root.classList.toggle("va-open", open);
    if (open) {
      clearUnread();
      if (state.view === "loading" && !state.lines.length) {
        loadLines();
      }
      var focusable = ui.body.querySelector("textarea, input, button, a");
      (focusable || ui.title).focus();
    } else {
      ui.launcher.focus();
    }
  }

  function setStatus(text) {
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || active === ui.title || !document.contains(active);
  }

  function keepFocus(node) {
    // A view replaced the one that had the focus: give it to the new view's first heading,
    // so a keyboard or screen reader user goes on from there.
    if (!ui.panel.hidden && focusLost()) {
      node.setAttribute("tabindex", "-1");
      node.focus();
    }
  }

  function clearBody() {
    while (ui.body.firstChild) {
      ui.body.removeChild(ui.body.firstChild);
    }
    if (state.statusTimer) {
      clearInterval(state.statusTimer);
      state.statusTimer = null;
    }
  }

  // --- Quick exit ------------------------------------------------------------------------------

  function quickExit() {
    try {
      if (state.token && isConnected()) {
        // The helper learns the asker had to leave; the chat's data is erased with it.
        state.ws.send(JSON.stringify({ type: "end" }));
      }
    } catch (error) {
      // Leaving matters more than telling.
    }
    forget();
    try {
      window.sessionStorage.clear();
    } catch (error) {
      // Storage disabled: nothing to clear.
    }
    document.documentElement.hidden = true;
    window.location.replace(config.neutralUrl);
  }

  function onKeydown(event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    if (now - state.lastEscape < ESCAPE_TWICE_MS) {
      event.preventDefault();
      quickExit();
      return;
    }
    state.lastEscape = now;
  }

  // --- Before the chat: lines, rules -----------------------------------------------------------

  function loadLines() {
    state.view = "loading";
    clearBody();
    setStatus(t("loading"));
    var url =
      BASE + "/api/widget/?services=" + encodeURIComponent(config.services.join(",")) +
      "&language=" + config.language;
    return fetch(url, { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        state.lines = data.lines || [];
        setStatus("");
        if (state.view !== "loading") {
          return;
        }
        if (state.lines.length === 1) {
          showIntro(state.lines[0]);
        } else {
          showPicker();
        }
      })
      .catch(function () {
        setStatus("");
        clearBody();
        ui.body.appendChild(el("p", { className: "va-error", role: "alert", text: t("unavailable") }));
        ui.body.appendChild(el("button", { type: "button", className: "va-button", text: t("retry"), onclick: loadLines }));
      });
  }

  function refreshLines(then) {
    var url =
      BASE + "/api/widget/?services=" + encodeURIComponent(config.services.join(",")) +
      "&language=" + config.language;
    fetch(url, { credentials: "omit", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.lines) {
          state.lines = data.lines;
          then();
        }
      })
      .catch(function () {});
  }

  function showPicker() {
    state.view = "picker";
    setLauncherState(null);
    clearBody();
    var list = el("ul", { className: "va-lines" });
    state.lines.forEach(function (line) {
      list.appendChild(
        el("li", {}, [
          el(
            "button",
            { type: "button", className: "va-line " + (line.open ? "va-line-open" : "va-line-closed"), onclick: function () { showIntro(line); } },
            [
              el("span", { className: "va-line-name", text: line.name }),
              el("span", { className: "va-line-state" + (line.open ? " va-is-open" : " va-is-closed"), text: lineStatus(line) })
            ]
          )
        ])
      );
    });
    var heading = el("h3", { className: "va-subtitle", text: t("choose_line") });
    ui.body.appendChild(heading);
    ui.body.appendChild(list);
    keepFocus(heading);
    state.statusTimer = setInterval(function () {
      refreshLines(function () { if (state.view === "picker") { showPicker(); } });
    }, STATUS_REFRESH_MS);
  }

  function backToPicker() {
    return state.lines.length > 1
      ? el("button", { type: "button", className: "va-link-button va-back", text: "← " + t("back"), onclick: showPicker })
      : null;
  }

  // The line's name, state, who it is for and a notice: the top of the intro and closed views.
  function lineHead(line, notice) {
    return [
      backToPicker(),
      el("h3", { className: "va-subtitle", text: line.name }),
      el("p", { className: "va-line-state" + (line.open ? " va-is-open" : " va-is-closed"), text: lineStatus(line) }),
      line.description ? el("p", { className: "va-description", text: line.description }) : null,
      notice ? el("p", { className: "va-error", role: "alert", text: notice }) : null
    ].filter(Boolean);
  }

  // Every minute: redraw the line's view when it opens or closes.
  function watchLine(line) {
    state.statusTimer = setInterval(function () {
      refreshLines(function () {
        var fresh = state.lines.filter(function (l) { return l.slug === line.slug; })[0];
        if ((state.view === "intro" || state.view === "closed") && fresh && fresh.open !== line.open) {
          showIntro(fresh);
        }
      });
    }, STATUS_REFRESH_MS);
  }

  function showIntro(line, notice) {
    state.line = line;
    state.slug = line.slug;
    setLauncherState(null);
    if (!line.open) {
      showClosed(line, notice);
      return;
    }
    state.view = "intro";
    clearBody();
    var children = lineHead(line, notice);
    var heading = children.filter(function (node) { return node.tagName === "H3"; })[0];
    if (line.rules) {
      children.push(el("h4", { className: "va-rules-heading", id: "va-rules-heading", text: t("rules_heading") }));
      children.push(el("div", { className: "va-rules", id: "va-rules", tabindex: "0", role: "region", "aria-labelledby": "va-rules-heading" }, [
        el("p", { text: line.rules })
      ]));
    }
    if (line.open) { // always: a closed line has its own view (showClosed)
      var ages = line.asks_age ? ageQuestion(line.age_ranges) : null;
      var code = el("input", { type: "text", id: "va-code", className: "va-code", autocomplete: "off", maxlength: "64" });
      var checkbox = el("input", { type: "checkbox", id: "va-accept", "aria-describedby": line.rules ? "va-rules" : null });
      var problem = el("p", { className: "va-error", id: "va-accept-error", role: "alert" });
      var form = el(
        "form",
        {
          className: "va-start",
          onsubmit: function (event) {
            event.preventDefault();
            if (!checkbox.checked) {
              problem.textContent = t("must_accept");
              checkbox.setAttribute("aria-invalid", "true");
              checkbox.focus();
              return;
            }
            var age = ages ? ages.value() : null;
            if (ages && !age) {
              problem.textContent = t("must_age");
              ages.focus();
              return;
            }
            if (ages && ages.outside(age)) {
              showAdultLine(line);
              return;
            }
            startChat(line, code.value.trim(), age);
          }
        },
        [
          ages && ages.node,
          el("div", { className: "va-accept" }, [checkbox, el("label", { for: "va-accept", text: t("accept") })]),
          el("details", { className: "va-code-box" }, [
            el("summary", { text: t("code_label") }),
            el("label", { for: "va-code", className: "va-visually-hidden", text: t("code_label") }),
            code
          ]),
          problem,
          el("button", { type: "submit", className: "va-button va-primary", text: t("start") })
        ]
      );
      children.push(form);
    }
    var group = groupLink(line);
    if (group) {
      children.push(group);
    }
    children.forEach(function (child) { ui.body.appendChild(child); });
    keepFocus(heading);
    lettersOffer(line);
    watchLine(line);
  }

  // --- A closed line: its hours, the help available now, other services (issue 20) -----------
  // One function per view; showClosed lists its parts in order, so another entry (letters,
  // issue 22) is one more line there.

  function showClosed(line, notice) {
    state.view = "closed";
    clearBody();
    var parts = lineHead(line, notice);
    var heading = parts.filter(function (node) { return node.tagName === "H3"; })[0];
    parts.push(helpNowBlock(line));
    parts.push(hoursBlock(line));
    parts.push(referralsBlock(line.referrals, t("more_services"), function (entry) { return !entry.open_now; }));
    parts.push(groupLink(line));
    parts.filter(Boolean).forEach(function (part) { ui.body.appendChild(part); });
    keepFocus(heading);
    lettersOffer(line);
    watchLine(line);
  }

  function utcDate(isoDay, hhmm) {
    var day = isoDay.split("-").map(Number);
    var time = (hhmm || "12:00").split(":").map(Number);
    return new Date(Date.UTC(day[0], day[1] - 1, day[2], time[0], time[1]));
  }

  function wallClock(hhmm) {
    // A Helsinki wall-clock time as the asker's language writes it (12.00, 12:00, 12:00).
    return utcDate("2024-01-01", hhmm).toLocaleTimeString(LOCALES[config.language], {
      hour: "2-digit",
      minute: "2-digit",
      timeZone: "UTC"
    });
  }

  function weekdayName(weekday) {
    // 0 = Monday; 1 January 2024 was a Monday.
    return utcDate("2024-01-0" + (weekday + 1)).toLocaleDateString(LOCALES[config.language], {
      weekday: "long",
      timeZone: "UTC"
    });
  }

  function dayLabel(isoDay) {
    return utcDate(isoDay).toLocaleDateString(LOCALES[config.language], {
      weekday: "short",
      day: "numeric",
      month: "numeric",
      timeZone: "UTC"
    });
  }

  function exceptionText(exception) {
    var days = exception.first_day === exception.last_day
      ? dayLabel(exception.first_day)
      : dayLabel(exception.first_day) + " – " + dayLabel(exception.last_day);
    if (exception.closed) {
      return t("exception_closed", { days: days });
    }
    if (exception.opens === "00:00" && exception.closes === "00:00") {
      return t("exception_all_day", { days: days });
    }
    var values = { days: days, opens: wallClock(exception.opens), closes: wallClock(exception.closes) };
    return t(exception.weekdays_only ? "exception_weekdays" : "exception_hours", values);
  }

  function hoursBlock(line) {
    if (!line.week) {
      return null; // a server without the timetable
    }
    var week = el("ul", { className: "va-hours" });
    line.week.forEach(function (day) {
      week.appendChild(el("li", {
        text: t("hours_day", { day: weekdayName(day.weekday), opens: wallClock(day.opens), closes: wallClock(day.closes) })
      }));
    });
    var block = el("section", { className: "va-section", "aria-labelledby": "va-hours-heading" }, [
      el("h4", { className: "va-rules-heading", id: "va-hours-heading", text: t("hours_heading") }),
      line.week.length ? week : el("p", { text: t("hours_none") }),
      el("p", { className: "va-hint", text: t("holidays_closed") })
    ]);
    if ((line.exceptions || []).length) {
      var changes = el("ul", { className: "va-hours" });
      line.exceptions.forEach(function (exception) {
        changes.appendChild(el("li", { text: exceptionText(exception) }));
      });
      block.appendChild(el("h5", { className: "va-small-heading", text: t("exceptions_heading") }));
      block.appendChild(changes);
    }
    if (zoneDiffers(new Date())) {
      block.appendChild(el("p", { className: "va-hint va-zone", text: t("finnish_time") }));
    }
    return block;
  }

  function helpNowBlock(line) {
    var now = (line.referrals || []).filter(function (entry) { return entry.open_now; });
    var list = el("ul", { className: "va-referrals va-help-now" });
    now.forEach(function (entry) { list.appendChild(referralItem(entry)); });
    return el("section", { className: "va-section va-urgent", "aria-labelledby": "va-help-now-heading" }, [
      el("h4", { className: "va-rules-heading", id: "va-help-now-heading", text: t("help_now") }),
      now.length ? list : null,
      el("p", { className: "va-emergency", text: t("emergency") })
    ]);
  }

  function referralItem(entry) {
    var href = entry.url ? safeUrl(entry.url) : null;
    var item = el("li", { className: "va-referral" }, [
      href
        ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", className: "va-referral-name", text: entry.name })
        : el("strong", { className: "va-referral-name", text: entry.name })
    ]);
    var when = entry.always_open ? t("open_always") : entry.hours;
    if (entry.phone) {
      item.appendChild(el("a", { href: "tel:" + entry.phone.replace(/[^+\d]/g, ""), className: "va-phone", text: t("call", { phone: entry.phone }) }));
    }
    if (when) {
      item.appendChild(el("span", { className: "va-referral-hours", text: when }));
    }
    if (entry.description) {
      item.appendChild(el("span", { className: "va-referral-text", text: entry.description }));
    }
    return item;
  }

  // Referral entries with an optional region pick. The pick filters this list in the browser:
  // it is never sent anywhere or stored.
  function referralsBlock(entries, title, keep) {
    entries = (entries || []).filter(keep || function () { return true; });
    if (!entries.length) {
      return null;
    }
    var regions = entries
      .map(function (entry) { return entry.region; })
      .filter(function (region, index, all) { return region && all.indexOf(region) === index; })
      .sort();
    var list = el("ul", { className: "va-referrals" });
    function draw(region) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      entries
        .filter(function (entry) { return !entry.region || entry.region === region; })
        .forEach(function (entry) { list.appendChild(referralItem(entry)); });
    }
    var id = "va-region-" + Math.random().toString(36).slice(2, 8);
    var block = el("section", { className: "va-section" }, [el("h4", { className: "va-rules-heading", text: title })]);
    if (regions.length) {
      var select = el("select", { id: id, className: "va-region", onchange: function () { draw(select.value); } }, [
        el("option", { value: "", text: t("region_all") })
      ].concat(regions.map(function (region) { return el("option", { value: region, text: region }); })));
      block.appendChild(el("label", { for: id, text: t("region_label") }));
      block.appendChild(select);
      block.appendChild(el("p", { className: "va-hint", text: t("region_hint") }));
    }
    block.appendChild(list);
    draw("");
    return block;
  }

  function groupLink(line) {
    var href = line && line.group && line.group.url ? safeUrl(BASE + line.group.url) : null;
    return href
      ? el("p", { className: "va-group" }, [el("a", { href: href, className: "va-group-link", text: t("group_chat", { name: line.group.name }) })])
      : null;
  }

  // --- The socket ------------------------------------------------------------------------------

  function closeSocket() {
    if (state.ws) {
      state.ws.onclose = null;
      state.ws.close();
      state.ws = null;
    }
  }

  function isConnected() {
    return state.ws && state.ws.readyState === WebSocket.OPEN;
  }

  function send(frame) {
    if (!isConnected()) {
      return false;
    }
    state.ws.send(JSON.stringify(frame));
    return true;
  }

  function connect(onOpen) {
    if (state.ws) {
      state.ws.onclose = null;
      state.ws.close();
    }
    var url = BASE.replace(/^http/, "ws") + "/ws/ask/" + encodeURIComponent(state.slug) + "/";
    var ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = function () {
      state.retries = 0;
      setStatus("");
      onOpen();
    };
    ws.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(frame);
    };
    ws.onclose = function () {
      if (state.ws !== ws) {
        return;
      }
      state.ws = null;
      if (state.token && !state.ended) {
        scheduleReconnect();
      } else if (state.view === "connecting") {
        showIntro(state.line, t("error"));
      }
    };
  }

  function scheduleReconnect() {
    setStatus(t("reconnecting"));
    var delay = Math.min(30000, 1000 * Math.pow(2, state.retries)) + Math.random() * 500;
    state.retries += 1;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(reconnectNow, delay);
  }

  function reconnectNow() {
    clearTimeout(state.reconnectTimer);
    connect(resume);
  }

  function resume() {
    state.resuming = true;
    send({ type: "resume", token: state.token });
  }

  function startChat(line, code, age) {
    state.view = "connecting";
    state.ended = null;
    state.endedReason = null;
    state.endsAt = null;
    state.referrals = [];
    state.messages = {};
    state.lastId = 0;
    state.helper = null;
    state.pending = [];
    clearBody();
    setStatus(t("connecting"));
    state.code = code || null;
    connect(function () {
      var frame = { type: "start", language: config.language };
      if (code) {
        frame.code = code;
      }
      if (age) {
        frame.age = age;
      }
      send(frame);
    });
  }

  function resumeStored(stored) {
    state.slug = stored.slug;
    state.token = stored.token;
    state.line = state.lines.filter(function (l) { return l.slug === stored.slug; })[0] || { slug: stored.slug, name: "" };
    state.view = "connecting";
    setStatus(t("connecting"));
    connect(resume);
  }

  function handle(frame) {
    switch (frame.type) {
      case "queued":
        state.token = frame.token;
        store(state.slug, frame.token);
        showQueued(frame.position);
        showEstimate(frame);
        break;
      case "position":
        showQueued(frame.position);
        showEstimate(frame);
        afterResume();
        break;
      case "time_limit":
        state.endsAt = new Date(frame.ends_at);
        showTimeLeft();
        break;
      case "assigned":
        showAssigned(frame.helper);
        afterResume();
        break;
      case "history":
        // The state (position or assigned) follows; messages wait for the helper's name.
        state.history = frame.messages || [];
        if (!state.resuming) {
          afterResume();
        }
        break;
      case "message":
        addMessage(frame);
        break;
      case "typing":
        showTyping();
        break;
      case "ended":
        state.followUp = frame.follow_up || null;
        state.endedReason = frame.reason || null;
        showEnded(frame.by);
        break;
      case "closed":
        forget();
        state.token = null;
        showIntro(Object.assign({}, state.line, { open: false, opens_at: frame.opens_at }));
        break;
      case "error":
        handleError(frame);
        break;
      default:
        break;
    }
  }

  function afterResume() {
    var history = state.history;
    state.history = null;
    state.resuming = false;
    if (history) {
      state.replaying = true; // messages already seen before a reload are not "new"
      history.forEach(addMessage);
      state.replaying = false;
      resendPending(history);
    }
  }

  function handleError(frame) {
    state.resuming = false;
    if (frame.code === "not_found" && state.view === "connecting" && state.code) {
      closeSocket();
      showIntro(state.line, t("bad_code"));
      return;
    }
    if (frame.code === "not_found" && state.view !== "chat") {
      // The stored chat ended while we were away.
      forget();
      state.token = null;
      closeSocket();
      setStatus("");
      if (state.line && state.line.name) {
        showIntro(state.line, t("not_found"));
      } else {
        loadLines();
      }
      return;
    }
    if (frame.code === "not_found" && state.view === "chat") {
      showEnded("system");
      return;
    }
    if (frame.code === "queue_full" || frame.code === "over_age") {
      forget();
      state.token = null;
      closeSocket();
      setStatus("");
      if (frame.code === "queue_full") {
        showQueueFull(frame);
      } else {
        showAdultLine(state.line, frame.service);
      }
      return;
    }
    if (frame.code === "blocked") {
      forget();
      state.token = null;
      showIntro(Object.assign({}, state.line, { open: false }), frame.message);
      return;
    }
    if (frame.code === "rate_limited" && state.view === "connecting" && has(MESSAGES, "limit_" + frame.limit)) {
      // A start (or a follow-up code) refused by a per-address limit: nothing was created.
      state.token = null;
      closeSocket();
      setStatus("");
      showIntro(state.line, t("limit_" + frame.limit));
      return;
    }
    var worded = { rate_limited: 1, too_long: 1 };
    setStatus(worded[frame.code] ? t(frame.code) : t("error"));
  }

  // --- Waiting and chatting (one view: an asker may write while waiting) ----------------------

  function showQueued(position) {
    showChat();
    state.helper = null;
    ui.position.textContent = position === 1 ? t("queued_next") : t("queued", { n: position });
    ui.queueBox.hidden = false;
    ui.end.textContent = t("leave_queue");
    setLauncherState("queued");
  }

  function showAssigned(helper) {
    var known = state.helper && state.helper.name === helper.name;
    state.helper = helper;
    showChat();
    ui.queueBox.hidden = true;
    ui.end.textContent = t("end");
    setLauncherState("chatting");
    if (!known && !state.resuming) {
      addInfo(t("joined", { name: helper.name }));
    }
  }

  function showChat() {
    if (state.view === "chat") {
      return;
    }
    state.view = "chat";
    clearBody();
    ui.log = el("ol", { className: "va-messages" });
    ui.typing = el("p", { className: "va-typing", hidden: true });
    ui.position = el("p", { className: "va-position", role: "status", "aria-live": "polite" });
    ui.estimate = el("p", { className: "va-estimate", hidden: true });
    ui.queueBox = el("div", { className: "va-queue", hidden: true }, [
      ui.position,
      ui.estimate,
      el("p", { className: "va-hint", text: t("queued_hint") })
    ]);
    ui.timeLeft = el("p", { className: "va-time-left", role: "status", hidden: true });
    ui.input = el("textarea", {
      id: "va-input",
      className: "va-input",
      rows: "2",
      maxlength: String(MAX_CHARS),
      placeholder: t("message_label"),
      oninput: onInput,
      onkeydown: function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          submitMessage();
        }
      }
    });
    ui.end = el("button", { type: "button", className: "va-button va-end", text: t("end"), onclick: endChat });
    ui.subtitle = el("h3", { className: "va-subtitle", text: state.line.name || t("title") });
    ui.body.appendChild(ui.subtitle);
    ui.body.appendChild(ui.queueBox);
    ui.body.appendChild(ui.timeLeft);
    ui.body.appendChild(
      el("div", {
        className: "va-log",
        role: "log",
        "aria-live": "polite",
        "aria-relevant": "additions",
        "aria-label": t("title"),
        tabindex: "0"
      }, [ui.log])
    );
    ui.body.appendChild(ui.typing);
    ui.body.appendChild(
      el("form", { className: "va-compose", onsubmit: function (event) { event.preventDefault(); submitMessage(); } }, [
        el("label", { for: "va-input", className: "va-visually-hidden", text: t("message_label") }),
        ui.input,
        el("button", { type: "submit", className: "va-button va-primary", text: t("send") })
      ])
    );
    ui.body.appendChild(ui.end);
    if (!ui.panel.hidden) {
      ui.input.focus();
    }
  }

  function senderLabel(sender) {
    if (sender === "asker") {
      return [t("you")];
    }
    if (sender === "system") {
      return [t("system")];
    }
    var helper = state.helper || { name: t("helper"), role: "professional" };
    var parts = [helper.name];
    // What the asker is told of the helper's role: chatvertainen (a peer with own experience)
    // or vapaaehtoinen (a trained volunteer); a professional carries no badge.
    if (ROLE_BADGES[helper.role]) {
      parts.push(el("span", { className: "va-badge", text: t(ROLE_BADGES[helper.role]) }));
    }
    return parts;
  }

  function messageNode(sender, text, sentAt) {
    var body = el("p", { className: "va-text" });
    if (sender === "asker") {
      body.textContent = text;
    } else {
      linkify(text, body);
    }
    var meta = el("p", { className: "va-sender" }, senderLabel(sender).map(function (part, index) {
      return index ? part : el("strong", { text: part });
    }));
    if (sentAt) {
      meta.appendChild(el("time", { datetime: sentAt, className: "va-time", text: clock(new Date(sentAt)) }));
    }
    return el("li", { className: "va-message va-from-" + sender }, [meta, body]);
  }

  function addMessage(message) {
    if (typeof message.id !== "number" || state.messages[message.id]) {
      return;
    }
    if (message.id > state.lastId + 1 && state.token && isConnected()) {
      // A gap: something was lost on the way. The server sends the whole history again.
      resume();
      return;
    }
    showChat();
    state.messages[message.id] = true;
    state.lastId = Math.max(state.lastId, message.id);
    var pending = matchPending(message);
    var node = messageNode(message.sender, message.text, message.sent_at);
    if (pending && pending.node && pending.node.parentNode) {
      pending.node.parentNode.replaceChild(node, pending.node);
    } else {
      ui.log.appendChild(node);
    }
    countUnread(message.sender);
    if (message.sender !== "asker") {
      urlsIn(message.text).forEach(function (url) {
        if (state.referrals.indexOf(url) < 0) {
          state.referrals.push(url);
        }
      });
      if (message.sender === "helper") {
        ui.typing.hidden = true;
      }
    }
    scrollDown();
  }

  function matchPending(message) {
    if (message.sender !== "asker") {
      return null;
    }
    for (var i = 0; i < state.pending.length; i += 1) {
      var candidate = state.pending[i];
      if (message.client_id ? candidate.client_id === message.client_id : candidate.text === message.text) {
        state.pending.splice(i, 1);
        return candidate;
      }
    }
    return null;
  }

  function resendPending(history) {
    var seen = {};
    history.forEach(function (message) {
      if (message.client_id) {
        seen[message.client_id] = true;
      }
    });
    state.pending.forEach(function (item) {
      if (!seen[item.client_id]) {
        send({ type: "message", text: item.text, client_id: item.client_id });
      }
    });
  }

  function addInfo(text) {
    if (!ui.log) {
      return;
    }
    ui.log.appendChild(el("li", { className: "va-info", text: text }));
    scrollDown();
  }

  function scrollDown() {
    var box = ui.log && ui.log.parentNode;
    if (box) {
      box.scrollTop = box.scrollHeight;
    }
  }

  function submitMessage() {
    var text = ui.input.value;
    if (!text.trim()) {
      return;
    }
    if (text.length > MAX_CHARS) {
      setStatus(t("too_long"));
      return;
    }
    var item = { client_id: randomId(), text: text };
    item.node = messageNode("asker", text, null);
    item.node.classList.add("va-pending");
    item.node.querySelector(".va-sender").appendChild(el("span", { className: "va-time", text: t("sending") }));
    ui.log.appendChild(item.node);
    state.pending.push(item);
    send({ type: "message", text: text, client_id: item.client_id });
    ui.input.value = "";
    scrollDown();
  }

  function onInput() {
    var now = Date.now();
    if (now - state.lastTypingSent > TYPING_SEND_MS) {
      state.lastTypingSent = now;
      send({ type: "typing" });
    }
  }

  function showTyping() {
    if (!ui.typing || state.view !== "chat") {
      return;
    }
    ui.typing.textContent = t("typing", { name: (state.helper && state.helper.name) || t("helper") });
    ui.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(function () { ui.typing.hidden = true; }, TYPING_SHOWN_MS);
  }

  function endChat() {
    if (state.helper && !window.confirm(t("end_confirm"))) {
      return;
    }
    if (!send({ type: "end" })) {
      showEnded("asker");
    }
  }

  // --- Honest waiting, time limits, the youth line (docs/workflow.md) -------------------------

  function showEstimate(frame) {
    if (!ui.estimate || !("estimate" in frame)) {
      return; // a server without estimates
    }
    var estimate = frame.estimate;
    ui.estimate.textContent = estimate
      ? t("estimate", { min: estimate.min_minutes, max: estimate.max_minutes })
      : t("estimate_unknown");
    ui.estimate.hidden = false;
  }

  function showTimeLeft() {
    if (!ui.timeLeft || !state.endsAt || state.view !== "chat") {
      return;
    }
    var minutes = Math.max(0, Math.ceil((state.endsAt.getTime() - Date.now()) / 60000));
    ui.timeLeft.textContent = t("time_left", { n: minutes });
    ui.timeLeft.hidden = false;
    clearTimeout(state.timeLeftTimer);
    state.timeLeftTimer = setTimeout(showTimeLeft, 15000);
  }

  function ageQuestion(lineRanges) {
    // The line's ranges, sent with its texts (a line setting); the youth line's by default.
    var ranges = lineRanges && lineRanges.length ? lineRanges : AGE_RANGES.map(function (key) {
      return { key: key, label: t("age_" + key), outside: key === "18_plus" };
    });
    var inputs = [];
    var fieldset = el("fieldset", { className: "va-age" }, [
      el("legend", { text: t("age_question") }),
      el("p", { className: "va-hint", text: t("age_hint") })
    ]);
    ranges.forEach(function (range) {
      var input = el("input", { type: "radio", name: "va-age", id: "va-age-" + range.key, value: range.key });
      inputs.push(input);
      fieldset.appendChild(el("div", { className: "va-age-choice" }, [
        input,
        el("label", { for: "va-age-" + range.key, text: range.label })
      ]));
    });
    return {
      node: fieldset,
      outside: function (key) {
        return ranges.some(function (range) { return range.key === key && range.outside; });
      },
      value: function () {
        var chosen = inputs.filter(function (input) { return input.checked; })[0];
        return chosen ? chosen.value : null;
      },
      focus: function () { inputs[0].focus(); }
    };
  }

  function loadLine(slug, then) {
    fetch(BASE + "/api/widget/?services=" + encodeURIComponent(slug) + "&language=" + config.language, {
      credentials: "omit",
      cache: "no-store"
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { then(data && data.lines && data.lines[0]); })
      .catch(function () { then(null); });
  }

  function showAdultLine(line, service) {
    service = service || line.outside_age_line; // a line setting, sent with the line's texts
    var slug = service ? service.slug : "vakivalta";
    state.view = "intro";
    clearBody();
    var heading = el("h3", { className: "va-subtitle", text: line.name });
    ui.body.appendChild(heading);
    ui.body.appendChild(el("p", { text: t("adult_line") }));
    var known = state.lines.filter(function (l) { return l.slug === slug; })[0];
    var go = el("button", {
      type: "button",
      className: "va-button va-primary",
      text: t("go_to_line", { name: known ? known.name : (service && service.name) || slug }),
      onclick: function () {
        if (known) {
          showIntro(known);
          return;
        }
        loadLine(slug, function (found) {
          if (found) {
            showIntro(found);
          } else {
            setStatus(t("unavailable"));
          }
        });
      }
    });
    ui.body.appendChild(go);
    ui.body.appendChild(el("button", { type: "button", className: "va-link-button", text: "← " + t("back"), onclick: function () { showIntro(line); } }));
    keepFocus(heading);
  }

  function showQueueFull(frame) {
    state.view = "queue_full";
    setLauncherState(null);
    clearBody();
    var heading = el("h3", { className: "va-subtitle", text: t("queue_full_title") });
    ui.body.appendChild(heading);
    ui.body.appendChild(el("p", { role: "alert", text: frame.message }));
    ui.body.appendChild(el("p", { className: "va-line-state", text: frame.opens_at ? t("next_opening", { when: inWords(frame.opens_at) }) : t("no_opening") }));
    var directory = referralsBlock(state.line && state.line.referrals, t("other_services"));
    var referrals = directory ? [] : frame.referrals || [];
    if (directory) {
      ui.body.appendChild(directory);
    }
    if (referrals.length) {
      ui.body.appendChild(el("h4", { className: "va-rules-heading", text: t("other_services") }));
      var list = el("ul", { className: "va-referrals" });
      referrals.forEach(function (referral) {
        var href = referral.url ? safeUrl(referral.url) : null;
        list.appendChild(el("li", {}, [
          href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: referral.title }) : el("strong", { text: referral.title }),
          el("span", { text: " " + referral.text })
        ]));
      });
      ui.body.appendChild(list);
    }
    if (state.lines.length > 1) {
      ui.body.appendChild(el("button", { type: "button", className: "va-link-button", text: "← " + t("back"), onclick: showPicker }));
    }
    keepFocus(heading);
  }

  // --- After the chat --------------------------------------------------------------------------

  function showEnded(by) {
    state.ended = by || "system";
    state.token = null;
    forget();
    closeSocket();
    clearTimeout(state.reconnectTimer);
    setStatus("");
    state.view = "ended";
    setLauncherState("ended");
    var keepLog = ui.log && ui.log.parentNode && ui.log.parentNode.parentNode === ui.body ? ui.log.parentNode : null;
    clearBody();
    var heading = el("h3", { className: "va-subtitle", tabindex: "-1", text: t("ended_title") });
    ui.body.appendChild(heading);
    var endedText = state.endedReason && has(MESSAGES, "ended_" + state.endedReason) ? t("ended_" + state.endedReason) : t("ended_" + state.ended);
    state.endsAt = null;
    ui.body.appendChild(el("p", { role: "status", text: endedText + " " + t("erased") }));
    if (state.followUp && state.followUp.code) {
      ui.body.appendChild(el("p", {
        className: "va-follow-up",
        text: t("follow_up", { when: inWords(state.followUp.at), code: state.followUp.code })
      }));
    }
    if (state.referrals.length) {
      var list = el("ul", { className: "va-referrals" });
      state.referrals.forEach(function (url) {
        list.appendChild(el("li", {}, [el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url })]));
      });
      ui.body.appendChild(el("h4", { className: "va-rules-heading", text: t("referrals") }));
      ui.body.appendChild(list);
    }
    var directory = referralsBlock(state.line && state.line.referrals, t("other_services"));
    if (directory) {
      ui.body.appendChild(directory);
    }
    if (state.slug) {
      var slug = state.slug;
      ui.body.appendChild(el("button", {
        type: "button",
        className: "va-button va-feedback",
        text: t("feedback"),
        onclick: function () { showFeedback(slug); }
      }));
    }
    if (keepLog) {
      keepLog.classList.add("va-log-ended");
      ui.body.appendChild(keepLog);
    }
    ui.body.appendChild(el("button", {
      type: "button",
      className: "va-button",
      text: t("new_chat"),
      onclick: newChat
    }));
    if (!ui.panel.hidden) {
      heading.focus();
    }
  }

  // --- Letters (docs/letters.md): write at any hour, read the replies with the code -----------
  //
  // One block, one entry point: lettersOffer(line), called by the line's view. It speaks the
  // HTTP API of letters (docs/protocol.md §9). The code lives in a variable of the thread view
  // while that view is shown, never in storage, a cookie or an address; no view adds a history
  // entry, so quick exit (Esc twice) leaves nothing of the letters behind.

  var LETTER_MESSAGES = {
    letter_offer: gettext_noop("Write a letter"),
    letter_offer_hint: gettext_noop("You can write at any time of day. You need no e-mail address and no account, and your name is not asked."),
    letter_have_code: gettext_noop("I already have a letter code"),
    letter_label: gettext_noop("Your letter"),
    letter_topics: gettext_noop("What is it about? (if you like)"),
    letter_before: gettext_noop("After sending you get a letter code. Write it down: with it you read the replies. Whoever holds the code can read the replies, so keep it to yourself."),
    letter_send: gettext_noop("Send the letter"),
    letter_sent_title: gettext_noop("Your letter was sent"),
    letter_code_is: gettext_noop("Your letter code:"),
    letter_code_warning: gettext_noop("Write the code down now: it is shown only this once and cannot be sent to you again. With it you read the replies, write more or end the conversation. Whoever holds the code can read the replies."),
    letter_read_title: gettext_noop("Read the replies"),
    letter_read_hint: gettext_noop("Type the letter code you got when you wrote."),
    letter_code_label: gettext_noop("Letter code"),
    letter_read: gettext_noop("Read"),
    letter_read_with_code: gettext_noop("Read the replies with the code"),
    letter_yours: gettext_noop("Your letters"),
    letter_waiting: gettext_noop("Your letter is waiting for an answer."),
    letter_again: gettext_noop("Write again"),
    letter_again_sent: gettext_noop("Your letter was sent."),
    letter_end_hint: gettext_noop("Ending erases every letter of this conversation at once. The code stops working."),
    letter_end: gettext_noop("End and erase the conversation"),
    letter_ended_title: gettext_noop("The conversation was erased"),
    letter_ended: gettext_noop("Every letter of the conversation has been erased. Thank you for writing."),
    letter_back: gettext_noop("Back")
  };
  Object.keys(LETTER_MESSAGES).forEach(function (key) { MESSAGES[key] = LETTER_MESSAGES[key]; });

  var letterOffers = {}; // line slug -> what GET /api/letters/<slug>/ said, or null: none

  function letterApi(path, body) {
    var options = { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" };
    if (body) {
      options.method = "POST";
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify(Object.assign({ language: config.language }, body));
    }
    return fetch(BASE + "/api/letters/" + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw new Error(data.message || t("error"));
        }
        return data;
      });
    }, function () {
      throw new Error(t("error"));
    });
  }

  function lettersOffer(line) {
    // The entry point: on a line that takes letters, its view gets "Write a letter" and
    // "I already have a letter code" (any hour; above all when the chat is closed).
    var slug = line.slug;
    var shown = has(letterOffers, slug)
      ? Promise.resolve(letterOffers[slug])
      : letterApi(encodeURIComponent(slug) + "/?language=" + config.language).then(null, function () { return null; });
    shown.then(function (offer) {
      letterOffers[slug] = offer;
      var lineView = state.view === "intro" || state.view === "closed";
      if (!offer || !lineView || state.slug !== slug || ui.body.querySelector(".va-letters")) {
        return;
      }
      ui.body.appendChild(el("section", { className: "va-letters", "aria-labelledby": "va-letters-heading" }, [
        el("h4", { className: "va-rules-heading", id: "va-letters-heading", text: t("letter_offer") }),
        el("p", { className: "va-hint", text: t("letter_offer_hint") + " " + offer.answer_time }),
        el("button", { type: "button", className: "va-button" + (line.open ? "" : " va-primary"), text: t("letter_offer"), onclick: function () { showLetterForm(line, offer); } }),
        el("button", { type: "button", className: "va-link-button", text: t("letter_have_code"), onclick: function () { showLetterRead(line); } })
      ]));
    });
  }

  function letterView(name, title, line) {
    state.view = name;
    clearBody();
    setStatus("");
    if (line) {
      ui.body.appendChild(el("button", { type: "button", className: "va-link-button", text: "← " + t("letter_back"), onclick: function () { showIntro(line); } }));
    }
    var heading = el("h3", { className: "va-subtitle", tabindex: "-1", text: title });
    ui.body.appendChild(heading);
    return heading;
  }

  function letterProblem() {
    return el("p", { className: "va-error", role: "alert" });
  }

  function showLetterForm(line, offer) {
    var heading = letterView("letter-write", t("letter_offer"), line);
    var text = el("textarea", { id: "va-letter", className: "va-input va-letter-text", rows: "8", required: true });
    var topics = (offer.topics || []).map(function (topic) {
      var box = el("input", { type: "checkbox", id: "va-letter-topic-" + topic.slug, value: topic.slug });
      return { box: box, node: el("div", { className: "va-age-choice" }, [box, el("label", { for: box.id, text: topic.name })]) };
    });
    var problem = letterProblem();
    var submit = el("button", { type: "submit", className: "va-button va-primary", text: t("letter_send") });
    var form = el("form", {
      className: "va-start",
      onsubmit: function (event) {
        event.preventDefault();
        submit.disabled = true;
        letterApi(encodeURIComponent(line.slug) + "/", {
          text: text.value,
          topics: topics.filter(function (item) { return item.box.checked; }).map(function (item) { return item.box.value; })
        }).then(function (written) {
          showLetterCode(line, written);
        }, function (error) {
          submit.disabled = false;
          problem.textContent = error.message;
          text.focus();
        });
      }
    }, [
      el("p", { className: "va-line-state", text: offer.answer_time }),
      el("p", { className: "va-letter-warning", text: t("letter_before") }),
      el("label", { for: "va-letter", text: t("letter_label") }),
      text,
      topics.length ? el("fieldset", { className: "va-age va-letter-topics" }, [el("legend", { text: t("letter_topics") })].concat(topics.map(function (item) { return item.node; }))) : null,
      problem,
      submit
    ]);
    ui.body.appendChild(form);
    keepFocus(heading);
  }

  function showLetterCode(line, written) {
    var heading = letterView("letter-written", t("letter_sent_title"), null);
    ui.body.appendChild(el("p", { text: t("letter_code_is") }));
    ui.body.appendChild(el("p", { className: "va-letter-code", id: "va-letter-code", text: written.code }));
    ui.body.appendChild(el("p", { className: "va-letter-warning", role: "note", text: t("letter_code_warning") }));
    ui.body.appendChild(el("p", { className: "va-line-state", text: written.answer_time }));
    ui.body.appendChild(el("button", { type: "button", className: "va-button", text: t("letter_read_with_code"), onclick: function () { showLetterRead(line); } }));
    heading.focus();
  }

  function showLetterRead(line, notice) {
    var heading = letterView("letter-read", t("letter_read_title"), line);
    var code = el("input", { type: "text", id: "va-letter-code-input", className: "va-code", autocomplete: "off", autocapitalize: "off", spellcheck: "false", maxlength: "200" });
    var problem = letterProblem();
    problem.textContent = notice || "";
    ui.body.appendChild(el("form", {
      className: "va-start",
      onsubmit: function (event) {
        event.preventDefault();
        letterApi("read/", { code: code.value.trim() }).then(function (thread) {
          showLetterThread(line, code.value.trim(), thread);
        }, function (error) {
          problem.textContent = error.message;
          code.focus();
        });
      }
    }, [
      el("p", { className: "va-hint", text: t("letter_read_hint") }),
      el("label", { for: "va-letter-code-input", text: t("letter_code_label") }),
      code,
      problem,
      el("button", { type: "submit", className: "va-button va-primary", text: t("letter_read") })
    ]));
    keepFocus(heading);
  }

  function letterLog(thread) {
    var list = el("ol", { className: "va-messages va-letter-log" });
    (thread.letters || []).forEach(function (letter) {
      var mine = letter.from === "asker";
      list.appendChild(el("li", { className: "va-message " + (mine ? "va-from-asker" : "va-from-helper") }, [
        el("p", { className: "va-sender" }, [
          el("span", { text: mine ? t("you") : letter.helper || t("helper") }),
          el("span", { className: "va-time", text: " · " + inWords(letter.at) })
        ]),
        el("p", { className: "va-text", text: letter.text })
      ]));
    });
    return list;
  }

  function showLetterThread(line, code, thread, sent) {
    var heading = letterView("letter-thread", thread.name || t("letter_yours"), line);
    if (sent) {
      ui.body.appendChild(el("p", { className: "va-info", role: "status", text: t("letter_again_sent") }));
    }
    ui.body.appendChild(letterLog(thread));
    if (thread.waiting) {
      ui.body.appendChild(el("p", { className: "va-line-state", text: t("letter_waiting") + " " + thread.answer_time }));
    }
    var text = el("textarea", { id: "va-letter-again", className: "va-input va-letter-text", rows: "5" });
    var problem = letterProblem();
    ui.body.appendChild(el("form", {
      className: "va-start",
      onsubmit: function (event) {
        event.preventDefault();
        letterApi("reply/", { code: code, text: text.value }).then(function () {
          return letterApi("read/", { code: code });
        }).then(function (fresh) {
          showLetterThread(line, code, fresh, true);
        }, function (error) {
          problem.textContent = error.message;
          text.focus();
        });
      }
    }, [
      el("label", { for: "va-letter-again", text: t("letter_again") }),
      text,
      problem,
      el("button", { type: "submit", className: "va-button va-primary", text: t("letter_send") })
    ]));
    ui.body.appendChild(el("p", { className: "va-hint", text: t("letter_end_hint") }));
    ui.body.appendChild(el("button", {
      type: "button",
      className: "va-button va-end",
      text: t("letter_end"),
      onclick: function () {
        letterApi("end/", { code: code }).then(function () {
          showLetterEnded(line);
        }, function (error) {
          problem.textContent = error.message;
        });
      }
    }));
    keepFocus(heading);
  }

  function showLetterEnded(line) {
    var heading = letterView("letter-ended", t("letter_ended_title"), line);
    setStatus("");
    ui.body.appendChild(el("p", { role: "status", text: t("letter_ended") }));
    heading.focus();
  }

  function newChat() {
    ui.log = null;
    state.ended = null;
    setLauncherState(null);
    state.lines.length ? (state.lines.length === 1 ? showIntro(state.lines[0]) : showPicker()) : loadLines();
  }

  // --- Feedback, inside the widget and under its quick exit: no new tab, no page title --------

  function feedbackUrl(slug) {
    return BASE + "/api/feedback/" + encodeURIComponent(slug) + "/?lang=" + config.language;
  }

  function showFeedback(slug) {
    state.view = "feedback";
    clearBody();
    var heading = el("h3", { className: "va-subtitle", tabindex: "-1", text: t("feedback_title") });
    ui.body.appendChild(heading);
    ui.body.appendChild(el("p", { className: "va-description", text: t("feedback_privacy") }));
    heading.focus();
    fetch(feedbackUrl(slug), { credentials: "omit", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(); })
      .then(function (data) {
        if (state.view === "feedback") {
          ui.body.appendChild(feedbackForm(slug, data.questions || []));
        }
      })
      .catch(function () { setStatus(t("unavailable")); });
  }

  function feedbackQuestion(question) {
    var id = "va-fb-" + question.name;
    if (!question.choices) {
      return el("div", { className: "va-fb-question" }, [
        el("label", { for: id, text: question.label }),
        el("textarea", { id: id, name: question.name, className: "va-input", rows: "4", maxlength: String(question.max_length || MAX_CHARS) })
      ]);
    }
    var fieldset = el("fieldset", { className: "va-age va-fb-question" }, [el("legend", { text: question.label })]);
    var choices = el("div", { className: "va-fb-choices" });
    question.choices.forEach(function (choice) {
      if (choice[0] === "") {
        return;
      }
      choices.appendChild(el("div", { className: "va-age-choice" }, [
        el("input", { type: "radio", name: question.name, id: id + "-" + choice[0], value: choice[0] }),
        el("label", { for: id + "-" + choice[0], text: choice[1] })
      ]));
    });
    fieldset.appendChild(choices);
    return fieldset;
  }

  function feedbackForm(slug, questions) {
    var problem = el("p", { className: "va-error", role: "alert" });
    var form = el("form", {
      className: "va-start va-fb",
      onsubmit: function (event) {
        event.preventDefault();
        var body = new URLSearchParams();
        Array.prototype.forEach.call(form.elements, function (input) {
          if (input.name && (input.type !== "radio" || input.checked) && input.value) {
            body.append(input.name, input.value);
          }
        });
        // A form-encoded POST is a CORS "simple request"; nothing identifies the asker.
        fetch(feedbackUrl(slug), { method: "POST", body: body, credentials: "omit", cache: "no-store" })
          .then(function (response) { return response.json().then(function (data) { return [response.status, data]; }); })
          .then(function (answer) {
            if (answer[0] === 200) {
              showFeedbackThanks();
            } else {
              problem.textContent = answer[0] === 429 ? t("feedback_limit") : (answer[1].messages || [t("error")]).join(" ");
            }
          })
          .catch(function () { problem.textContent = t("error"); });
      }
    }, questions.map(feedbackQuestion).concat([
      problem,
      el("button", { type: "submit", className: "va-button va-primary", text: t("feedback_send") })
    ]));
    return form;
  }

  function showFeedbackThanks() {
    state.view = "feedback_sent";
    clearBody();
    var heading = el("h3", { className: "va-subtitle", tabindex: "-1", text: t("feedback_title") });
    ui.body.appendChild(heading);
    ui.body.appendChild(el("p", { role: "status", text: t("feedback_thanks") }));
    ui.body.appendChild(el("button", { type: "button", className: "va-button", text: t("new_chat"), onclick: newChat }));
    heading.focus();
  }

  // --- Start -----------------------------------------------------------------------------------

  function boot() {
    build();
    var stored = loadStored();
    if (stored) {
      // A reload during a chat: open the panel and carry on where we were.
      ui.panel.hidden = false;
      ui.exitOutside.hidden = true;
      ui.launcher.setAttribute("aria-expanded", "true");
      ui.root.classList.add("va-open");
      state.view = "connecting";
      resumeStored(stored);
      refreshLines(function () {
        var line = state.lines.filter(function (l) { return l.slug === stored.slug; })[0];
        if (line) {
          state.line = line;
          if (state.view === "chat" && ui.subtitle) {
            ui.subtitle.textContent = line.name; // not "Anonymous chat" after a reload
          }
        }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", boot);
  } else {
    boot();
  }
})();
