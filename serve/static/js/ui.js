// Small DOM helpers shared by the views: element builder, icons, badges, errors, announcements.

import { t, formatPercent } from './i18n.js';

/** h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', child...) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'value' || name === 'checked') el[name] = value;
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Inline SVG icons (24x24, stroked). Decorative: the text next to them carries the meaning.
const ICONS = {
  logo: '<path d="M12 2 4 5v6c0 5 3.5 9 8 11 4.5-2 8-6 8-11V5z"/><path d="m9 12 2 2 4-4"/>',
  search: '<circle cx="11" cy="11" r="6"/><path d="m20 20-4.5-4.5"/>',
  list: '<path d="M9 6h11M9 12h11M9 18h11"/><path d="M4 6h.01M4 12h.01M4 18h.01"/>',
  chip:
    '<rect x="6" y="6" width="12" height="12" rx="2"/>' +
    '<path d="M9 2v4M15 2v4M9 18v4M15 18v4M2 9h4M2 15h4M18 9h4M18 15h4"/>',
  upload: '<path d="M12 16V4m0 0L7 9m5-5 5 5"/><path d="M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3"/>',
  camera: '<path d="M4 8h3l2-3h6l2 3h3v11H4z"/><circle cx="12" cy="13" r="3.5"/>',
  counterfeit: '<path d="M12 3 2 20h20z"/><path d="M12 10v4M12 17v.01"/>',
  genuine: '<path d="m5 12 5 5 9-10"/>',
  unsure:
    '<circle cx="12" cy="12" r="9"/><path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .8-1 1.5v.7M12 17v.01"/>',
  flame: '<path d="M12 3c3 4 6 6.5 6 10a6 6 0 0 1-12 0c0-2 1-3.5 2-4.5 0 2 1 3 2 3 0-3 0-5.5 2-8.5z"/>',
  left: '<path d="M15 18l-6-6 6-6"/>',
  right: '<path d="M9 18l6-6-6-6"/>',
  globe: '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c2.5 3 2.5 15 0 18M12 3c-2.5 3-2.5 15 0 18"/>',
  key: '<circle cx="8" cy="15" r="4"/><path d="m11 12 9-9M16 7l3 3M14 9l2 2"/>',
  external: '<path d="M14 4h6v6M20 4l-9 9"/><path d="M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"/>',
  keyboard:
    '<rect x="2" y="6" width="20" height="12" rx="2"/><path d="M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10"/>',
  trash: '<path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>',
  refresh: '<path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7"/>',
};

export function icon(name) {
  const span = document.createElement('span');
  span.className = 'icon';
  span.setAttribute('aria-hidden', 'true');
  span.innerHTML =
    '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" ' +
    `stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${ICONS[name] || ''}</svg>`;
  return span;
}

export const PRIORITIES = ['high', 'medium', 'low'];
const PRIORITY_LABELS = { high: 'priority.high', medium: 'priority.medium', low: 'priority.low' };
export const VERDICTS = ['counterfeit', 'genuine', 'unsure'];
const VERDICT_LABELS = {
  counterfeit: 'verdict.counterfeit',
  genuine: 'verdict.genuine',
  unsure: 'verdict.unsure',
};

export function priorityLabel(priority) {
  return PRIORITY_LABELS[priority] ? t(PRIORITY_LABELS[priority]) : String(priority);
}

export function verdictLabel(verdict) {
  return VERDICT_LABELS[verdict] ? t(VERDICT_LABELS[verdict]) : String(verdict);
}

/** Coloured badge; the word is always there, so colour is never the only signal. */
export function priorityBadge(priority) {
  return h(
    'span',
    { class: `badge badge-${priority}`, title: t('priority.label') },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    `${t('priority.short')}: ${priorityLabel(priority)}`,
  );
}

export function verdictChip(verdict) {
  return h('span', { class: `chip chip-${verdict}` }, icon(verdict), verdictLabel(verdict));
}

export function scoreBlock(score) {
  return h(
    'span',
    { class: 'score' },
    h('span', { class: 'score-value' }, formatPercent(score)),
    h('span', { class: 'score-label' }, t('score.label')),
  );
}

const STATUS_MESSAGES = {
  0: 'error.status.0',
  400: 'error.status.400',
  401: 'error.status.401',
  403: 'error.status.403',
  404: 'error.status.404',
  409: 'error.status.409',
  413: 'error.status.413',
  415: 'error.status.415',
  422: 'error.status.422',
  429: 'error.status.429',
  500: 'error.status.500',
  503: 'error.status.503',
};

/** The translated sentence for an ApiError (or any Error), without the server's detail. */
export function errorMessage(err) {
  const status = err && typeof err.status === 'number' ? err.status : -1;
  if (STATUS_MESSAGES[status]) return t(STATUS_MESSAGES[status]);
  if (status >= 500) return t('error.status.5xx', { status });
  if (status >= 400) return t('error.status.4xx', { status });
  return t('error.unexpected');
}

/** A worded error box: the translated message, then the server's own words if it gave any. */
export function errorBox(err, { retry, title } = {}) {
  const detail = err && err.detail !== undefined ? err.detail : err && err.message;
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h('p', { class: 'alert-title' }, title || errorMessage(err)),
    title ? h('p', {}, errorMessage(err)) : null,
    detail ? h('p', { class: 'alert-detail' }, t('error.detail', { detail })) : null,
    retry
      ? h('button', { type: 'button', class: 'btn', onclick: retry }, icon('refresh'), t('action.retry'))
      : null,
  );
}

export function loading(text) {
  return h(
    'p',
    { class: 'loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    text || t('state.loading'),
  );
}

/** Say something to screen-reader users (polite live region in index.html). */
export function announce(text) {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = '';
  // A fresh text node after a tick makes screen readers repeat identical messages.
  setTimeout(() => {
    live.textContent = text;
  }, 30);
}

/** A brief visible confirmation at the bottom of the screen (also announced). */
export function toast(text, kind = 'ok') {
  const host = document.getElementById('toasts');
  announce(text);
  if (!host) return;
  const el = h('div', { class: `toast toast-${kind}` }, text);
  host.append(el);
  setTimeout(() => el.remove(), 3500);
}

export function shortHash(hash, n = 12) {
  return hash && hash.length > n ? `${hash.slice(0, n)}…` : hash || '';
}

/** Only http(s) links from the data become clickable (no javascript: URLs). */
export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}
