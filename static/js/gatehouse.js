/*
 * Gatehouse — the project's own script (CSP script-src 'self': no inline
 * scripts, no eval). Every page works without it; this only adds comfort:
 *
 *  - after an htmx swap, focus moves into the new content so keyboard and
 *    screen-reader users land on the new step: the first [autofocus]
 *    element, else the first [role=alert], else the h1[tabindex="-1"];
 *  - the language switcher submits itself when its <select> changes (its
 *    submit button stays in the markup for no-JS users and is hidden by the
 *    stylesheet once <html> has the class "js").
 *
 * Plain ES2017, no build step.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  if (root.classList) {
    root.classList.add("js");
  }

  // ---------------------------------------------------------- focus

  var FOCUS_SELECTORS = ["[autofocus]", "[role=alert]", 'h1[tabindex="-1"]'];

  function isFocusable(el) {
    if (!el || typeof el.focus !== "function") {
      return false;
    }
    if (el.disabled || el.hidden) {
      return false;
    }
    if (el.getAttribute("type") === "hidden") {
      return false;
    }
    // Skip elements that are not rendered (display:none, detached).
    if (el.getClientRects && el.getClientRects().length === 0) {
      return false;
    }
    return true;
  }

  // First match of a selector in the element itself or its descendants.
  function findIn(container, selector) {
    if (container.matches && container.matches(selector) && isFocusable(container)) {
      return container;
    }
    var found = container.querySelectorAll ? container.querySelectorAll(selector) : [];
    for (var i = 0; i < found.length; i++) {
      if (isFocusable(found[i])) {
        return found[i];
      }
    }
    return null;
  }

  function focusTarget(container) {
    for (var i = 0; i < FOCUS_SELECTORS.length; i++) {
      var el = findIn(container, FOCUS_SELECTORS[i]);
      if (el) {
        return el;
      }
    }
    return null;
  }

  function moveFocus(container) {
    if (!container || container.nodeType !== 1 || !container.isConnected) {
      return;
    }
    var target = focusTarget(container);
    if (!target) {
      return;
    }
    // [role=alert] paragraphs are not focusable by themselves.
    if (target.getAttribute("role") === "alert" && !target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    try {
      target.focus({ preventScroll: false });
    } catch (e) {
      target.focus();
    }
    if (typeof target.select === "function" && target.matches("input.code")) {
      target.select();
    }
  }

  // The element that was swapped in. With hx-swap="outerHTML" the original
  // target is detached after the swap, so look the new one up again by id.
  function swappedElement(evt) {
    var detail = evt.detail || {};
    var el = detail.elt || detail.target || evt.target;
    if (el && el.isConnected) {
      return el;
    }
    var target = detail.target;
    if (target && target.id) {
      return document.getElementById(target.id);
    }
    return null;
  }

  // Swaps that this handler already dealt with (afterSwap and afterSettle
  // both fire for one swap); afterSettle is the fallback once attributes have
  // settled, e.g. when afterSwap saw a detached element.
  var pending = null;

  function onAfterSwap(evt) {
    var el = swappedElement(evt);
    pending = el;
    if (el) {
      moveFocus(el);
    }
  }

  function onAfterSettle(evt) {
    var el = swappedElement(evt);
    if (!el) {
      return;
    }
    var active = document.activeElement;
    // Focus already inside the new content: nothing to do.
    if (active && active !== document.body && el.contains(active)) {
      pending = null;
      return;
    }
    if (pending === el || pending === null || !pending.isConnected) {
      moveFocus(el);
    }
    pending = null;
  }

  // ------------------------------------------------- language switcher

  function onChange(evt) {
    var select = evt.target;
    if (!select || !select.matches || !select.matches("form.lang-switch select")) {
      return;
    }
    var form = select.form;
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  // ---------------------------------------------------------- wiring

  function init() {
    var body = document.body;
    if (!body) {
      return;
    }
    // htmx may be missing (blocked, not yet copied to static/vendor/): these
    // listeners are then simply never called.
    body.addEventListener("htmx:afterSwap", onAfterSwap);
    body.addEventListener("htmx:afterSettle", onAfterSettle);
    document.addEventListener("change", onChange);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
