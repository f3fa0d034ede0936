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

  var STRINGS = {
    fi: {
      launcher: "Chat",
      launcher_label: "Avaa nimetön chat",
      title: "Nimetön chat",
      minimise: "Pienennä",
      quick_exit: "Poistu nopeasti",
      quick_exit_hint: "Poistu nopeasti (tai paina Esc kahdesti)",
      loading: "Ladataan…",
      unavailable: "Chattia ei voitu ladata. Yritä hetken kuluttua uudelleen.",
      retry: "Yritä uudelleen",
      choose_line: "Valitse palvelu",
      open_now: "Avoinna nyt",
      open_until: "Avoinna klo {time} asti",
      closed: "Suljettu",
      opens: "Avautuu {when}",
      no_opening: "Seuraavaa aukioloaikaa ei ole vielä tiedossa.",
      today: "tänään klo {time}",
      tomorrow: "huomenna klo {time}",
      on_day: "{day} klo {time}",
      rules_heading: "Ennen kuin aloitat",
      accept: "Olen lukenut tiedot ja hyväksyn keskustelun säännöt",
      start: "Aloita keskustelu",
      must_accept: "Hyväksy ensin keskustelun säännöt.",
      back: "Muut palvelut",
      connecting: "Yhdistetään…",
      reconnecting: "Yhteys katkesi. Yhdistetään uudelleen…",
      queued: "Olet jonossa sijalla {n}.",
      queued_next: "Olet seuraavana vuorossa.",
      queued_hint: "Auttaja vastaa sinulle heti, kun vapautuu. Pidä tämä ikkuna auki.",
      leave_queue: "Poistu jonosta",
      joined: "{name} liittyi keskusteluun.",
      peer: "chatvertainen",
      peer_label: "vertaistukija",
      you: "Sinä",
      helper: "Auttaja",
      system: "Ilmoitus",
      typing: "{name} kirjoittaa…",
      message_label: "Kirjoita viesti",
      send: "Lähetä",
      sending: "lähetetään…",
      end: "Lopeta keskustelu",
      end_confirm: "Haluatko varmasti lopettaa keskustelun?",
      ended_title: "Keskustelu on päättynyt",
      ended_asker: "Lopetit keskustelun.",
      ended_helper: "Auttaja lopetti keskustelun.",
      ended_system: "Keskustelu päättyi, koska yhteys katkesi.",
      erased: "Keskustelun viestit on poistettu palvelimelta.",
      feedback: "Anna nimetöntä palautetta",
      referrals: "Auttajan lähettämät linkit",
      new_chat: "Aloita uusi keskustelu",
      not_found: "Keskustelua ei enää ole: se on päättynyt.",
      rate_limited: "Lähetit viestejä liian nopeasti. Odota hetki.",
      limit_open_chats: "Tästä verkkoyhteydestä on jo avoinna keskustelu (ehkä toisessa välilehdessä tai ikkunassa). Jatka siellä tai lopeta se ensin.",
      limit_starts: "Tästä verkkoyhteydestä on aloitettu tällä tunnilla jo monta keskustelua. Yritä myöhemmin uudelleen.",
      limit_codes: "Koodeja on kokeiltu liian monta. Yritä myöhemmin uudelleen.",
      too_long: "Viesti on liian pitkä.",
      follow_up: "Auttaja tarjosi jatkokeskustelua {when}. Kirjoita koodi muistiin: {code}",
      code_label: "Jatkokeskustelun koodi (jos sait sellaisen)",
      bad_code: "Koodia ei tunnistettu, tai se on jo käytetty.",
      error: "Jotain meni vikaan. Yritä uudelleen.",
      estimate: "Arvioitu odotusaika {min}–{max} min. Se on arvio, ei lupaus.",
      estimate_unknown: "Odotusaikaa ei voi juuri nyt arvioida.",
      time_left: "Keskustelua on jäljellä noin {n} min.",
      ended_time_limit: "Keskustelulle varattu aika päättyi.",
      ended_come_back_later: "Auttaja lopetti keskustelun. Olet tervetullut takaisin myöhemmin.",
      queue_full_title: "Jono on tältä päivältä täynnä",
      next_opening: "Chat on seuraavan kerran auki {when}.",
      other_services: "Muita palveluja, joista saat apua",
      age_question: "Kuinka vanha olet?",
      age_hint: "Kysymme vain ikäryhmää tilastoja varten. Muuta emme tallenna.",
      age_under_13: "alle 13",
      age_13_15: "13–15",
      age_16_17: "16–17",
      age_18_plus: "18 tai yli",
      must_age: "Valitse ensin ikäryhmäsi.",
      adult_line: "Tämä chat on alle 18-vuotiaille. Aikuisille on oma chat, jonne olet tervetullut:",
      go_to_line: "Siirry palveluun {name}"
    },
    sv: {
      launcher: "Chatt",
      launcher_label: "Öppna den anonyma chatten",
      title: "Anonym chatt",
      minimise: "Minimera",
      quick_exit: "Lämna snabbt",
      quick_exit_hint: "Lämna snabbt (eller tryck Esc två gånger)",
      loading: "Laddar…",
      unavailable: "Chatten kunde inte laddas. Försök igen om en stund.",
      retry: "Försök igen",
      choose_line: "Välj tjänst",
      open_now: "Öppen nu",
      open_until: "Öppen till kl. {time}",
      closed: "Stängd",
      opens: "Öppnar {when}",
      no_opening: "Nästa öppettid är inte känd ännu.",
      today: "i dag kl. {time}",
      tomorrow: "i morgon kl. {time}",
      on_day: "{day} kl. {time}",
      rules_heading: "Innan du börjar",
      accept: "Jag har läst informationen och godkänner reglerna för chatten",
      start: "Starta chatten",
      must_accept: "Godkänn först reglerna för chatten.",
      back: "Andra tjänster",
      connecting: "Ansluter…",
      reconnecting: "Förbindelsen bröts. Ansluter på nytt…",
      queued: "Du står i kö på plats {n}.",
      queued_next: "Du är näst på tur.",
      queued_hint: "En hjälpare svarar så snart hen blir ledig. Håll fönstret öppet.",
      leave_queue: "Lämna kön",
      joined: "{name} har anslutit till chatten.",
      peer: "kamratstödjare",
      peer_label: "kamratstödjare",
      you: "Du",
      helper: "Hjälpare",
      system: "Meddelande",
      typing: "{name} skriver…",
      message_label: "Skriv ett meddelande",
      send: "Skicka",
      sending: "skickas…",
      end: "Avsluta chatten",
      end_confirm: "Vill du verkligen avsluta chatten?",
      ended_title: "Chatten har avslutats",
      ended_asker: "Du avslutade chatten.",
      ended_helper: "Hjälparen avslutade chatten.",
      ended_system: "Chatten avslutades eftersom förbindelsen bröts.",
      erased: "Meddelandena har raderats från servern.",
      feedback: "Ge anonym respons",
      referrals: "Länkar från hjälparen",
      new_chat: "Starta en ny chatt",
      not_found: "Chatten finns inte längre: den har avslutats.",
      rate_limited: "Du skickade meddelanden för snabbt. Vänta en stund.",
      limit_open_chats: "Från den här uppkopplingen finns redan en öppen chatt (kanske i en annan flik eller ett annat fönster). Fortsätt där eller avsluta den först.",
      limit_starts: "Från den här uppkopplingen har redan många chattar startats den här timmen. Försök igen senare.",
      limit_codes: "För många koder har prövats. Försök igen senare.",
      too_long: "Meddelandet är för långt.",
      follow_up: "Hjälparen erbjöd en fortsatt chatt {when}. Skriv upp koden: {code}",
      code_label: "Kod för fortsatt chatt (om du fick en)",
      bad_code: "Koden kändes inte igen eller har redan använts.",
      error: "Något gick fel. Försök igen.",
      estimate: "Uppskattad väntetid {min}–{max} min. Det är en uppskattning, inget löfte.",
      estimate_unknown: "Väntetiden kan inte uppskattas just nu.",
      time_left: "Det återstår ungefär {n} min av chatten.",
      ended_time_limit: "Tiden för chatten tog slut.",
      ended_come_back_later: "Hjälparen avslutade chatten. Du är välkommen tillbaka senare.",
      queue_full_title: "Kön är full för i dag",
      next_opening: "Chatten är öppen nästa gång {when}.",
      other_services: "Andra tjänster som kan hjälpa",
      age_question: "Hur gammal är du?",
      age_hint: "Vi frågar bara åldersgruppen för statistik. Inget annat sparas.",
      age_under_13: "under 13",
      age_13_15: "13–15",
      age_16_17: "16–17",
      age_18_plus: "18 eller äldre",
      must_age: "Välj först din åldersgrupp.",
      adult_line: "Den här chatten är för dig som är under 18. Vuxna har en egen chatt, där du är välkommen:",
      go_to_line: "Gå till {name}"
    },
    en: {
      launcher: "Chat",
      launcher_label: "Open the anonymous chat",
      title: "Anonymous chat",
      minimise: "Minimise",
      quick_exit: "Quick exit",
      quick_exit_hint: "Quick exit (or press Esc twice)",
      loading: "Loading…",
      unavailable: "The chat could not be loaded. Please try again in a moment.",
      retry: "Try again",
      choose_line: "Choose a service",
      open_now: "Open now",
      open_until: "Open until {time}",
      closed: "Closed",
      opens: "Opens {when}",
      no_opening: "The next opening time is not known yet.",
      today: "today at {time}",
      tomorrow: "tomorrow at {time}",
      on_day: "{day} at {time}",
      rules_heading: "Before you start",
      accept: "I have read this and accept the rules of the chat",
      start: "Start the chat",
      must_accept: "Please accept the rules of the chat first.",
      back: "Other services",
      connecting: "Connecting…",
      reconnecting: "The connection was lost. Reconnecting…",
      queued: "You are number {n} in the queue.",
      queued_next: "You are next in the queue.",
      queued_hint: "A helper will answer as soon as one is free. Keep this window open.",
      leave_queue: "Leave the queue",
      joined: "{name} joined the chat.",
      peer: "peer supporter",
      peer_label: "peer supporter",
      you: "You",
      helper: "Helper",
      system: "Notice",
      typing: "{name} is typing…",
      message_label: "Write a message",
      send: "Send",
      sending: "sending…",
      end: "End the chat",
      end_confirm: "Do you really want to end the chat?",
      ended_title: "The chat has ended",
      ended_asker: "You ended the chat.",
      ended_helper: "The helper ended the chat.",
      ended_system: "The chat ended because the connection was lost.",
      erased: "The messages have been deleted from the server.",
      feedback: "Give anonymous feedback",
      referrals: "Links the helper sent",
      new_chat: "Start a new chat",
      not_found: "This chat no longer exists: it has ended.",
      rate_limited: "You sent messages too fast. Please wait a moment.",
      limit_open_chats: "A chat is already open from this connection (perhaps in another tab or window). Continue there, or end it first.",
      limit_starts: "Many chats have been started from this connection this hour. Please try again later.",
      limit_codes: "Too many codes have been tried. Please try again later.",
      too_long: "The message is too long.",
      follow_up: "The helper offered a follow-up chat {when}. Write down the code: {code}",
      code_label: "Follow-up code (if you were given one)",
      bad_code: "The code was not recognised, or it has been used already.",
      error: "Something went wrong. Please try again.",
      estimate: "Estimated wait {min}–{max} min. An estimate, not a promise.",
      estimate_unknown: "The wait cannot be estimated just now.",
      time_left: "About {n} min left in this chat.",
      ended_time_limit: "The time set for the chat is over.",
      ended_come_back_later: "The helper ended the chat. You are welcome back later.",
      queue_full_title: "The queue is full for today",
      next_opening: "The chat is next open {when}.",
      other_services: "Other services that can help",
      age_question: "How old are you?",
      age_hint: "We only ask your age group, for statistics. Nothing else is kept.",
      age_under_13: "under 13",
      age_13_15: "13–15",
      age_16_17: "16–17",
      age_18_plus: "18 or over",
      must_age: "Please choose your age group first.",
      adult_line: "This chat is for under-18s. Adults have their own chat, where you are welcome:",
      go_to_line: "Go to {name}"
    }
  };
  var LOCALES = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" };
  var AGE_RANGES = ["under_13", "13_15", "16_17", "18_plus"];

  function pickLanguage(value) {
    var code = String(value || "").slice(0, 2).toLowerCase();
    return STRINGS[code] ? code : "fi";
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
  var S = STRINGS[config.language];

  function t(key, values) {
    return S[key].replace(/\{(\w+)\}/g, function (whole, name) {
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

  function inWords(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) {
      return "";
    }
    var now = new Date();
    var tomorrow = new Date(now.getTime() + 24 * 3600 * 1000);
    if (helsinkiDay(date) === helsinkiDay(now)) {
      return t("today", { time: clock(date) });
    }
    if (helsinkiDay(date) === helsinkiDay(tomorrow)) {
      return t("tomorrow", { time: clock(date) });
    }
    var day = date.toLocaleDateString(LOCALES[config.language], {
      weekday: "long",
      day: "numeric",
      month: "numeric",
      timeZone: "Europe/Helsinki"
    });
    return t("on_day", { day: day, time: clock(date) });
  }

  function lineStatus(line) {
    if (line.open) {
      var closes = line.closes_at ? new Date(line.closes_at) : null;
      return closes && helsinkiDay(closes) === helsinkiDay(new Date())
        ? t("open_until", { time: clock(closes) })
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
        "aria-label": t("launcher_label"),
        onclick: function () { setOpen(ui.panel.hidden); }
      },
      [el("span", { className: "va-launcher-icon", "aria-hidden": "true" }), t("launcher")]
    );
    ui.exitOutside = quickExitButton();
    ui.root.appendChild(ui.panel);
    ui.root.appendChild(el("div", { className: "va-dock" }, [ui.exitOutside, ui.launcher]));
    document.body.appendChild(ui.root);
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

  function setOpen(open) {
    ui.panel.hidden = !open;
    ui.exitOutside.hidden = open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.root.classList.toggle("va-open", open);
    if (open) {
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
    clearBody();
    var list = el("ul", { className: "va-lines" });
    state.lines.forEach(function (line) {
      list.appendChild(
        el("li", {}, [
          el(
            "button",
            { type: "button", className: "va-line", onclick: function () { showIntro(line); } },
            [
              el("span", { className: "va-line-name", text: line.name }),
              el("span", { className: "va-line-state" + (line.open ? " va-is-open" : ""), text: lineStatus(line) })
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

  function showIntro(line, notice) {
    state.view = "intro";
    state.line = line;
    state.slug = line.slug;
    clearBody();
    var children = [];
    if (state.lines.length > 1) {
      children.push(el("button", { type: "button", className: "va-link-button", text: "← " + t("back"), onclick: showPicker }));
    }
    var heading = el("h3", { className: "va-subtitle", text: line.name });
    children.push(heading);
    children.push(el("p", { className: "va-line-state" + (line.open ? " va-is-open" : ""), text: lineStatus(line) }));
    if (line.description) {
      children.push(el("p", { className: "va-description", text: line.description }));
    }
    if (notice) {
      children.push(el("p", { className: "va-error", role: "alert", text: notice }));
    }
    if (line.rules) {
      children.push(el("h4", { className: "va-rules-heading", id: "va-rules-heading", text: t("rules_heading") }));
      children.push(el("div", { className: "va-rules", id: "va-rules", tabindex: "0", role: "region", "aria-labelledby": "va-rules-heading" }, [
        el("p", { text: line.rules })
      ]));
    }
    if (line.open) {
      var ages = line.asks_age ? ageQuestion() : null;
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
            if (age === "18_plus") {
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
    children.forEach(function (child) { ui.body.appendChild(child); });
    keepFocus(heading);
    state.statusTimer = setInterval(function () {
      refreshLines(function () {
        var fresh = state.lines.filter(function (l) { return l.slug === line.slug; })[0];
        if (state.view === "intro" && fresh && fresh.open !== line.open) {
          showIntro(fresh);
        }
      });
    }, STATUS_REFRESH_MS);
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
      history.forEach(addMessage);
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
    var limits = { open_chats: 1, starts: 1, codes: 1 };
    if (frame.code === "rate_limited" && state.view === "connecting" && limits[frame.limit]) {
      // A start (or a follow-up code) refused by a per-address limit: nothing was created.
      state.token = null;
      closeSocket();
      setStatus("");
      showIntro(state.line, t("limit_" + frame.limit));
      return;
    }
    var known = { rate_limited: 1, too_long: 1 };
    setStatus(known[frame.code] ? t(frame.code) : t("error"));
  }

  // --- Waiting and chatting (one view: an asker may write while waiting) ----------------------

  function showQueued(position) {
    showChat();
    state.helper = null;
    ui.position.textContent = position === 1 ? t("queued_next") : t("queued", { n: position });
    ui.queueBox.hidden = false;
    ui.end.textContent = t("leave_queue");
  }

  function showAssigned(helper) {
    var known = state.helper && state.helper.name === helper.name;
    state.helper = helper;
    showChat();
    ui.queueBox.hidden = true;
    ui.end.textContent = t("end");
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
    ui.body.appendChild(el("h3", { className: "va-subtitle", text: state.line.name || t("title") }));
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
    if (helper.role === "peer") {
      parts.push(el("span", { className: "va-badge", text: t("peer") }));
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

  function ageQuestion() {
    var inputs = [];
    var fieldset = el("fieldset", { className: "va-age" }, [
      el("legend", { text: t("age_question") }),
      el("p", { className: "va-hint", text: t("age_hint") })
    ]);
    AGE_RANGES.forEach(function (range) {
      var input = el("input", { type: "radio", name: "va-age", id: "va-age-" + range, value: range });
      inputs.push(input);
      fieldset.appendChild(el("div", { className: "va-age-choice" }, [
        input,
        el("label", { for: "va-age-" + range, text: t("age_" + range) })
      ]));
    });
    return {
      node: fieldset,
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
    state.view = "intro";
    clearBody();
    var heading = el("h3", { className: "va-subtitle", text: t("queue_full_title") });
    ui.body.appendChild(heading);
    ui.body.appendChild(el("p", { role: "alert", text: frame.message }));
    ui.body.appendChild(el("p", { className: "va-line-state", text: frame.opens_at ? t("next_opening", { when: inWords(frame.opens_at) }) : t("no_opening") }));
    var referrals = frame.referrals || [];
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
    var keepLog = ui.log && ui.log.parentNode && ui.log.parentNode.parentNode === ui.body ? ui.log.parentNode : null;
    clearBody();
    var heading = el("h3", { className: "va-subtitle", tabindex: "-1", text: t("ended_title") });
    ui.body.appendChild(heading);
    var endedText = state.endedReason && S["ended_" + state.endedReason] ? t("ended_" + state.endedReason) : t("ended_" + state.ended);
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
    if (state.slug) {
      ui.body.appendChild(el("p", {}, [
        el("a", {
          className: "va-feedback",
          href: BASE + "/feedback/" + encodeURIComponent(state.slug) + "/",
          target: "_blank",
          rel: "noopener",
          text: t("feedback")
        })
      ]));
    }
    if (keepLog) {
      keepLog.classList.add("va-log-ended");
      ui.body.appendChild(keepLog);
    }
    ui.body.appendChild(el("button", {
      type: "button",
      className: "va-button",
      text: t("new_chat"),
      onclick: function () {
        ui.log = null;
        state.ended = null;
        state.lines.length ? (state.lines.length === 1 ? showIntro(state.lines[0]) : showPicker()) : loadLines();
      }
    }));
    if (!ui.panel.hidden) {
      heading.focus();
    }
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
