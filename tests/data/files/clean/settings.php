<?php
/** Plugin settings page. */
function sg_settings() {
  if (!current_user_can('manage_options')) { return; }
  $logo = base64_decode(get_option('sg_logo', ''));
  echo esc_html($_GET['tab'] ?? 'general');
}
