/*
 * What the helper console (console.js, moderate.js) and the group chat page (group.js) share:
 * the page's words, times in the service's time zone, small DOM helpers and a socket that comes
 * back after a break. A native ES module, no build step: the pages load their scripts with
 * `<script type="module">` and import this by a relative path, which collectstatic rewrites to
 * the hashed name (verkkoapu/storage.py). The asker's widget (widget.js) stays a file of its own.
 *
 * Words: each page hands its words over in one `json_script` dict (`strings`), with Python's
 * `%(name)s` placeholders, the same msgids as any other Django text. A word that depends on a
 * number is a dict of plural forms ({"one": …, "other": …}, made with ngettext on the server),
 * chosen here by the language's plural rules and `values.n`.
 */

export function pageData(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

export function language() {
  return document.documentElement.lang || "fi";
}

// t(key, values) over a page's strings: the text with its %(name)s placeholders filled in.
export function translator(strings, fallback) {
  var rules = new Intl.PluralRules(language());
  return function t(key, values) {
    var text = key in strings ? strings[key] : strings[fallback];
    if (text && typeof text === "object") {
      var count = values && "n" in values ? Number(values.n) : 1;
      text = text[rules.select(count)] || text.other;
    }
    return String(text).replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  };
}

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

// An alert box (role="alert", hidden when empty): showAlert(text) shows it, showAlert("") hides.
export function alerter(box) {
  return function showAlert(text) {
    box.textContent = text || "";
    box.hidden = !text;
  };
}

// --- Times -------------------------------------------------------------------------------------

var CLOCK = { hour: "2-digit", minute: "2-digit" };
var DAY_AND_TIME = {
  weekday: "short",
  day: "numeric",
  month: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false
};

// A time as the service reads it: in its time zone (Helsinki), in the page's language, whatever
// the browser's own zone (a helper abroad, a laptop left on UTC).
export function helsinkiTime(iso, options) {
  var date = new Date(iso);
  if (isNaN(date.getTime())) {
    return "";
  }
  var shown = Object.assign({ timeZone: "Europe/Helsinki" }, options);
  return date.toLocaleString(language(), shown);
}

export function clock(iso) {
  return helsinkiTime(iso, CLOCK);
}

export function dayAndTime(iso) {
  return helsinkiTime(iso, DAY_AND_TIME);
}

// --- The socket --------------------------------------------------------------------------------

// A WebSocket to `path` on this host that reconnects after a break, waiting 1, 2, 4… seconds
// (at most `maxDelay`, with a little jitter so that a restarted server is not hit at once).
// handlers.open() after each connection, handlers.frame(frame) for each JSON frame, and
// handlers.close(event) after a break: returning false from it stops the reconnecting.
export function keepConnected(path, handlers, maxDelay) {
  var socket = { ws: null, retries: 0 };

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + path);
    socket.ws = ws;
    ws.onopen = function () {
      socket.retries = 0;
      if (handlers.open) {
        handlers.open();
      }
    };
    ws.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handlers.frame(frame);
    };
    ws.onclose = function (event) {
      if (handlers.close && handlers.close(event) === false) {
        return;
      }
      var delay = Math.min(maxDelay || 30000, 1000 * Math.pow(2, socket.retries)) + Math.random() * 500;
      socket.retries += 1;
      window.setTimeout(connect, delay);
    };
  }

  // send(frame): true when the frame went out, false while the connection is down.
  socket.send = function (frame) {
    if (!socket.ws || socket.ws.readyState !== WebSocket.OPEN) {
      return false;
    }
    socket.ws.send(JSON.stringify(frame));
    return true;
  };
  connect();
  return socket;
}

// --- Group chats -------------------------------------------------------------------------------

// One message of a group session (group.js and the console's moderation panel): the nickname,
// a badge for a moderator's message, the time and the text.
export function groupMessage(frame, moderatorBadge) {
  var item = el("li", "g-message" + (frame.role === "moderator" ? " g-from-moderator" : ""));
  item.setAttribute("data-id", String(frame.id));
  var head = el("p", "g-meta");
  head.appendChild(el("strong", null, frame.nickname));
  if (frame.role === "moderator" && moderatorBadge) {
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "g-badge", moderatorBadge));
  }
  var time = el("time", null, " " + clock(frame.sent_at));
  time.dateTime = frame.sent_at;
  head.appendChild(time);
  item.appendChild(head);
  item.appendChild(el("p", "g-text", frame.text));
  return item;
}
