// "Check photos": drop or pick photos (or take one with the phone camera), score each with the
// heat map, and show the results. Results stay while the tab is open, so an inspector can open
// an item and come back to the list.

import { api, imageObjectUrl } from '../api.js';
import { t, tn, formatPercent, formatSize } from '../i18n.js';
import { h, icon, priorityBadge, scoreBlock, errorBox, announce } from '../ui.js';
import { imageViewer, UrlBag } from '../viewer.js';
import { limitLength } from '../limits.js';

const results = []; // {key, name, state: 'pending' | 'done' | 'error', photoUrl, result, error}
const localUrls = new UrlBag(); // object URLs of the picked files, kept with the results
let listEl = null; // the mounted results list, or null while another view shows
let nextKey = 1;
let queue = Promise.resolve(); // photos are scored one after another: the server has few cores

export function title() {
  return t('check.title');
}

export function render(main) {
  const listingInput = limitLength(h('input', { id: 'check-listing', name: 'listing_id', type: 'text', autocomplete: 'off' }), 'listing_id');
  const sourceInput = limitLength(h('input', { id: 'check-source', name: 'source', type: 'text', autocomplete: 'on' }), 'source');
  // The file inputs stay focusable (keyboard and screen readers use them directly); their
  // labels are what sighted users see and click, styled as buttons.
  const pickInput = h('input', { id: 'check-files', type: 'file', accept: 'image/*', multiple: true, class: 'visually-hidden file-input' });
  const cameraInput = h('input', { id: 'check-camera', type: 'file', accept: 'image/*', capture: 'environment', class: 'visually-hidden file-input' });
  // Phones and tablets get a camera button (the capture attribute opens the camera directly).
  const touch = navigator.maxTouchPoints > 0 || matchMedia('(pointer: coarse)').matches;

  const submitFiles = (files) => {
    const photos = [...files];
    if (!photos.length) return;
    announce(tn('check.started', photos.length));
    photos.forEach((file) => enqueue(file, listingInput.value.trim(), sourceInput.value.trim()));
    drawList();
  };
  pickInput.addEventListener('change', () => {
    submitFiles(pickInput.files);
    pickInput.value = '';
  });
  cameraInput.addEventListener('change', () => {
    submitFiles(cameraInput.files);
    cameraInput.value = '';
  });

  const drop = h(
    'div',
    { class: 'dropzone', id: 'dropzone' },
    icon('upload'),
    h('p', { class: 'dropzone-text' }, touch ? t('check.dropTouch') : t('check.drop')),
    h(
      'div',
      { class: 'dropzone-actions' },
      pickInput,
      h('label', { for: 'check-files', class: 'btn btn-primary' }, icon('search'), t('check.pick')),
      touch ? cameraInput : null,
      touch ? h('label', { for: 'check-camera', class: 'btn' }, icon('camera'), t('check.camera')) : null,
    ),
    h('p', { class: 'hint' }, t('check.formats')),
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('is-over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('is-over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('is-over');
    // Every dropped file goes to the server, which says in words what it cannot read.
    submitFiles(e.dataTransfer.files);
  });

  listEl = h('ol', { class: 'results', id: 'check-results' });
  const clearBtn = h(
    'button',
    { type: 'button', class: 'btn btn-small btn-quiet', id: 'check-clear', onclick: clearResults },
    icon('trash'),
    t('check.clear'),
  );
  main.append(
    h('h1', { tabindex: '-1' }, t('check.title')),
    h('p', { class: 'lead' }, t('check.intro')),
    h(
      'form',
      { class: 'card check-form', onsubmit: (e) => e.preventDefault() },
      h(
        'div',
        { class: 'field-row' },
        h('div', { class: 'field' }, h('label', { for: 'check-listing' }, t('field.listingId')), listingInput, h('p', { class: 'hint' }, t('field.optional'))),
        h('div', { class: 'field' }, h('label', { for: 'check-source' }, t('field.source')), sourceInput, h('p', { class: 'hint' }, t('check.sourceHint'))),
      ),
      drop,
    ),
    h(
      'section',
      { class: 'results-section', 'aria-labelledby': 'results-heading' },
      h('div', { class: 'section-head' }, h('h2', { id: 'results-heading' }, t('check.results')), clearBtn),
      listEl,
    ),
  );
  drawList();
  return () => {
    listEl = null;
  };
}

function clearResults() {
  results.splice(0, results.length);
  localUrls.revokeAll();
  drawList();
  announce(t('check.cleared'));
}

function enqueue(file, listingId, source) {
  const entry = { key: nextKey++, name: file.name, size: file.size, state: 'pending' };
  entry.photoUrl = localUrls.add(URL.createObjectURL(file));
  results.unshift(entry);
  queue = queue.then(() => score(entry, file, listingId, source));
}

async function score(entry, file, listingId, source) {
  const form = new FormData();
  form.append('image', file, file.name);
  form.append('heatmap', 'true');
  if (listingId) form.append('listing_id', listingId);
  if (source) form.append('source', source);
  try {
    entry.result = await api('/v1/score', { method: 'POST', form });
    entry.state = 'done';
    announce(t('check.scored', { name: entry.name, score: formatPercent(entry.result.score) }));
  } catch (err) {
    entry.state = 'error';
    entry.error = err;
    announce(t('check.failedFor', { name: entry.name }));
  }
  replaceCard(entry);
}

function drawList() {
  if (!listEl) return;
  listEl.replaceChildren(...results.map(card));
  const clear = document.getElementById('check-clear');
  if (clear) clear.hidden = results.length === 0;
  if (!results.length) listEl.append(h('li', { class: 'empty' }, t('check.none')));
}

function replaceCard(entry) {
  if (!listEl) return;
  const old = listEl.querySelector(`[data-key="${entry.key}"]`);
  if (old) old.replaceWith(card(entry));
}

function card(entry) {
  const head = h(
    'div',
    { class: 'result-head' },
    h('span', { class: 'result-name', title: entry.name }, entry.name),
    h('span', { class: 'muted' }, formatSize(entry.size)),
  );
  if (entry.state === 'pending') {
    return h(
      'li',
      { class: 'card result is-pending', 'data-key': entry.key, 'aria-busy': 'true' },
      head,
      h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('check.scoring')),
    );
  }
  if (entry.state === 'error') {
    return h('li', { class: 'card result is-error', 'data-key': entry.key }, head, errorBox(entry.error));
  }
  const r = entry.result;
  const heat = r.heatmap_png_base64 ? `data:image/png;base64,${r.heatmap_png_base64}` : null;
  return h(
    'li',
    { class: 'card result', 'data-key': entry.key, 'data-item-id': r.id },
    head,
    imageViewer({
      photo: entry.photoUrl,
      // Browsers cannot show every format the server reads (HEIC): use its JPEG thumbnail then.
      fallbackPhoto: async () =>
        localUrls.add(await imageObjectUrl(`/v1/items/${encodeURIComponent(r.id)}/thumbnail`)),
      heatmap: heat,
      alt: t('check.photoAlt', { name: entry.name }),
    }),
    h(
      'div',
      { class: 'result-facts' },
      scoreBlock(r.score),
      priorityBadge(r.priority),
      r.cached ? h('span', { class: 'chip' }, t('check.cached')) : null,
    ),
    h(
      'p',
      { class: 'result-links' },
      h('a', { href: `#/item/${encodeURIComponent(r.id)}`, class: 'btn btn-small' }, t('check.openItem'), icon('right')),
    ),
  );
}
