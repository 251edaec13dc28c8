/* quart-authtuna passkeys: the browser half of WebAuthn. No dependencies, no inline code.
 *
 * Buttons opt in with data attributes:
 *   data-authtuna-passkey="register"   (settings page; reads #passkey-nickname if present)
 *   data-authtuna-passkey="login"      (sign-in page; also offers autofill when supported)
 *   data-authtuna-passkey="mfa"        (second-factor page)
 *   data-authtuna-passkey="reauth"     (confirm-it's-you page: one of the user's passkeys)
 *   data-authtuna-passkey="signup"     (passkey-first sign-up; reads data-token and
 *                                       #passkey-nickname, then shows the recovery codes)
 * Each button may carry data-prefix (default "/passkeys") and data-next (where to go after;
 * only a path on this origin is followed, anything else goes to "/").
 * Requests are JSON from this origin; the server checks the origin and keeps the challenges.
 */
(function () {
  "use strict";

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var padded = value.replace(/-/g, "+").replace(/_/g, "/");
    while (padded.length % 4) padded += "=";
    var text = atob(padded), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) {
          var first = (json.errors && json.errors[0]) || {};
          var error = new Error(first.message || "Something went wrong.");
          error.code = first.code;
          throw error;
        }
        return json.data || json;
      });
    });
  }

  function creationOptions(options) {
    options.challenge = fromBase64url(options.challenge);
    options.user.id = fromBase64url(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = fromBase64url(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    return options;
  }

  function attestationJSON(credential) {
    var r = credential.response;
    return {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
      response: {
        clientDataJSON: toBase64url(r.clientDataJSON),
        attestationObject: toBase64url(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      },
      clientExtensionResults: credential.getClientExtensionResults()
    };
  }

  function assertionJSON(credential) {
    var r = credential.response;
    return {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
      response: {
        clientDataJSON: toBase64url(r.clientDataJSON),
        authenticatorData: toBase64url(r.authenticatorData),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null
      },
      clientExtensionResults: credential.getClientExtensionResults()
    };
  }

  function report(button, error) {
    if (error.code === "reauthentication_required") {
      window.location.assign(button.getAttribute("data-reauth-url") +
        "?next=" + encodeURIComponent(window.location.pathname));
      return;
    }
    var box = document.getElementById(button.getAttribute("data-error-target") || "passkey-error");
    if (box) { box.textContent = error.message || String(error); box.hidden = false; }
  }

  // A path on this site, or null: "/x?y" passes; "//host", "/\host", "https://host",
  // "javascript:" and anything that resolves to another origin do not.
  function sameOriginPath(value) {
    if (typeof value !== "string" || value.charAt(0) !== "/" || /^\/[\/\\]/.test(value)) {
      return null;
    }
    try {
      var url = new URL(value, window.location.origin);
      return url.origin === window.location.origin ? url.pathname + url.search + url.hash : null;
    } catch (error) {
      return null;
    }
  }

  function go(button, data) {
    var next = sameOriginPath(button.getAttribute("data-next")) ||
      sameOriginPath(data && data.next) || "/";
    window.location.assign(next);
  }

  function register(button, prefix) {
    var input = document.getElementById("passkey-nickname");
    return post(prefix + "/register-options").then(function (options) {
      return navigator.credentials.create({publicKey: creationOptions(options)});
    }).then(function (credential) {
      return post(prefix + "/register", {
        credential: attestationJSON(credential),
        nickname: input && input.value ? input.value : "Passkey"
      });
    }).then(function () { window.location.reload(); });
  }

  function signup(button, prefix) {
    var input = document.getElementById("passkey-nickname");
    var token = button.getAttribute("data-token");
    return post(prefix + "/signup/options", {token: token}).then(function (options) {
      return navigator.credentials.create({publicKey: creationOptions(options)});
    }).then(function (credential) {
      return post(prefix + "/signup/complete", {
        token: token, credential: attestationJSON(credential),
        nickname: input && input.value ? input.value : "Passkey"
      });
    }).then(function (data) { showCodes(data); });
  }

  // The account exists and this browser is signed in: the codes, shown this once.
  function showCodes(data) {
    var list = document.getElementById("passkey-signup-codes");
    (data.recovery_codes || []).forEach(function (code) {
      var item = document.createElement("li"), text = document.createElement("code");
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
    var download = document.getElementById("passkey-signup-download");
    if (download) {
      download.setAttribute("href", "data:text/plain;charset=utf-8," +
        encodeURIComponent((data.recovery_codes || []).join("\n")));
    }
    var next = document.getElementById("passkey-signup-next");
    next.setAttribute("href", sameOriginPath(data.next) || "/");
    document.getElementById("passkey-signup").hidden = true;
    document.getElementById("passkey-signup-done").hidden = false;
    next.focus();
  }

  var conditional = null;

  function authenticate(button, prefix, kind, mediation) {
    if (conditional && !mediation) { conditional.abort(); conditional = null; }
    var path = {mfa: "/mfa-login", reauth: "/reauth"}[kind] || "/login";
    var optionsUrl = prefix + path + "-options", verifyUrl = prefix + path;
    return post(optionsUrl).then(function (options) {
      var request = {publicKey: requestOptions(options)};
      if (mediation) {
        conditional = new AbortController();
        request.mediation = mediation;
        request.signal = conditional.signal;
      }
      return navigator.credentials.get(request);
    }).then(function (credential) {
      return post(verifyUrl, {credential: assertionJSON(credential),
                              next: button.getAttribute("data-next") || ""});
    }).then(function (data) { go(button, data); });
  }

  function wire(button) {
    var kind = button.getAttribute("data-authtuna-passkey");
    var prefix = button.getAttribute("data-prefix") || "/passkeys";
    if (!window.PublicKeyCredential) { button.hidden = true; return; }
    button.hidden = false;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (conditional) { conditional.abort(); conditional = null; }
      button.disabled = true;
      var run = kind === "register" ? register(button, prefix)
        : kind === "signup" ? signup(button, prefix)
        : authenticate(button, prefix, kind, null);
      run.catch(function (error) { report(button, error); }).then(function () {
        button.disabled = false;
      });
    });
    if (kind === "login" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) authenticate(button, prefix, "login", "conditional").catch(function () {});
      });
    }
  }

  document.querySelectorAll("[data-authtuna-passkey]").forEach(wire);
})();
