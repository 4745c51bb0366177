// Live fragments without a build step: every element with data-live="<url>" is fetched again every 1.5 s and
// replaced when the server's HTML changed. The server renders the same template for the page and the fragment,
// so the page stays the single source of its markup. An element with data-live-stop is final and not polled;
// one holding the keyboard focus (someone typing in it) is left alone until they are done.
(function () {
  "use strict";
  var INTERVAL_MS = 1500;
  var busy = new WeakSet();

  function refresh(element) {
    if (busy.has(element)) return;
    busy.add(element);
    fetch(element.dataset.live, {credentials: "same-origin", headers: {"X-Requested-With": "live"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || !element.isConnected || element.contains(document.activeElement)) return;
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.firstElementChild;
        if (fresh && fresh.outerHTML !== element.outerHTML) element.replaceWith(fresh);
      })
      .catch(function () { /* offline for a moment: the next round tries again */ })
      .finally(function () { busy.delete(element); });
  }

  function round() {
    if (document.hidden) return;
    document.querySelectorAll("[data-live]:not([data-live-stop])").forEach(refresh);
  }

  setInterval(round, INTERVAL_MS);
})();
