// Progressive enhancement for the caseworker pages; every page works without it.
// 1. A queue polls its own rows so new items appear without a reload.
// 2. The reply composer shows the SMS count as you type (counted by the server's own function).
(function () {
  "use strict";

  function csrfToken() {
    var field = document.querySelector('input[name="csrf"]');
    return field ? field.value : "";
  }

  function liveQueue(tbody) {
    var src = tbody.getAttribute("data-live-src");
    var status = document.getElementById("queue-live");
    var last = tbody.innerHTML;
    function poll() {
      // Do not replace rows while someone is using a form inside them.
      if (tbody.contains(document.activeElement) && document.activeElement !== document.body) {
        return;
      }
      fetch(src, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.status === 200) {
            var count = response.headers.get("X-Queue-Count");
            return response.text().then(function (html) { return [html, count]; });
          }
          return null;
        })
        .then(function (result) {
          if (!result || result[0] === last) { return; }
          last = result[0];
          tbody.innerHTML = result[0];
          last = tbody.innerHTML;
          if (status) {
            status.textContent = (status.getAttribute("data-text") || "").replace("{n}", result[1]);
          }
        })
        .catch(function () { /* the next poll tries again */ });
    }
    window.setInterval(poll, 3000);
  }

  function smsCounter(textarea) {
    var output = document.getElementById("sms-counter");
    var url = textarea.getAttribute("data-count-url");
    var timer = null;
    var seq = 0;
    function update() {
      var mine = ++seq;
      var body = new URLSearchParams();
      body.set("body", textarea.value);
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken() },
        body: body
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && mine === seq) {
            output.textContent = data.text;
            output.setAttribute("data-segments", String(data.count));
            output.setAttribute("data-encoding", data.encoding);
          }
        })
        .catch(function () { /* keep the last count */ });
    }
    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 120);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var rows = document.querySelector("[data-live-src]");
    if (rows) { liveQueue(rows); }
    var textarea = document.querySelector("textarea[data-count-url]");
    if (textarea) { smsCounter(textarea); }
    var summary = document.querySelector("[data-focus]");
    if (summary) { summary.focus(); }
  });
})();
