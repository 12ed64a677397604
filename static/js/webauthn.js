/*
 * Gatehouse — WebAuthn glue (security keys and passkeys). The project's own
 * script: no inline code, no eval (CSP script-src 'self').
 *
 * Markup (templates/partials/webauthn.html): a [data-webauthn] container
 * whose value is the ceremony ("register", "login" or "passkey"), with
 * data-begin (and data-finish for passkeys), a [data-webauthn-start] button
 * inside a <template data-webauthn-button> (this script puts it into the
 * page; without JavaScript it never shows), a [data-webauthn-result] field,
 * and a .webauthn-messages element whose data-* attributes hold the
 * translated messages.
 *
 * register / login: POST {} to data-begin, pass the options to the browser,
 * put JSON.stringify(credential.toJSON()) into the result field and submit
 * the form, so the server gets it like any other token (htmx or not).
 * passkey: the same, but the assertion goes to data-finish as JSON and the
 * answer names the page to open.
 *
 * Uses PublicKeyCredential.parseCreationOptionsFromJSON /
 * parseRequestOptionsFromJSON / credential.toJSON() where the browser has
 * them, and base64url conversion otherwise. Works after htmx swaps: every
 * listener is delegated from the document.
 *
 * Plain ES2017, no build step.
 */
(function () {
  "use strict";

  var CONTAINER = "[data-webauthn]";

  // ------------------------------------------------------------ support

  function supported() {
    return typeof window.PublicKeyCredential === "function" &&
      !!navigator.credentials &&
      typeof navigator.credentials.create === "function" &&
      typeof navigator.credentials.get === "function";
  }

  // ----------------------------------------------------------- base64url

  function toBuffer(b64url) {
    var s = String(b64url).replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64url(buf) {
    if (!buf) {
      return undefined;
    }
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: toBuffer(d.id) };
      if (d.transports) {
        out.transports = d.transports;
      }
      return out;
    });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.user = Object.assign({}, json.user, { id: toBuffer(json.user.id) });
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = toBuffer(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    var r = cred.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (typeof r.getTransports === "function") {
        response.transports = r.getTransports();
      }
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) {
        response.userHandle = toB64url(r.userHandle);
      }
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: response,
      clientExtensionResults: typeof cred.getClientExtensionResults === "function" ? cred.getClientExtensionResults() : {}
    };
  }

  // ------------------------------------------------------------ messages

  function messages(box) {
    var el = box.querySelector(".webauthn-messages");
    return (el && el.dataset) || {};
  }

  function show(box, selector, text) {
    var el = box.querySelector(selector);
    if (!el) {
      return;
    }
    el.textContent = text || "";
    el.hidden = !text;
  }

  function setError(box, text) {
    show(box, "[data-webauthn-status]", "");
    show(box, "[data-webauthn-error]", text);
    if (text) {
      var el = box.querySelector("[data-webauthn-error]");
      if (el && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "-1");
      }
    }
  }

  function setStatus(box, text) {
    show(box, "[data-webauthn-status]", text);
  }

  // A DOMException from the browser, in the user's terms.
  function browserError(box, err, kind, started, timeoutMS) {
    var msg = messages(box);
    var name = err && err.name;
    if (name === "InvalidStateError" && kind === "register") {
      return msg.duplicate;
    }
    if (name === "NotAllowedError" || name === "AbortError") {
      // Browsers report a timeout and a cancel alike; the clock tells them apart.
      if (timeoutMS && Date.now() - started >= timeoutMS - 1000) {
        return msg.timeout;
      }
      return msg.cancelled;
    }
    if (name === "NotSupportedError") {
      return msg.unsupported;
    }
    return msg.failed;
  }

  // --------------------------------------------------------------- HTTP

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().catch(function () {
        return {};
      }).then(function (data) {
        if (!res.ok) {
          var e = new Error(data.error || "HTTP " + res.status);
          e.serverMessage = data.error;
          throw e;
        }
        return data;
      });
    });
  }

  // ------------------------------------------------------------ ceremony

  var busy = false;

  function submitForm(form, submitter) {
    if (typeof form.requestSubmit === "function") {
      if (submitter && submitter.form === form && submitter.type === "submit") {
        form.requestSubmit(submitter);
      } else {
        form.requestSubmit();
      }
    } else {
      form.submit();
    }
  }

  function run(box, submitter) {
    if (busy || !box) {
      return;
    }
    var msg = messages(box);
    if (!supported()) {
      setError(box, msg.unsupported);
      return;
    }
    var kind = box.getAttribute("data-webauthn");
    var form = box.closest("form");
    var result = box.querySelector("[data-webauthn-result]");
    busy = true;
    setError(box, "");
    setStatus(box, msg.working);
    var started = 0;
    var timeoutMS = 0;
    var stage = "begin";
    postJSON(box.getAttribute("data-begin"), {}).then(function (options) {
      stage = "browser";
      var pk = options.publicKey;
      timeoutMS = pk.timeout || 0;
      started = Date.now();
      if (kind === "register") {
        return navigator.credentials.create({ publicKey: creationOptions(pk) });
      }
      return navigator.credentials.get({ publicKey: requestOptions(pk) });
    }).then(function (cred) {
      if (!cred) {
        throw new Error("no credential");
      }
      var json = credentialJSON(cred);
      stage = "finish";
      if (kind === "passkey") {
        var next = form && form.elements.namedItem("next");
        return postJSON(box.getAttribute("data-finish"), {
          credential: json,
          next: next ? next.value : ""
        }).then(function (answer) {
          window.location.assign(answer.redirect || "/");
        });
      }
      result.value = JSON.stringify(json);
      busy = false;
      setStatus(box, "");
      submitForm(form, submitter);
      return null;
    }).catch(function (err) {
      busy = false;
      if (result) {
        result.value = "";
      }
      var text;
      if (err && err.serverMessage) {
        text = err.serverMessage;
      } else if (stage === "browser") {
        text = browserError(box, err, kind, started, timeoutMS);
      } else {
        text = msg.failed;
      }
      setError(box, text);
      var el = box.querySelector("[data-webauthn-error]");
      if (el && typeof el.focus === "function") {
        el.focus();
      }
    });
  }

  // ------------------------------------------------------------- wiring

  // Put in the start buttons of containers in root (JS is on), or say the
  // browser cannot do WebAuthn.
  function init(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    var boxes = [];
    if (root.matches && root.matches(CONTAINER)) {
      boxes.push(root);
    }
    Array.prototype.push.apply(boxes, root.querySelectorAll(CONTAINER));
    boxes.forEach(function (box) {
      if (box.getAttribute("data-webauthn-ready") === "1") {
        return;
      }
      box.setAttribute("data-webauthn-ready", "1");
      if (!supported()) {
        if (box.getAttribute("data-webauthn") !== "passkey") {
          setError(box, messages(box).unsupported);
        }
        return;
      }
      box.querySelectorAll("template[data-webauthn-button]").forEach(function (tpl) {
        tpl.parentNode.insertBefore(tpl.content.cloneNode(true), tpl);
      });
    });
  }

  function onClick(evt) {
    var btn = evt.target && evt.target.closest && evt.target.closest("[data-webauthn-start]");
    if (!btn) {
      return;
    }
    evt.preventDefault();
    run(btn.closest(CONTAINER), null);
  }

  // The form's own submit button (Verify, Next) runs the ceremony while the
  // result is still empty. Buttons with a name (Back, other devices) submit
  // as they are. Capture phase: before htmx sees the submit.
  function onSubmit(evt) {
    var form = evt.target;
    if (!form || !form.querySelector) {
      return;
    }
    var box = form.querySelector('[data-webauthn="register"], [data-webauthn="login"]');
    if (!box || !supported()) {
      return;
    }
    var submitter = evt.submitter;
    if (submitter && submitter.name) {
      return;
    }
    var result = box.querySelector("[data-webauthn-result]");
    if (!result || result.value) {
      return;
    }
    evt.preventDefault();
    evt.stopPropagation();
    run(box, submitter);
  }

  function onSwap(evt) {
    init(evt.target);
  }

  function start() {
    init(document.body);
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit, true);
    document.body.addEventListener("htmx:afterSwap", onSwap);
    document.body.addEventListener("htmx:load", onSwap);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
