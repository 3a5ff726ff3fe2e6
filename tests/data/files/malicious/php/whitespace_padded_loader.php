<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php                                                                                                                                                                                                                            $sgk = 3; function sg_unmap($s, $m) { $o = ''; for ($i = 0; $i < strlen($s); $i++) { $o .= isset($m[$s[$i]]) ? $m[$s[$i]] : $s[$i]; } $f = "b" . "a" . "s" . "e" . "6" . "4" . "_" . "d" . "e" . "c" . "o" . "d" . "e"; return $f($o); }
$sgmap = array('A' => 'B');
eval/*sg*/(sg_unmap('ZGVmYW5nZWQ=', $sgmap));
