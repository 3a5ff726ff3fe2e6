/* NimbusPay hosted form helpers: group the card number in fours while typing. */
(function () {
  "use strict";
  var input = document.querySelector('input[name="card-number"]');
  if (input) {
    input.addEventListener("input", function () {
      var digits = input.value.replace(/\D/g, "").slice(0, 19);
      input.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
    });
  }
})();
