// tuijian dashboard: refresh the page's content in place every N seconds, keeping open
// <details> open. Without JavaScript a <noscript> meta refresh does the same job.
(function () {
  "use strict";
  var seconds = parseInt(document.body.dataset.refresh || "30", 10);

  function openCodes(root) {
    return Array.prototype.map.call(root.querySelectorAll("details[open][data-code]"),
      function (d) { return d.dataset.code; });
  }

  function restore(root, codes) {
    root.querySelectorAll("details[data-code]").forEach(function (d) {
      d.open = codes.indexOf(d.dataset.code) !== -1;
    });
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) { return; }
        var codes = openCodes(main);
        main.replaceWith(fresh);
        restore(fresh, codes);
      })
      .catch(function () { /* the server may be restarting: try again next time */ });
  }

  if (seconds > 0) { window.setInterval(refresh, seconds * 1000); }
})();
