/* quart-authtuna: a "Copy" button for a read-only field (progressive enhancement).
   Markup: <button data-authtuna-copy="FIELD_ID" hidden>; without JavaScript the field can be
   selected and copied by hand, so the button stays hidden. The page gives the words, in the
   viewer's language: data-copied, data-copied-status, data-copy-failed. */
(function () {
  "use strict";
  function status(text) {
    var node = document.getElementById("copy-status");
    if (node) { node.textContent = text; }
  }
  function copy(field) {
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    return new Promise(function (resolve, reject) {
      (document.execCommand && document.execCommand("copy")) ? resolve() : reject();
    });
  }
  document.querySelectorAll("[data-authtuna-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-authtuna-copy"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(field).then(function () {
        button.textContent = button.getAttribute("data-copied") || "Copied";
        status(button.getAttribute("data-copied-status") || "The key is on your clipboard.");
      }, function () {
        status(button.getAttribute("data-copy-failed") ||
               "Copying failed: select the key and copy it by hand.");
      });
    });
  });
})();
