/*
 * The console's group moderation and follow-up panels (templates/chats/moderate.html).
 *
 * Through the console's own helper socket (console.js, `window.verkkoapuConsole`): it sends the
 * moderator frames (group_join, group_message, group_remove, group_kick, group_pin,
 * group_close) and shows the `follow_ups` list. Words from #moderation-data (json_script), times
 * in Helsinki time like the rest of the console (common.js). Texts from the socket go on the
 * page as text.
 */
import { alerter, clock, dayAndTime, el, groupMessage, pageData, translator } from "./common.js";

(function () {
  "use strict";

  var panel = document.getElementById("moderation");
  var followPanel = document.getElementById("follow-ups-panel");
  if (!panel || !window.verkkoapuConsole) {
    return;
  }
  var S = pageData("moderation-data");
  var t = translator(S);
  var showAlert = alerter(document.getElementById("moderation-alert"));
  var area = document.getElementById("moderated-sessions");
  var template = document.getElementById("moderated-session-template");
  var buttons = panel.querySelectorAll("[data-moderate]");

  var consoleSocket = window.verkkoapuConsole; // console.js: one socket for the whole page
  var state = { sessions: {}, wanted: {} };

  panel.hidden = buttons.length === 0;

  function send(frame) {
    return consoleSocket.send(frame);
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
    ["m-pin", "m-say"].forEach(function (form) {
      // Each session's fields their own ids, for the labels (screen readers name the fields).
      var field = node.querySelector("." + form + " textarea");
      field.id = form + "-" + frame.session;
      node.querySelector("." + form + " label").htmlFor = field.id;
    });
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
      if (window.confirm(S.confirm_close)) {
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
    var item = groupMessage(frame, S.moderator);
    var tools = el("span", "m-tools");
    tools.appendChild(tool(S.remove, "m-remove", function () {
      send({ type: "group_remove", session: frame.session, id: frame.id });
    }));
    if (frame.role !== "moderator") {
      tools.appendChild(tool(S.kick, "m-kick", function () {
        if (window.confirm(S.confirm_kick)) {
          send({ type: "group_kick", session: frame.session, nickname: frame.nickname });
        }
      }));
    }
    item.querySelector(".g-meta").appendChild(tools);
    view.list.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function tool(text, className, onClick) {
    var node = el("button", "g-button " + className, text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function onGroupFrame(frame) {
    var view = state.sessions[frame.session];
    switch (frame.type) {
      case "group_joined":
        view = sessionView(frame);
        view.count.textContent = t("participants", { count: frame.participants });
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
            item.querySelector(".g-text").textContent = S.removed;
            item.querySelectorAll(".m-tools button").forEach(function (b) { b.disabled = true; });
          }
        }
        break;
      case "group_participants":
        if (view) { view.count.textContent = t("participants", { count: frame.participants }); }
        break;
      case "group_closed":
        if (view) {
          view.node.querySelectorAll("form, .m-close").forEach(function (n) { n.hidden = true; });
          view.list.textContent = "";
          view.count.textContent = S.closed;
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
      li.textContent = t("follow_up", { when: dayAndTime(item.at), line: consoleSocket.lineName(item.service), until: clock(item.until) });
      if (item.waiting) {
        li.appendChild(el("span", "m-waiting", " " + S.waiting));
      }
      if (item.note) {
        li.appendChild(el("p", "g-hint", item.note));
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
        showAlert(S.none);
      } else if (frame.type === "error" && mine) {
        showAlert(frame.message);
      }
    }
  });
})();
