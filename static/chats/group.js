/*
 * The group chat page (/group/<slug>/): join with a nickname, read and write in the session.
 * A plain ES module, no build step (common.js: words, Helsinki times, the socket). Every text
 * from the socket goes on the page as text, never as HTML. Nothing is stored in the browser: a
 * reload asks for the nickname again.
 */
import { alerter, dayAndTime, groupMessage, keepConnected, pageData, translator } from "./common.js";

(function () {
  "use strict";

  var data = pageData("group-data");
  var S = data.strings;
  var t = translator(S, "error");
  var MAX_RETRY_MS = 10000;

  var status = document.getElementById("group-status");
  var alertBox = document.getElementById("group-alert");
  var joinForm = document.getElementById("join-form");
  var nicknameInput = joinForm.elements.nickname;
  var inviteInput = joinForm.elements.invite;
  var joinButton = joinForm.querySelector("button");
  var room = document.getElementById("room");
  var roomTitle = document.getElementById("room-title");
  var roomCount = document.getElementById("room-count");
  var pinned = document.getElementById("room-pinned");
  var list = document.getElementById("room-messages");
  var compose = document.getElementById("room-compose");
  var textInput = compose.elements.text;

  var state = { socket: null, joined: null, kicked: false, lastId: 0 };

  var showAlert = alerter(alertBox);

  function send(frame) {
    return Boolean(state.socket) && state.socket.send(frame);
  }

  // --- Messages ----------------------------------------------------------------------------------

  function addMessage(frame) {
    if (frame.id <= state.lastId) {
      return;
    }
    state.lastId = frame.id;
    var item = groupMessage(frame, S.moderator);
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function removeMessage(id) {
    var item = list.querySelector('[data-id="' + Number(id) + '"]');
    if (item) {
      item.classList.add("g-removed");
      item.querySelector(".g-text").textContent = S.removed;
    }
  }

  function showPinned(text) {
    pinned.textContent = text || "";
    pinned.hidden = !text;
  }

  // --- States ------------------------------------------------------------------------------------

  function enterRoom(frame) {
    state.joined = { nickname: frame.nickname, invite: inviteInput.value.trim() };
    joinForm.hidden = true;
    room.hidden = false;
    roomTitle.textContent = frame.title || "";
    if (frame.meeting) { // addition (issue 21): a closed series' "meeting 3 of 8"
      roomTitle.textContent += " – " + t("meeting", { number: frame.meeting.number, total: frame.meeting.of });
    }
    roomCount.textContent = t("participants", { count: frame.participants });
    showPinned(frame.pinned);
    status.textContent = t("joined", { nickname: frame.nickname });
    showAlert("");
    textInput.focus();
  }

  function leaveRoom(message) {
    state.joined = null;
    state.lastId = 0;
    list.textContent = "";
    room.hidden = true;
    joinForm.hidden = false;
    status.textContent = message;
  }

  function closedText(opensAt) {
    return opensAt ? t("closed", { when: dayAndTime(opensAt) }) : t("closed_unknown");
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "joined":
        enterRoom(frame);
        break;
      case "history":
        frame.messages.forEach(addMessage);
        break;
      case "message":
        addMessage(frame);
        break;
      case "removed":
        removeMessage(frame.id);
        break;
      case "participants":
        roomCount.textContent = t("participants", { count: frame.participants });
        break;
      case "pinned":
        showPinned(frame.text);
        break;
      case "closed":
        leaveRoom(closedText(frame.opens_at));
        break;
      case "error":
        if (frame.code === "kicked") {
          state.kicked = true;
          leaveRoom(S.kicked);
          joinForm.hidden = true;
        }
        showAlert(t(frame.code));
        break;
    }
  }

  // --- The socket --------------------------------------------------------------------------------

  function connected() {
    joinButton.disabled = false;
    if (state.joined) {
      // Back after a dropped connection: the same nickname again.
      var again = { type: "join", nickname: state.joined.nickname };
      if (state.joined.invite) {
        again.invite = state.joined.invite;
      }
      state.lastId = 0;
      list.textContent = "";
      send(again);
    } else {
      status.textContent = "";
    }
  }

  function disconnected() {
    joinButton.disabled = true;
    if (state.kicked) {
      return false;
    }
    status.textContent = S.reconnecting;
    return true;
  }

  function connect() {
    var path = "/ws/group/" + data.slug + "/";
    state.socket = keepConnected(path, { open: connected, frame: onFrame, close: disconnected }, MAX_RETRY_MS);
  }

  joinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var frame = { type: "join", nickname: nicknameInput.value.trim() };
    if (inviteInput.value.trim()) {
      frame.invite = inviteInput.value.trim();
    }
    showAlert("");
    send(frame);
  });

  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textInput.value;
    if (text.trim() && send({ type: "message", text: text })) {
      textInput.value = "";
    }
  });

  textInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });

  connect();
})();
