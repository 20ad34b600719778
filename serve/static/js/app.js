// The console's entry point: language, access key prompt, and hash routing between the views
// (#/check, #/queue, #/item/ID, #/model, #/cases, #/case/ID, #/reports, #/dashboard, #/sellers,
// #/seller/SOURCE/ID). Each view renders into <main> and returns a cleanup.

import { onKeyNeeded, getKey, setKey } from './api.js';
import { initI18n, setLanguage, language, applyTranslations, t } from './i18n.js';
import { installHelpShortcut } from './shortcuts.js';
import { errorBox, toast } from './ui.js';
import * as check from './views/check.js';
import * as queue from './views/queue.js';
import * as item from './views/item.js';
import * as model from './views/model.js';
import * as cases from './views/cases.js';
import * as kase from './views/case.js';
import * as reports from './views/reports.js';
import * as dashboard from './views/dashboard.js';
import * as sellers from './views/sellers.js';
import * as seller from './views/seller.js';

const VIEWS = { check, queue, item, model, cases, case: kase, reports, dashboard, sellers, seller };
const DEFAULT_ROUTE = '#/check';
const NAV_OF = { case: 'cases', seller: 'sellers' }; // the section a detail page belongs to
let cleanup = null;

function parseHash(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [name, ...params] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name, params, query: new URLSearchParams(query) };
}

function route({ focus = true } = {}) {
  // "#main" (the skip link) and other plain anchors are not routes.
  if (location.hash && !location.hash.startsWith('#/')) return;
  const { name, params, query } = parseHash(location.hash);
  const view = VIEWS[name];
  if (!view) {
    history.replaceState(null, '', DEFAULT_ROUTE);
    route({ focus });
    return;
  }
  if (cleanup) cleanup();
  cleanup = null;
  const main = document.getElementById('main');
  main.replaceChildren();
  try {
    cleanup = view.render(main, params, query) || null;
  } catch (err) {
    console.error(err);
    main.replaceChildren(errorBox(err));
  }
  document.title = `${view.title()} · counterscan`;
  document.querySelectorAll('[data-route]').forEach((a) => {
    if (a.dataset.route === (NAV_OF[name] || name)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (focus) main.querySelector('h1')?.focus({ preventScroll: false });
}

// The key dialog: resolves with the key, or null when the inspector cancels.
function promptForKey({ rejected, detail }) {
  const dialog = document.getElementById('key-dialog');
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('#key-input');
  const error = dialog.querySelector('#key-error');
  error.replaceChildren();
  if (rejected) {
    error.append(errorBox({ status: 401, detail }, { title: t('key.rejected') }));
  }
  input.value = '';
  return new Promise((resolve) => {
    const finish = (value) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      cancelBtn.removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (key) finish(key);
      else input.focus();
    };
    const onCancel = (e) => {
      e.preventDefault();
      finish(null);
    };
    const cancelBtn = dialog.querySelector('[data-cancel]');
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel);
    cancelBtn.addEventListener('click', onCancel);
    dialog.showModal();
    input.focus();
  });
}

function setUpHeader() {
  const select = document.getElementById('lang-select');
  select.value = language();
  select.addEventListener('change', async () => {
    await setLanguage(select.value);
    route({ focus: false });
  });
  const forget = document.getElementById('forget-key');
  const showForget = () => {
    forget.hidden = !getKey();
  };
  forget.addEventListener('click', () => {
    setKey('');
    toast(t('key.forgotten'));
  });
  document.addEventListener('keychange', showForget);
  showForget();
  document.querySelector('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
}

async function start() {
  await initI18n();
  applyTranslations(document);
  onKeyNeeded(promptForKey);
  setUpHeader();
  installHelpShortcut();
  window.addEventListener('hashchange', () => route());
  route({ focus: false });
  document.body.classList.remove('is-loading');
}

start().catch((err) => {
  // Without the dictionaries nothing can be worded in the reader's language: say it in both.
  console.error(err);
  const box = document.createElement('div');
  box.className = 'alert alert-error';
  box.setAttribute('role', 'alert');
  box.textContent = `Không tải được giao diện. / The console could not load. (${err.message || err})`;
  document.getElementById('main').replaceChildren(box);
  document.body.classList.remove('is-loading');
});
