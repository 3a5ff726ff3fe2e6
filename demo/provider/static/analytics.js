/* NimbusPay Insights widget v2.3.1 (demo): counts checkout page views for the merchant dashboard.
   Sends only the page path and the time; no form data. */
(function () {
  "use strict";
  var src = document.currentScript && document.currentScript.src;
  if (!src || !navigator.sendBeacon) { return; }
  var origin = src.split("/").slice(0, 3).join("/");
  navigator.sendBeacon(origin + "/widgets/pageview", JSON.stringify({
    path: location.pathname,
    t: Date.now()
  }));
})();
