/*
 * The helper console (/console/): lines and their queues, chats side by side, prepared texts,
 * consult notes among the helpers on duty. A plain ES module, no build step; what the console,
 * the moderation panel and the group page share is in common.js.
 *
 * Data from the page: #console-data (json_script) has the lines with their topics and follow-up
 * times, the prepared texts and the words that change with state (%(name)s placeholders, plural
 * forms as dicts: common.js); everything else is in the template's markup.
 * Every text from the socket is put on the page as text, never as HTML.
 */
import { alerter, clock, dayAndTime, el, keepConnected, pageData, translator } from "./common.js";

// The function scope of the older plain script is kept: one console, its state in one place.
(function () {
  "use strict";

  var data = pageData("console-data");
  var S = data.strings;
  var t = translator(S, "error");
  var TYPING_SHOWN_MS = 4000;
  var TYPING_SEND_MS = 3000;
  var BASE_TITLE = document.title;
  var SOUND_KEY = "verkkoapu.console.sound";

  var state = {
    socket: null, // common.js keepConnected: the one helper socket of the page
    paused: false,
    connected: false,
    queues: {}, // slug -> length
    chats: {}, // chat id -> {node, parts, lastId, service, ended}
    lastTyping: {},
    endingByMe: {},
    colleagues: [], // the other helpers on duty for our lines (docs/workflow.md)
    maxChats: null, // how many chats this helper may hold at once
    offers: {}, // chat id -> the node of a transfer offered to us
    // Chats ended with a follow-up whose answer has not come, in the order sent: `bad_follow_up`
    // names no chat, and the server answers one socket's frames in order.
    followUpsAsked: [],
    lastSent: null, // the type of the last frame sent: a panel's error answers its own frame
    panels: [], // moderate.js and any other panel that shares this socket
    followUps: null, // the newest `follow_ups` frame, for a panel that starts after it came
    followUpsWaiting: 0, // own follow-up askers waiting: counted in the title, beeped like a queue
    capacityAlert: null // the text of an `at_capacity` refusal in the alert: gone when a place frees
  };

  function lineOf(slug) {
    return data.lines.filter(function (line) { return line.slug === slug; })[0] || { slug: slug, name: slug, topics: [] };
  }

  // --- Status line, alerts, attention ----------------------------------------------------------

  var dutyState = document.getElementById("duty-state");
  var pauseToggle = document.getElementById("pause-toggle");
  var alertBox = document.getElementById("console-alert");
  var soundToggle = document.getElementById("sound-toggle");
  var takeFull = document.getElementById("take-full");

  function showDuty() {
    if (!state.connected) {
      dutyState.textContent = S.offline;
      dutyState.className = "c-duty c-duty-offline";
    } else if (state.paused) {
      dutyState.textContent = S.paused;
      dutyState.className = "c-duty c-duty-paused";
    } else {
      dutyState.textContent = S.on_duty;
      dutyState.className = "c-duty c-duty-on";
    }
    pauseToggle.disabled = !state.connected;
    pauseToggle.textContent = state.paused ? S.resume : S.pause;
    pauseToggle.setAttribute("aria-pressed", state.paused ? "true" : "false");
    // Enabled with an empty queue too: an asker may be waiting for this helper alone (a
    // follow-up), and the server answers `empty` when nobody is. Not with every place taken:
    // the reason shows beside the lines and is the buttons' description.
    var full = isFull();
    takeFull.hidden = !full;
    document.querySelectorAll("[data-take]").forEach(function (button) {
      button.disabled = !state.connected || state.paused || full;
      if (full) {
        button.setAttribute("aria-describedby", takeFull.id);
      } else {
        button.removeAttribute("aria-describedby");
      }
    });
  }

  var showAlert = alerter(alertBox);

  function updateTitle() {
    var waiting = 0;
    Object.keys(state.queues).forEach(function (slug) { waiting += state.queues[slug]; });
    waiting += state.followUpsWaiting;
    document.title = waiting ? "(" + waiting + ") " + S.new_asker + " – " + BASE_TITLE : BASE_TITLE;
  }

  function followUpsChanged(items) {
    var waiting = items.filter(function (item) { return item.waiting; }).length;
    if (waiting > state.followUpsWaiting) {
      beep();
    }
    state.followUpsWaiting = waiting;
    updateTitle();
  }

  function beep() {
    if (!soundToggle.checked || state.paused) {
      return;
    }
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      var audio = new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 660;
      gain.gain.value = 0.15;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.25);
      tone.onended = function () { audio.close(); };
    } catch (error) {
      // No audio here; the title still tells.
    }
  }

  try {
    soundToggle.checked = window.localStorage.getItem(SOUND_KEY) === "1";
  } catch (error) {
    soundToggle.checked = false;
  }
  soundToggle.addEventListener("change", function () {
    try {
      window.localStorage.setItem(SOUND_KEY, soundToggle.checked ? "1" : "0");
    } catch (error) {
      // The choice lasts for this page only.
    }
  });

  // --- The socket ------------------------------------------------------------------------------

  function send(frame) {
    if (!state.socket || !state.socket.send(frame)) {
      showAlert(S.offline);
      return false;
    }
    state.lastSent = frame.type;
    return true;
  }

  // One helper socket per console: the page's panels (group moderation and follow-ups,
  // moderate.js) send through it and get its frames. A second socket would be a second duty
  // session that a break in the console does not pause.
  window.verkkoapuConsole = {
    send: send,
    lastSent: function () { return state.lastSent; },
    lineName: function (slug) { return lineOf(slug).name; },
    // panel.frame(frame) for every frame; panel.open() after each (re)connection.
    add: function (panel) {
      state.panels.push(panel);
      if (state.followUps && panel.frame) {
        panel.frame(state.followUps);
      }
    }
  };

  function toPanels(method, frame) {
    state.panels.forEach(function (panel) {
      if (panel[method]) {
        panel[method](frame);
      }
    });
  }

  function connected() {
    state.connected = true;
    state.followUpsAsked = []; // answers to the old socket's frames never come
    showAlert("");
    if (state.paused) {
      // A new connection starts on duty; keep the break the helper chose.
      send({ type: "pause", paused: true });
    }
    showDuty();
    send({ type: "colleagues" }); // our own places, and who could take a transfer
    toPanels("open");
    // The server names every chat still ours; one it does not has ended meanwhile.
    Object.keys(state.chats).forEach(function (id) { state.chats[id].stale = !state.chats[id].ended; });
    setTimeout(function () {
      Object.keys(state.chats).forEach(function (id) {
        if (state.chats[id].stale) {
          chatEnded(Number(id), "system");
        }
      });
    }, 5000);
  }

  function received(frame) {
    handle(frame);
    if (frame.type === "follow_ups") {
      state.followUps = frame;
      followUpsChanged(frame.follow_ups || []);
    }
    toPanels("frame", frame);
  }

  function disconnected(event) {
    state.connected = false;
    showDuty();
    if (event.code === 4403) {
      window.location.assign("/accounts/login/?next=/console/");
      return false;
    }
    return true;
  }

  function connect() {
    state.socket = keepConnected("/ws/helper/", { open: connected, frame: received, close: disconnected });
  }

  function handle(frame) {
    switch (frame.type) {
      case "queue":
        setQueue(frame.service, frame.length);
        break;
      case "assigned":
        openChat(frame);
        break;
      case "history":
        (frame.messages || []).forEach(function (message) { addMessage(frame.chat, message); });
        break;
      case "message":
        addMessage(frame.chat, frame);
        break;
      case "typing":
        showTyping(frame.chat);
        break;
      case "ended":
        chatEnded(frame.chat, frame.by, frame.reason, frame.follow_up);
        break;
      case "colleagues":
      case "transfer_offer":
      case "transfer_pending":
      case "transfer_declined":
      case "transfer_withdrawn":
      case "transferred":
      case "time_limit":
        handleWorkflow(frame);
        break;
      case "empty":
        showAlert(t("empty", { line: lineOf(frame.service).name }));
        break;
      case "paused":
        state.paused = frame.paused;
        showDuty();
        break;
      case "consult":
        addConsult(frame);
        break;
      case "letters":
        setLetters(frame.service, frame.waiting);
        break;
      case "support": // addition (issue 21): support person, debriefs due
        showSupport(frame);
        break;
      case "error":
        handleError(frame);
        break;
      default:
        break;
    }
  }

  function handleError(frame) {
    if (frame.code === "bad_follow_up" && state.followUpsAsked.length) {
      followUpRefused(state.followUpsAsked.shift(), frame.message);
    } else if (state.lastSent && state.lastSent.indexOf("group_") === 0) {
      // The moderation panel's frame: it shows the answer by its sessions.
    } else {
      showAlert(t("error", { message: frame.message }));
      // A refusal for want of a place goes when a place frees (showCapacity).
      state.capacityAlert = frame.code === "at_capacity" ? alertBox.textContent : null;
    }
  }

  // --- Lines and queues ------------------------------------------------------------------------

  function setQueue(slug, length) {
    if (!data.lines.some(function (line) { return line.slug === slug; })) {
      return; // a group line: moderated elsewhere
    }
    var before = state.queues[slug] || 0;
    state.queues[slug] = length;
    var counter = document.querySelector('[data-queue="' + CSS.escape(slug) + '"] strong');
    if (counter) {
      counter.textContent = String(length);
      counter.parentNode.classList.toggle("c-waiting", length > 0);
    }
    if (length > before && counter) {
      beep();
    }
    updateTitle();
    showDuty();
  }

  // The letters inbox (docs/letters.md): a `letters` frame per line at the start, then one
  // each time a line's inbox changes; the header's link shows how many wait on all lines.
  var lettersWaiting = {};

  function setLetters(slug, waiting) {
    var link = document.getElementById("letters-link");
    lettersWaiting[slug] = waiting;
    if (link) {
      var total = Object.keys(lettersWaiting).reduce(function (sum, key) { return sum + lettersWaiting[key]; }, 0);
      link.hidden = false;
      link.querySelector("[data-letters-count]").textContent = String(total);
      link.classList.toggle("c-waiting", total > 0);
    }
  }

  document.querySelectorAll("[data-take]").forEach(function (button) {
    button.addEventListener("click", function () {
      showAlert("");
      send({ type: "accept_next", service: button.getAttribute("data-take") });
    });
  });

  pauseToggle.addEventListener("click", function () {
    send({ type: "pause", paused: !state.paused });
  });

  // --- Chats -----------------------------------------------------------------------------------

  var chatsBox = document.getElementById("chats");
  var noChats = document.getElementById("no-chats");
  var template = document.getElementById("chat-template");

  function refreshEmpty() {
    noChats.hidden = chatsBox.children.length > 0;
  }

  function openChat(frame) {
    var existing = state.chats[frame.chat];
    if (existing && !existing.ended) {
      existing.stale = false;
      existing.parts.ip.textContent = frame.ip ? t("ip", { ip: frame.ip }) : "";
      return;
    }
    if (existing) {
      existing.node.remove();
    }
    var node = template.content.firstElementChild.cloneNode(true);
    var line = lineOf(frame.service);
    var parts = chatParts(node);
    nameChat(node, parts, frame, line);
    fillFollowUpTimes(node, parts, line);
    fillTopics(parts, line, node.id);
    fillBarHours(parts);
    fillPrepared(node, parts, frame);
    listenToCompose(node, parts, frame.chat);
    listenToEnding(node, parts, frame.chat);

    state.chats[frame.chat] = { node: node, parts: parts, lastId: 0, service: frame.service, ended: false, seen: {} };
    addWorkflow(frame);
    chatsBox.appendChild(node);
    refreshEmpty();
    parts.input.focus();
  }

  // The places of a chat card (templates/chats/console.html, #chat-template) the script fills.
  function chatParts(node) {
    return {
      title: node.querySelector(".c-chat-title"),
      ip: node.querySelector(".c-chat-ip"),
      endedHead: node.querySelector(".c-ended-head"),
      log: node.querySelector(".c-messages"),
      logBox: node.querySelector(".c-log"),
      typing: node.querySelector(".c-typing"),
      input: node.querySelector(".c-input"),
      topics: node.querySelector(".c-topic-list"),
      ended: node.querySelector(".c-ended"),
      close: node.querySelector(".c-close"),
      barHours: node.querySelector(".c-bar-hours"),
      followUp: node.querySelector(".c-follow-up-at"),
      followUpError: node.querySelector(".c-follow-up-error")
    };
  }

  // The card's title and the ids that tie its labels to their fields.
  function nameChat(node, parts, frame, line) {
    var id = "chat-" + frame.chat;
    node.id = id;
    node.setAttribute("aria-labelledby", id + "-title");
    parts.title.id = id + "-title";
    parts.title.textContent = t("chat_title", { n: frame.chat, line: line.name });
    parts.ip.textContent = frame.ip ? t("ip", { ip: frame.ip }) : "";
    parts.logBox.setAttribute("aria-labelledby", id + "-title");
    parts.input.id = id + "-input";
    node.querySelector(".c-compose-label").setAttribute("for", id + "-input");
    parts.barHours.id = id + "-bar";
    node.querySelector(".c-bar-label").setAttribute("for", id + "-bar");
    parts.followUp.id = id + "-follow-up";
    node.querySelector(".c-follow-up-label").setAttribute("for", id + "-follow-up");
  }

  function fillTopics(parts, line, id) {
    line.topics.forEach(function (topic) {
      var box = el("div", "c-topic");
      var input = el("input");
      input.type = "checkbox";
      input.value = topic.slug;
      input.id = id + "-topic-" + topic.slug;
      var label = el("label", null, topic.name);
      label.setAttribute("for", input.id);
      box.appendChild(input);
      box.appendChild(label);
      parts.topics.appendChild(box);
    });
  }

  function fillBarHours(parts) {
    data.bar_hours.forEach(function (hours) {
      var option = el("option", null, hours % 24 === 0 && hours > 24 ? t("days", { n: hours / 24 }) : t("hours", { n: hours }));
      option.value = String(hours);
      parts.barHours.appendChild(option);
    });
  }

  // The prepared texts of the chat's line: a reply or referral goes into the message being
  // written; a notice of the duty to report is sent at once, after a confirmation.
  function fillPrepared(node, parts, frame) {
    data.prepared
      .filter(function (text) { return !text.line || text.line === frame.service; })
      .forEach(function (text) {
        var list = node.querySelector('.c-prepared-list[data-kind="' + text.kind + '"]');
        if (!list) {
          return;
        }
        var item = el("li");
        var choose = button(text.title, "c-prepared-button", function () {
          if (text.kind === "duty_notice") {
            if (window.confirm(text.text)) {
              send({ type: "notice", chat: frame.chat, text: text.text });
            }
            return;
          }
          insertText(parts.input, text.text);
        });
        choose.title = text.text;
        item.appendChild(choose);
        list.appendChild(item);
      });
  }

  // Writing: Enter sends (Shift+Enter is a new line), and the asker sees that we are typing.
  function listenToCompose(node, parts, chatId) {
    node.querySelector(".c-compose").addEventListener("submit", function (event) {
      event.preventDefault();
      submit(chatId);
    });
    parts.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit(chatId);
      }
    });
    parts.input.addEventListener("input", function () {
      var now = Date.now();
      if (now - (state.lastTyping[chatId] || 0) > TYPING_SEND_MS) {
        state.lastTyping[chatId] = now;
        send({ type: "typing", chat: chatId });
      }
    });
  }

  // Ending: with an optional follow-up time, by barring the asker, and closing the ended card.
  function listenToEnding(node, parts, chatId) {
    node.querySelector(".c-end").addEventListener("click", function () {
      var end = { type: "end", chat: chatId, topics: chosenTopics(parts) };
      if (parts.followUp.value) {
        end.follow_up_at = parts.followUp.value;
      }
      parts.followUpError.hidden = true;
      state.endingByMe[chatId] = true;
      if (send(end) && end.follow_up_at) {
        state.followUpsAsked.push(chatId);
      }
    });
    parts.followUp.addEventListener("change", function () {
      parts.followUpError.hidden = true;
    });
    node.querySelector(".c-bar-button").addEventListener("click", function () {
      var hours = parseInt(parts.barHours.value, 10);
      if (window.confirm(t("bar_confirm", { hours: hours }))) {
        state.endingByMe[chatId] = true;
        send({ type: "bar", chat: chatId, hours: hours, topics: chosenTopics(parts) });
      }
    });
    parts.close.addEventListener("click", function () {
      node.remove();
      delete state.chats[chatId];
      refreshEmpty();
    });
  }

  // The half hours of the helper's own booked shifts of the line (docs/follow-ups.md). A time
  // that passed since the page loaded is left out; the server has the last word on the rest.
  function fillFollowUpTimes(node, parts, line) {
    var now = Date.now();
    var times = (line.follow_up_times || []).filter(function (iso) {
      return new Date(iso).getTime() > now;
    });
    times.forEach(function (iso) {
      var option = el("option", null, dayAndTime(iso));
      option.value = iso;
      parts.followUp.appendChild(option);
    });
    // No booked shift, nothing to choose: say how to get one instead of an empty list.
    node.querySelector(".c-follow-up-label").hidden = !times.length;
    parts.followUp.hidden = !times.length;
    node.querySelector(".c-follow-up-none").hidden = times.length > 0;
  }

  function followUpRefused(chatId, message) {
    var chat = state.chats[chatId];
    if (!chat || chat.ended) {
      showAlert(t("error", { message: message }));
      return;
    }
    delete state.endingByMe[chatId];
    chat.parts.followUpError.textContent = S.follow_up_refused + " " + t("error", { message: message });
    chat.parts.followUpError.hidden = false;
    chat.parts.followUp.focus();
  }

  function chosenTopics(parts) {
    return Array.prototype.map.call(parts.topics.querySelectorAll("input:checked"), function (input) {
      return input.value;
    });
  }

  function insertText(input, text) {
    var start = input.selectionStart || 0;
    var end = input.selectionEnd || 0;
    var before = input.value.slice(0, start);
    var after = input.value.slice(end);
    var glue = before && !/\s$/.test(before) ? " " : "";
    input.value = before + glue + text + after;
    input.focus();
    var caret = (before + glue + text).length;
    input.setSelectionRange(caret, caret);
  }

  function submit(chatId) {
    var chat = state.chats[chatId];
    var text = chat.parts.input.value;
    if (!text.trim() || chat.ended) {
      return;
    }
    if (send({ type: "message", chat: chatId, text: text })) {
      chat.parts.input.value = "";
    }
  }

  function senderName(sender) {
    return sender === "asker" ? S.asker : sender === "helper" ? S.you : S.system;
  }

  function addMessage(chatId, message) {
    var chat = state.chats[chatId];
    if (!chat || chat.seen[message.id]) {
      return;
    }
    chat.seen[message.id] = true;
    chat.lastId = Math.max(chat.lastId, message.id);
    var item = el("li", "c-message c-from-" + message.sender);
    var meta = el("p", "c-sender");
    meta.appendChild(el("strong", null, senderName(message.sender)));
    var time = el("time", "c-time", clock(message.sent_at));
    time.dateTime = message.sent_at;
    meta.appendChild(time);
    item.appendChild(meta);
    item.appendChild(el("p", "c-text", message.text));
    chat.parts.log.appendChild(item);
    chat.parts.logBox.scrollTop = chat.parts.logBox.scrollHeight;
    if (message.sender === "asker") {
      chat.parts.typing.hidden = true;
    }
  }

  function showTyping(chatId) {
    var chat = state.chats[chatId];
    if (!chat) {
      return;
    }
    chat.parts.typing.textContent = S.typing;
    chat.parts.typing.hidden = false;
    clearTimeout(chat.typingTimer);
    chat.typingTimer = setTimeout(function () { chat.parts.typing.hidden = true; }, TYPING_SHOWN_MS);
  }

  function chatEnded(chatId, by, reason, followUp) {
    state.followUpsAsked = state.followUpsAsked.filter(function (id) { return id !== chatId; });
    var chat = state.chats[chatId];
    if (!chat || chat.ended) {
      return;
    }
    chat.ended = true;
    chat.node.classList.add("c-chat-ended");
    chat.parts.ip.textContent = "";
    chat.parts.typing.hidden = true;
    chat.node.querySelectorAll("textarea, input, select, .c-compose button, .c-actions button, .c-prepared button").forEach(function (control) {
      control.disabled = true;
    });
    var said = by === "asker" ? S.ended_asker : by === "system" ? S.ended_system : S.ended_helper;
    if (reason && S["ended_" + reason]) {
      said = S["ended_" + reason];
    }
    // The helper gets the time only: the code exists in the asker's `ended` frame alone.
    if (followUp && followUp.at) {
      said += " " + t("follow_up_offered", { when: dayAndTime(followUp.at) });
    }
    chat.parts.followUpError.hidden = true;
    showEnded(chat, said);
    showCapacity();
    chat.parts.close.hidden = false;
    if (state.endingByMe[chatId]) {
      delete state.endingByMe[chatId];
      chat.parts.close.focus();
    }
  }

  // Why the chat ended, at the foot of the card (announced) and under its title, where a helper
  // scrolled to the top of a tall card sees it too.
  function showEnded(chat, text) {
    chat.parts.ended.textContent = text;
    chat.parts.ended.hidden = false;
    chat.parts.endedHead.textContent = text;
    chat.parts.endedHead.hidden = false;
  }

  // --- The workflow: capacity, transfers, limits (docs/workflow.md) ---------------------------

  var capacityBox = el("p", "c-capacity");
  capacityBox.setAttribute("role", "status");
  dutyState.parentNode.insertBefore(capacityBox, dutyState.nextSibling);
  var offersBox = el("div", "c-offers");
  offersBox.id = "transfer-offers";
  offersBox.setAttribute("aria-live", "polite");
  alertBox.parentNode.insertBefore(offersBox, alertBox.nextSibling);

  function openChatCount() {
    return Object.keys(state.chats).filter(function (id) { return !state.chats[id].ended; }).length;
  }

  function isFull() {
    return state.maxChats !== null && openChatCount() >= state.maxChats;
  }

  function showCapacity() {
    if (state.maxChats === null) {
      return;
    }
    var held = openChatCount();
    var full = isFull();
    capacityBox.textContent = t(full ? "capacity_full" : "capacity", { n: held, max: state.maxChats });
    capacityBox.classList.toggle("c-capacity-full", full);
    capacityBox.hidden = false;
    if (!full && state.capacityAlert !== null) {
      if (alertBox.textContent === state.capacityAlert) {
        showAlert("");
      }
      state.capacityAlert = null;
    }
    showDuty(); // the take buttons: disabled while every place is taken
  }

  function handleWorkflow(frame) {
    var chat = state.chats[frame.chat];
    switch (frame.type) {
      case "colleagues":
        state.colleagues = frame.colleagues || [];
        state.maxChats = frame.max_chats;
        showCapacity();
        Object.keys(state.chats).forEach(function (id) { fillColleagues(state.chats[id]); });
        break;
      case "transfer_offer":
        showOffer(frame);
        break;
      case "transfer_withdrawn":
        dropOffer(frame.chat);
        break;
      case "transfer_pending":
        if (chat && chat.transfer) {
          chat.transfer.status.textContent = t("transfer_pending", { name: frame.to.name });
          chat.transfer.cancel.hidden = false;
          chat.transfer.send.disabled = true;
        }
        break;
      case "transfer_declined":
        if (chat && chat.transfer) {
          chat.transfer.status.textContent = t("transfer_declined", {
            name: frame.by.name,
            reason: S["reason_" + frame.reason] || frame.reason
          });
          chat.transfer.cancel.hidden = true;
          chat.transfer.send.disabled = chat.ended;
        }
        break;
      case "transferred":
        if (chat) {
          chatEnded(frame.chat, "helper");
          showEnded(chat, t("transferred", { name: frame.to.name }));
        }
        break;
      case "time_limit":
        if (chat) {
          chat.endsAt = new Date(frame.ends_at);
          showTimeLeft();
        }
        break;
      default:
        break;
    }
  }

  function labelled(node, labelText, control, id) {
    control.id = id;
    var label = el("label", null, labelText);
    label.setAttribute("for", id);
    node.appendChild(label);
    node.appendChild(control);
  }

  function button(text, className, onClick) {
    var node = el("button", "c-button" + (className ? " " + className : ""), text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function panel(title) {
    var details = el("details", "c-bar c-workflow");
    details.appendChild(el("summary", null, title));
    return details;
  }

  function addWorkflow(frame) {
    var chat = state.chats[frame.chat];
    dropOffer(frame.chat); // an offer we accepted (here or in another tab) is now our chat
    var id = "chat-" + frame.chat;
    var actions = chat.node.querySelector(".c-actions");
    chat.timeLeft = el("p", "c-time-left");
    chat.timeLeft.hidden = true;
    chat.parts.ip.parentNode.appendChild(chat.timeLeft);
    if (frame.handover) {
      chat.parts.ip.parentNode.appendChild(
        el("p", "c-handover", t("handover", { name: frame.handover.from.name, note: frame.handover.note || "–" }))
      );
    }
    actions.appendChild(transferPanel(chat, frame.chat, id));
    actions.appendChild(limitPanel(frame.chat, id));
    actions.appendChild(comeBackPanel(chat, frame.chat, id));
    showCapacity();
  }

  // Hand over to a colleague on duty for the line.
  function transferPanel(chat, chatId, id) {
    var transfer = panel(S.transfer);
    chat.transfer = {
      select: el("select"),
      note: el("textarea", "c-note"),
      status: el("p", "c-hint"),
      send: button(S.transfer_send, "c-primary", function () {
        if (!chat.transfer.select.value) {
          return;
        }
        chat.transfer.status.textContent = "";
        send({ type: "transfer", chat: chatId, to: Number(chat.transfer.select.value), note: chat.transfer.note.value });
      }),
      cancel: button(S.transfer_cancel, "", function () {
        send({ type: "transfer_cancel", chat: chatId });
      })
    };
    chat.transfer.note.rows = 2;
    chat.transfer.note.maxLength = 500;
    chat.transfer.cancel.hidden = true;
    chat.transfer.status.setAttribute("role", "status");
    labelled(transfer, S.transfer_to, chat.transfer.select, id + "-transfer-to");
    labelled(transfer, S.transfer_note, chat.transfer.note, id + "-transfer-note");
    transfer.appendChild(chat.transfer.send);
    transfer.appendChild(chat.transfer.cancel);
    transfer.appendChild(chat.transfer.status);
    transfer.addEventListener("toggle", function () {
      if (transfer.open) {
        send({ type: "colleagues" }); // their load now, not when the console opened
      }
    });
    fillColleagues(chat);
    return transfer;
  }

  function choices(values, key) {
    var select = el("select");
    values.forEach(function (n) {
      var option = el("option", null, t(key, { n: n }));
      option.value = String(n);
      select.appendChild(option);
    });
    return select;
  }

  // A length limit: both sides see the time left; the service ends the chat at its time.
  function limitPanel(chatId, id) {
    var limit = panel(S.limit);
    var minutes = choices(data.limit_minutes, "minutes");
    labelled(limit, S.limit_minutes, minutes, id + "-limit");
    limit.appendChild(button(S.limit_set, "", function () {
      send({ type: "limit", chat: chatId, minutes: parseInt(minutes.value, 10) });
    }));
    return limit;
  }

  // Come back later: a kind goodbye and a pause of some days.
  function comeBackPanel(chat, chatId, id) {
    var later = panel(S.come_back);
    var days = choices(data.come_back_days, "days");
    labelled(later, S.come_back_days, days, id + "-come-back");
    later.appendChild(button(S.come_back_send, "c-danger", function () {
      var chosen = parseInt(days.value, 10);
      if (window.confirm(t("come_back_confirm", { n: chosen }))) {
        state.endingByMe[chatId] = true;
        send({ type: "come_back_later", chat: chatId, days: chosen, topics: chosenTopics(chat.parts) });
      }
    }));
    return later;
  }

  function fillColleagues(chat) {
    if (!chat.transfer) {
      return;
    }
    var select = chat.transfer.select;
    var chosen = select.value;
    while (select.firstChild) {
      select.removeChild(select.firstChild);
    }
    var fitting = state.colleagues.filter(function (colleague) {
      return colleague.lines.indexOf(chat.service) >= 0;
    });
    fitting.forEach(function (colleague) {
      var role = colleague.role === "peer" ? S.peer : S.professional;
      var option = el("option", null, colleague.paused
        ? t("colleague_paused", { name: colleague.name, role: role })
        : t("colleague", { name: colleague.name, role: role, chats: colleague.chats, max: colleague.max_chats }));
      option.value = String(colleague.id);
      option.disabled = colleague.chats >= colleague.max_chats;
      select.appendChild(option);
    });
    if (chosen) {
      select.value = chosen;
    }
    if (!fitting.length) {
      chat.transfer.status.textContent = S.transfer_none;
    } else if (chat.transfer.status.textContent === S.transfer_none) {
      chat.transfer.status.textContent = "";
    }
    chat.transfer.send.disabled = chat.ended || !fitting.length || !chat.transfer.cancel.hidden;
  }

  function showOffer(frame) {
    dropOffer(frame.chat);
    var box = el("div", "c-alert c-offer");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", null, t("transfer_offer", { name: frame.from.name, line: lineOf(frame.service).name })));
    if (frame.note) {
      box.appendChild(el("p", "c-offer-note", t("transfer_offer_note", { note: frame.note })));
    }
    box.appendChild(button(S.transfer_accept, "c-primary", function () {
      showAlert("");
      send({ type: "transfer_accept", chat: frame.chat });
    }));
    box.appendChild(button(S.transfer_decline, "", function () {
      send({ type: "transfer_decline", chat: frame.chat });
      dropOffer(frame.chat);
    }));
    state.offers[frame.chat] = box;
    offersBox.appendChild(box);
    beep();
  }

  function dropOffer(chatId) {
    var box = state.offers[chatId];
    if (box) {
      box.remove();
      delete state.offers[chatId];
    }
  }

  function showTimeLeft() {
    var now = Date.now();
    Object.keys(state.chats).forEach(function (id) {
      var chat = state.chats[id];
      if (!chat.endsAt || !chat.timeLeft) {
        return;
      }
      var minutes = Math.max(0, Math.ceil((chat.endsAt.getTime() - now) / 60000));
      chat.timeLeft.textContent = t("time_left", { n: minutes });
      chat.timeLeft.hidden = chat.ended;
    });
  }

  setInterval(showTimeLeft, 15000);

  // --- Consult ---------------------------------------------------------------------------------

  var consultLog = document.getElementById("consult-log");
  var consultForm = document.getElementById("consult-form");

  function addConsult(frame) {
    var item = el("li", "c-consult-item" + (frame.mine ? " c-consult-mine" : ""));
    var meta = el("p", "c-sender");
    meta.appendChild(el("strong", null, frame.mine ? S.you : frame.helper.name));
    if (frame.helper.role === "peer") {
      meta.appendChild(el("span", "c-badge", S.peer));
    }
    meta.appendChild(el("span", "c-time", lineOf(frame.service).name + " · " + clock(frame.sent_at)));
    item.appendChild(meta);
    item.appendChild(el("p", "c-text", frame.text));
    adviceReply(item, frame);
    consultLog.appendChild(item);
    consultLog.parentNode.scrollTop = consultLog.parentNode.scrollHeight;
  }

  if (consultForm) {
    consultForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("consult-text");
      var service = document.getElementById("consult-line").value;
      var note = { type: "consult", service: service, text: input.value };
      if (adviceTo) {
        note.to = adviceTo.id;
      }
      if (input.value.trim() && send(note)) {
        input.value = "";
        answerAdvice(null);
      }
    });
  }

  // --- Peer support (issue 21): support person, private advice, the debrief prompt ---------------

  var adviceTo = null; // {id, name, service}: a professional's private answer to a peer

  function adviceReply(item, frame) {
    if (frame.private) {
      item.querySelector(".c-sender").appendChild(el("span", "c-badge", S.advice_private));
    }
    if (frame.mine || !frame.from || data.helper.role !== "professional") {
      return;
    }
    var button = el("button", "c-button c-advice-reply", S.advice_reply);
    button.type = "button";
    button.addEventListener("click", function () {
      answerAdvice({ id: frame.from, name: frame.helper.name, service: frame.service });
    });
    item.appendChild(button);
  }

  function answerAdvice(to) {
    adviceTo = to;
    var label = document.getElementById("consult-to");
    label.hidden = !to;
    label.textContent = to ? t("advice_to", { name: to.name }) : "";
    if (to) {
      document.getElementById("consult-line").value = to.service;
      document.getElementById("consult-text").focus();
    }
  }

  function showSupport(frame) {
    var person = document.getElementById("support-person");
    person.textContent = frame.person
      ? t(frame.person.on_duty ? "support_on" : "support_off", { name: frame.person.name })
      : "";
    var list = document.getElementById("debriefs");
    list.textContent = "";
    (frame.debriefs || []).forEach(function (due) {
      var item = el("li", "c-alert c-debrief");
      item.setAttribute("role", "alert");
      var text = due.can_record
        ? t("debrief_pro", { peer: due.peer, line: due.line })
        : due.professionals.length
          ? t("debrief_peer", { line: due.line, with: due.professionals.join(", ") })
          : t("debrief_peer_alone", { line: due.line });
      item.appendChild(el("span", null, text));
      if (due.can_record) {
        var button = el("button", "c-button c-primary", S.debrief_record);
        button.type = "button";
        button.setAttribute("data-debrief", String(due.booking));
        button.addEventListener("click", function () {
          button.disabled = send({ type: "debrief", booking: due.booking });
        });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }

  if (data.support) {
    showSupport(data.support);
  }

  refreshEmpty();
  showDuty();
  connect();
})();
