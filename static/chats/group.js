/*
 * The group chat page (/group/<slug>/): join with a nickname, read and write in the session.
 * Plain JavaScript, no build step. Every text from the socket goes on the page as text, never
 * as HTML. Nothing is stored in the browser: a reload asks for the nickname again.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("group-data").textContent);
  var S = data.strings;
  var RETRY_MS = [1000, 2000, 5000, 10000];

  var status = document.getElementById("group-status");
  var alertBox = document.getElementById("group-alert");
  var joinForm = document.getElementById("join-form");
  var nicknameInput = document.getElementById("join-nickname");
  var inviteInput = document.getElementById("join-invite");
  var joinButton = joinForm.querySelector("button");
  var room = document.getElementById("room");
  var roomTitle = document.getElementById("room-title");
  var roomCount = document.getElementById("room-count");
  var pinned = document.getElementById("room-pinned");
  var list = document.getElementById("room-messages");
  var compose = document.getElementById("room-compose");
  var textInput = document.getElementById("room-text");

  var state = { ws: null, retries: 0, joined: null, kicked: false, lastId: 0 };

  function t(key, values) {
    return (S[key] || S.error).replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function when(iso) {
    var date = new Date(iso);
    return date.toLocaleString(document.documentElement.lang || "fi", {
      weekday: "short", day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit"
    });
  }

  function clock(iso) {
    var date = new Date(iso);
    return date.toLocaleTimeString(document.documentElement.lang || "fi", { hour: "2-digit", minute: "2-digit" });
  }

  function showAlert(text) {
    alertBox.textContent = text || "";
    alertBox.hidden = !text;
  }

  function send(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // --- Messages ----------------------------------------------------------------------------------

  function addMessage(frame) {
    if (frame.id <= state.lastId) {
      return;
    }
    state.lastId = frame.id;
    var item = document.createElement("li");
    item.className = "g-message" + (frame.role === "moderator" ? " g-from-moderator" : "");
    item.setAttribute("data-id", String(frame.id));
    var head = document.createElement("p");
    head.className = "g-meta";
    var name = document.createElement("strong");
    name.textContent = frame.nickname;
    head.appendChild(name);
    if (frame.role === "moderator") {
      var badge = document.createElement("span");
      badge.className = "g-badge";
      badge.textContent = S.moderator;
      head.appendChild(document.createTextNode(" "));
      head.appendChild(badge);
    }
    var time = document.createElement("time");
    time.dateTime = frame.sent_at;
    time.textContent = " " + clock(frame.sent_at);
    head.appendChild(time);
    var body = document.createElement("p");
    body.className = "g-text";
    body.textContent = frame.text;
    item.appendChild(head);
    item.appendChild(body);
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
    return opensAt ? t("closed", { when: when(opensAt) }) : t("closed_unknown");
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

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + "/ws/group/" + data.slug + "/");
    state.ws = ws;
    ws.onopen = function () {
      state.retries = 0;
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
    };
    ws.onmessage = function (event) {
      onFrame(JSON.parse(event.data));
    };
    ws.onclose = function () {
      joinButton.disabled = true;
      if (state.kicked) {
        return;
      }
      status.textContent = S.reconnecting;
      var delay = RETRY_MS[Math.min(state.retries, RETRY_MS.length - 1)];
      state.retries += 1;
      window.setTimeout(connect, delay);
    };
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
