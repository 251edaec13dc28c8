/* quart-authtuna: a "Copy" button for a read-only field (progressive enhancement).
   Markup: <button data-authtuna-copy="FIELD_ID" hidden>; without JavaScript the field can be
   selected and copied by hand, so the button stays hidden. */
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
        button.textContent = "Copied";
        status("The key is on your clipboard.");
      }, function () {
        status("Copying failed: select the key and copy it by hand.");
      });
    });
  });
})();
