/*
 * The asker's letter pages (/letters/): quick exit, by the button or Esc pressed twice.
 * The page is replaced in the history by a neutral one, so Back does not come here; the pages
 * store nothing in the browser, and sessionStorage is cleared anyway.
 */
(function () {
  "use strict";

  var ESCAPE_TWICE_MS = 1200;
  var page = document.querySelector(".l-page");
  var neutralUrl = (page && page.getAttribute("data-neutral-url")) || "https://www.google.com/";
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
  });

  var buttons = document.querySelectorAll(".l-exit");
  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].addEventListener("click", quickExit);
  }
})();
