/*
 * The helper's letter thread page: a prepared text or referral goes into the reply at the
 * cursor with one click. Without script the texts are still there to read.
 */
(function () {
  "use strict";

  var reply = document.getElementById("answer-text");
  var buttons = document.querySelectorAll(".l-insert");
  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].addEventListener("click", function (event) {
      if (!reply) {
        return;
      }
      var text = event.currentTarget.getAttribute("data-text");
      var start = reply.selectionStart || reply.value.length;
      var end = reply.selectionEnd || start;
      reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
      reply.focus();
    });
  }
})();
