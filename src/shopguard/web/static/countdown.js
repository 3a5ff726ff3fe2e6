// Live countdown for <time class="countdown" datetime="ISO">: the server renders the same text,
// so the page reads right without JavaScript; this only keeps it ticking. (No inline scripts: CSP.)
(function () {
  "use strict";
  function text(ms) {
    var left = Math.abs(Math.trunc(ms / 1000));
    var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
    var m = Math.floor((left % 3600) / 60), s = left % 60;
    var t = (d ? d + " d " : "") + h + " h " + (m < 10 ? "0" : "") + m + " min " + (s < 10 ? "0" : "") + s + " s";
    return ms >= 0 ? t + " left" : "overdue by " + t;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) { return; }
      el.textContent = text(due - now);
      el.classList.toggle("error", due < now);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
