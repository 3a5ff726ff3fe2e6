/* ShopGuard test sample (defanged). */
eval(atob('Y29uc29sZS5sb2coJ3Nob3BndWFyZCBkZWZhbmdlZCBzYW1wbGUnKQ=='));
