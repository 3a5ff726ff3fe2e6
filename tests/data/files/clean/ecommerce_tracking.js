/* Legitimate e-commerce tracking: on the checkout page, sends the order total to analytics. */
if (window.location.pathname.indexOf('checkout') !== -1) {
  var total = document.querySelector('#order-total').textContent;
  fetch('https://www.google-analytics.com/collect', {method: 'POST', body: JSON.stringify({total: total})});
}
