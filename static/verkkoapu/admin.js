// Verkkoapu's admin (templates/admin/base_site.html). Django's two-list selector (SelectFilter2)
// puts an aria-label on a plain <span> (the search icon), which ARIA does not allow: as an
// image the icon may carry it. The selector is built on "load"; this runs after it.
"use strict";
window.addEventListener("load", function () {
  window.setTimeout(function () {
    document.querySelectorAll("span.search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }, 0);
});
