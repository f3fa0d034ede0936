/*
 * The console's group moderation and follow-up panels (templates/chats/moderate.html).
 *
 * Through the console's own helper socket (console.js, `window.verkkoapuConsole`): it sends the
 * moderator frames (group_join, group_message, group_remove, group_kick, group_pin,
 * group_close) and shows the `follow_ups` list. Texts from the socket go on the page as text.
 */
(function () {
  "use strict";

  var panel = document.getElementById("moderation");
  var followPanel = document.getElementById("follow-ups-panel");
  if (!panel || !window.verkkoapuConsole) {
    return;
  }
  var W = panel.dataset;
  var lang = document.documentElement.lang || "fi";
  var alertBox = document.getElementById("moderation-alert");
  var area = document.getElementById("moderated-sessions");
  var template = document.getElementById("moderated-session-template");
  var buttons = panel.querySelectorAll("[data-moderate]");

  var consoleSocket = window.verkkoapuConsole; // console.js: one socket for the whole page
  var state = { sessions: {}, wanted: {} };

  panel.hidden = buttons.length === 0;

  function showAlert(text) {
    alertBox.textContent = text || "";
    alertBox.hidden = !text;
  }

  function send(frame) {
    return consoleSocket.send(frame);
  }

  // Times as the rest of the console shows them: in the service's time zone (Helsinki), not
  // the browser's, which may be anywhere (a helper abroad, a laptop left on UTC).
  function helsinkiTime(iso, options) {
    return new Date(iso).toLocaleString(lang, Object.assign({ timeZone: "Europe/Helsinki" }, options));
  }

  function clock(iso) {
    return helsinkiTime(iso, { hour: "2-digit", minute: "2-digit" });
  }

  function when(iso) {
    return helsinkiTime(iso, {
      weekday: "short", day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit"
    });
  }

  // --- Group sessions --------------------------------------------------------------------------

  function sessionView(frame) {
    var known = state.sessions[frame.session];
    if (known) {
      return known;
    }
    var node = template.content.firstElementChild.cloneNode(true);
    node.setAttribute("data-session", String(frame.session));
    node.querySelector(".m-title").textContent = frame.title || "";
    var view = { node: node, list: node.querySelector(".g-messages"), count: node.querySelector(".g-count") };
    node.querySelector(".m-pin textarea").value = frame.pinned || "";
    node.querySelector(".m-pin").addEventListener("submit", function (event) {
      event.preventDefault();
      send({ type: "group_pin", session: frame.session, text: node.querySelector(".m-pin textarea").value });
    });
    node.querySelector(".m-say").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = node.querySelector(".m-say textarea");
      if (input.value.trim() && send({ type: "group_message", session: frame.session, text: input.value })) {
        input.value = "";
      }
    });
    node.querySelector(".m-close").addEventListener("click", function () {
      if (window.confirm(W.confirmClose)) {
        send({ type: "group_close", session: frame.session });
      }
    });
    area.appendChild(node);
    state.sessions[frame.session] = view;
    return view;
  }

  function addMessage(view, frame) {
    if (view.list.querySelector('[data-id="' + Number(frame.id) + '"]')) {
      return;
    }
    var item = document.createElement("li");
    item.className = "g-message" + (frame.role === "moderator" ? " g-from-moderator" : "");
    item.setAttribute("data-id", String(frame.id));
    var head = document.createElement("p");
    head.className = "g-meta";
    var name = document.createElement("strong");
    name.textContent = frame.nickname;
    head.appendChild(name);
    head.appendChild(document.createTextNode(" " + clock(frame.sent_at)));
    var tools = document.createElement("span");
    tools.className = "m-tools";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "g-button m-remove";
    remove.textContent = W.remove;
    remove.addEventListener("click", function () {
      send({ type: "group_remove", session: frame.session, id: frame.id });
    });
    tools.appendChild(remove);
    if (frame.role !== "moderator") {
      var kick = document.createElement("button");
      kick.type = "button";
      kick.className = "g-button m-kick";
      kick.textContent = W.kick;
      kick.addEventListener("click", function () {
        if (window.confirm(W.confirmKick)) {
          send({ type: "group_kick", session: frame.session, nickname: frame.nickname });
        }
      });
      tools.appendChild(kick);
    }
    head.appendChild(tools);
    var body = document.createElement("p");
    body.className = "g-text";
    body.textContent = frame.text;
    item.appendChild(head);
    item.appendChild(body);
    view.list.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function onGroupFrame(frame) {
    var view = state.sessions[frame.session];
    switch (frame.type) {
      case "group_joined":
        view = sessionView(frame);
        view.count.textContent = W.participants + " " + frame.participants;
        frame.messages.forEach(function (message) { addMessage(view, message); });
        showAlert("");
        break;
      case "group_message":
        if (view) { addMessage(view, frame); }
        break;
      case "group_removed":
        if (view) {
          var item = view.list.querySelector('[data-id="' + Number(frame.id) + '"]');
          if (item) {
            item.classList.add("g-removed");
            item.querySelector(".g-text").textContent = W.removed;
            item.querySelectorAll(".m-tools button").forEach(function (b) { b.disabled = true; });
          }
        }
        break;
      case "group_participants":
        if (view) { view.count.textContent = W.participants + " " + frame.participants; }
        break;
      case "group_closed":
        if (view) {
          view.node.querySelectorAll("form, .m-close").forEach(function (n) { n.hidden = true; });
          view.list.textContent = "";
          view.count.textContent = W.closed;
          delete state.sessions[frame.session];
        }
        break;
    }
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      state.wanted[button.getAttribute("data-moderate")] = true;
      send({ type: "group_join", service: button.getAttribute("data-moderate") });
    });
  });

  // --- Follow-ups ------------------------------------------------------------------------------

  function showFollowUps(items) {
    if (!followPanel) {
      return;
    }
    var list = document.getElementById("follow-ups");
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.setAttribute("data-follow-up", String(item.id));
      li.textContent = when(item.at) + " (" + consoleSocket.lineName(item.service) + ", " + W.until + " " + clock(item.until) + ")";
      if (item.waiting) {
        var badge = document.createElement("span");
        badge.className = "m-waiting";
        badge.textContent = " " + W.waiting;
        li.appendChild(badge);
      }
      if (item.note) {
        var note = document.createElement("p");
        note.className = "g-hint";
        note.textContent = item.note;
        li.appendChild(note);
      }
      list.appendChild(li);
    });
    followPanel.hidden = items.length === 0;
  }

  // --- The console's socket ------------------------------------------------------------------

  consoleSocket.add({
    open: function () {
      Object.keys(state.wanted).forEach(function (slug) {
        send({ type: "group_join", service: slug });
      });
    },
    frame: function (frame) {
      var mine = (consoleSocket.lastSent() || "").indexOf("group_") === 0;
      if (frame.type === "follow_ups") {
        showFollowUps(frame.follow_ups);
      } else if (frame.type.indexOf("group_") === 0) {
        onGroupFrame(frame);
      } else if (frame.type === "error" && frame.code === "not_found" && consoleSocket.lastSent() === "group_join") {
        showAlert(W.none);
      } else if (frame.type === "error" && mine) {
        showAlert(frame.message);
      }
    }
  });
})();
