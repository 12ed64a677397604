/*
 * Gatehouse — the project's own script (CSP script-src 'self': no inline
 * scripts, no eval). Every page works without it; this only adds comfort:
 *
 *  - after an htmx swap, focus moves into the new content so keyboard and
 *    screen-reader users land on the new step: the first [autofocus]
 *    element, else the first [role=alert], else the h1[tabindex="-1"];
 *  - the language switcher submits itself when its <select> changes (its
 *    submit button stays in the markup for no-JS users; once <html> has the
 *    class "js" the stylesheet hides it until it gets keyboard focus).
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

  // htmx fires afterSwap/afterSettle on each element that was swapped in
  // (with hx-swap="outerHTML" that is the new element, not the detached old
  // target), and the events bubble up to <body>.
  function swappedElement(evt) {
    var el = evt.target;
    if (el && el.nodeType === 1 && el.isConnected) {
      return el;
    }
    var target = evt.detail && evt.detail.target;
    if (target && target.isConnected) {
      return target;
    }
    return null;
  }

  function onAfterSwap(evt) {
    moveFocus(swappedElement(evt));
  }

  // Second chance once htmx has settled the new content (settle restores
  // attributes and runs after a short delay): only if focus is not already
  // inside it, so afterSwap + afterSettle never fight over the same swap.
  function onAfterSettle(evt) {
    var el = swappedElement(evt);
    if (!el) {
      return;
    }
    var active = document.activeElement;
    if (active && active !== document.body && el.contains(active)) {
      return;
    }
    moveFocus(el);
  }

  // ------------------------------------------------- language switcher
  //
  // A pointer choice submits at once. Arrow keys on a closed <select> also
  // fire "change" in some browsers; reloading the page there would be a
  // change of context on input (WCAG 3.2.2), so after keyboard navigation
  // the form waits for Enter (or the submit button, which the stylesheet
  // shows again when it gets focus).

  var LANG_SELECT = "form.lang-switch select";
  var keyboardNav = false;
  var dirty = null;

  function isLangSelect(el) {
    return !!(el && el.matches && el.matches(LANG_SELECT));
  }

  function submitForm(form) {
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function onKeyDown(evt) {
    var select = evt.target;
    if (!isLangSelect(select)) {
      return;
    }
    if (evt.key === "Enter") {
      keyboardNav = false;
      if (dirty === select) {
        dirty = null;
        evt.preventDefault();
        submitForm(select.form);
      }
      return;
    }
    if (evt.key !== "Tab" && evt.key !== "Shift" && evt.key !== "Escape") {
      keyboardNav = true;
    }
  }

  function onPointerDown(evt) {
    if (isLangSelect(evt.target)) {
      keyboardNav = false;
    }
  }

  function onChange(evt) {
    var select = evt.target;
    if (!isLangSelect(select)) {
      return;
    }
    if (keyboardNav) {
      dirty = select;
      return;
    }
    dirty = null;
    submitForm(select.form);
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
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("pointerdown", onPointerDown, true);
    document.addEventListener("mousedown", onPointerDown, true);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
