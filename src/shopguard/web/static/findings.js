// Findings list: the "select all" box ticks every finding on the page for a bulk action.
// A static file, not inline script: the dashboard's CSP allows only scripts from itself.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.id === "select-all") {
    document.querySelectorAll('input[name="ids"]').forEach((c) => { c.checked = box.checked; });
  }
});
