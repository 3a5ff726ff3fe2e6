/* Kestrel & Finch storefront helpers (needs jQuery). */
jQuery(function ($) {
  "use strict";
  // Quantity stepper on the product page.
  $(".stepper .step").on("click", function () {
    var input = $(this).siblings("input[name=qty]");
    var value = parseInt(input.val(), 10) || 1;
    var next = Math.min(20, Math.max(1, value + parseInt($(this).data("step"), 10)));
    input.val(next);
  });
  // Let the "added to basket" note fade away.
  $(".flash").delay(4000).fadeOut(600);
});
