/*
 * Quick exit for the asker's standalone pages (feedback, its thanks page, the group page, the
 * letter pages): the button, or Esc pressed twice within 1.2 s. The page is hidden at once and replaced in the
 * history by a neutral one, so Back does not come here; sessionStorage is cleared.
 */
(function () {
  "use strict";

  var ESCAPE_TWICE_MS = 1200;
  var buttons = document.querySelectorAll(".va-page-exit, .l-exit");
  var holder = document.querySelector("[data-neutral-url]");
  var neutralUrl = (holder && holder.getAttribute("data-neutral-url")) || "https://www.google.com/";
  var lastEscape = 0;

  function quickExit() {
    try {
      window.sessionStorage.clear();
    } catch (error) {
      // Storage disabled: nothing to clear.
    }
    document.documentElement.hidden = true;
    window.location.replace(neutralUrl);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    if (now - lastEscape < ESCAPE_TWICE_MS) {
      event.preventDefault();
      quickExit();
      return;
    }
    lastEscape = now;
  }, true);

  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].addEventListener("click", quickExit);
  }
})();
