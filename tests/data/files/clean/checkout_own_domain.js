/* A legitimate checkout helper: validates card fields, posts to the shop itself. */
document.querySelector('#checkout').addEventListener('submit', function (ev) {
  var number = document.querySelector('#cc_number').value.replace(/\s+/g, '');
  var cvv = document.querySelector('#cvv').value;
  if (number.length < 12 || cvv.length < 3) { ev.preventDefault(); return; }
  fetch('/checkout/validate', {method: 'POST', body: JSON.stringify({last4: number.slice(-4)})});
});
