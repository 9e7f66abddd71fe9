// Behaviour every page shares, instead of inline event handlers (the Content-Security-Policy
// allows no inline script):
//   <button data-confirm="Sure?">   asks before the click goes on (submit, link)
//   <select data-autosubmit>        submits its form when changed (the language picker)
//   <button data-print>             prints the page
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var target = e.target.closest ? e.target.closest("[data-confirm], [data-print]") : null;
    if (!target) return;
    if (target.hasAttribute("data-print")) {
      e.preventDefault();
      window.print();
      return;
    }
    if (!window.confirm(target.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) e.target.form.submit();
  });
})();
