// Keyboard help: "?" anywhere (outside text fields) opens the list of shortcuts.

export function isTypingTarget(el) {
  if (!el || !el.closest) return false;
  if (el.closest('dialog[open]')) return true;
  return Boolean(el.closest('input, textarea, select, [contenteditable="true"]'));
}

export function openHelp() {
  const dialog = document.getElementById('help-dialog');
  if (dialog && !dialog.open) dialog.showModal();
}

export function installHelpShortcut() {
  document.addEventListener('keydown', (e) => {
    if (e.key !== '?' || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
    e.preventDefault();
    openHelp();
  });
  const dialog = document.getElementById('help-dialog');
  dialog?.querySelector('[data-close]')?.addEventListener('click', () => dialog.close());
}
