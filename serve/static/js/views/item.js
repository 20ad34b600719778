// One scored photo: the full image with its heat map, the facts, the verdict buttons with a
// note, the verdict history, and the reviewed cases it matches (item_similar.js). Shortcuts
// c/g/u record a verdict here too.

import { api, imageObjectUrl, queryString } from '../api.js';
import { t, formatDateTime, formatPercent, formatNumber } from '../i18n.js';
import {
  h, icon, priorityBadge, verdictChip, verdictLabel, errorBox, loading, toast, errorMessage,
  safeHref, VERDICTS,
} from '../ui.js';
import { imageViewer, UrlBag } from '../viewer.js';
import { lastQueueHash, readState, apiParams } from './queue_state.js';
import { isTypingTarget } from '../shortcuts.js';
import { similarSection, priorityReason } from './item_similar.js';
import { limitLength } from '../limits.js';
import { caseSection } from './item_case.js';

const SHORTCUT_VERDICTS = { c: 'counterfeit', g: 'genuine', u: 'unsure' };

export function title() {
  return t('item.title');
}

export function render(main, params) {
  const id = params[0] || '';
  const urls = new UrlBag();
  const aborter = new AbortController();
  let item = null;
  let busy = false;

  const back = h('a', { href: lastQueueHash(), class: 'back-link' }, icon('left'), t('item.back'));
  const body = h('div', { class: 'item-body' }, loading());
  main.append(back, h('h1', { tabindex: '-1', id: 'item-heading' }, t('item.title')), body);

  async function load() {
    body.replaceChildren(loading());
    try {
      item = await api(`/v1/items/${encodeURIComponent(id)}`, { signal: aborter.signal });
      draw();
    } catch (err) {
      if (err.name === 'AbortError') return;
      body.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  const historyList = h('ol', { class: 'history', id: 'verdict-history' });
  const statusLine = h('p', { class: 'item-status', 'aria-live': 'polite' });
  const note = limitLength(h('textarea', { id: 'verdict-note', rows: '3' }), 'note');

  function draw() {
    main.querySelector('h1').textContent = item.listing_id
      ? t('item.headingListing', { listing: item.listing_id })
      : t('item.title');
    const viewer = imageViewer({
      photo: async () => urls.add(await imageObjectUrl(item.image_url, aborter.signal)),
      fallbackPhoto: async () => urls.add(await imageObjectUrl(item.thumbnail_url, aborter.signal)),
      heatmap: async () => urls.add(await imageObjectUrl(item.heatmap_url, aborter.signal)),
      alt: t('item.photoAlt', { name: item.listing_id || item.id }),
      large: true,
    });
    const buttons = VERDICTS.map((v) =>
      h('button', { type: 'button', class: `btn btn-verdict btn-${v}`, 'data-verdict': v, onclick: () => record(v) },
        icon(v), verdictLabel(v), h('kbd', { 'aria-hidden': 'true' }, keyFor(v))));
    const verdictForm = h('section', { class: 'card verdict-panel', 'aria-labelledby': 'verdict-heading' },
      h('h2', { id: 'verdict-heading' }, t('verdict.title')),
      statusLine,
      h('div', { class: 'field' }, h('label', { for: 'verdict-note' }, t('verdict.note')), note),
      h('div', { class: 'verdict-buttons', role: 'group', 'aria-label': t('verdict.title') }, buttons),
      h('p', { class: 'next-row' },
        h('button', { type: 'button', class: 'btn btn-quiet', id: 'next-item', onclick: nextItem }, t('item.next'), icon('right'))));
    body.replaceChildren(
      h('div', { class: 'item-grid' },
        h('div', { class: 'item-media' }, viewer),
        h('div', { class: 'item-side' },
          h('div', { class: 'card score-panel' },
            h('span', { class: 'score-big' }, formatPercent(item.score)),
            h('span', { class: 'score-caption' }, t('score.label')),
            priorityBadge(item.priority),
            priorityReason(item.priority_reason)),
          verdictForm,
          caseSection(item, { signal: aborter.signal }),
          facts(),
          h('section', { class: 'card', 'aria-labelledby': 'history-heading' },
            h('h2', { id: 'history-heading' }, t('item.history')), historyList))),
      similarSection(item, { urls, signal: aborter.signal }));
    drawStatus();
    drawHistory();
  }

  function facts() {
    const href = item.url ? safeHref(item.url) : null;
    const rows = [
      ['field.listingId', item.listing_id || '—'],
      ['field.source', item.source || '—'],
      ['item.link', href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, shortUrl(href), icon('external')) : item.url || '—'],
      ['item.created', h('time', { datetime: item.created_at }, formatDateTime(item.created_at))],
      ['item.modelVersion', item.model_version],
      ['item.size', item.width && item.height ? `${formatNumber(item.width)} × ${formatNumber(item.height)} px` : '—'],
      ['item.sha256', h('code', { class: 'hash', title: item.sha256 }, item.sha256)],
      ['item.phash', h('code', { class: 'hash' }, item.phash || '—')],
      ['item.id', h('code', { class: 'hash' }, item.id)],
    ];
    return h('section', { class: 'card', 'aria-labelledby': 'facts-heading' },
      h('h2', { id: 'facts-heading' }, t('item.facts')),
      h('dl', { class: 'facts' }, rows.flatMap(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)])));
  }

  function drawStatus() {
    statusLine.replaceChildren(item.verdict
      ? h('span', {}, t('item.currentVerdict'), ' ', verdictChip(item.verdict.verdict))
      : h('span', { class: 'muted' }, t('item.unreviewed')));
  }

  function drawHistory() {
    const verdicts = item.verdicts || [];
    if (!verdicts.length) {
      historyList.replaceChildren(h('li', { class: 'muted' }, t('item.noHistory')));
      return;
    }
    historyList.replaceChildren(...[...verdicts].reverse().map((v) =>
      h('li', {},
        verdictChip(v.verdict),
        h('span', { class: 'history-meta' },
          t('item.byWhom', { inspector: v.inspector || '—' }), ' · ',
          h('time', { datetime: v.created_at }, formatDateTime(v.created_at))),
        v.note ? h('p', { class: 'history-note' }, v.note) : null)));
  }

  async function record(verdict) {
    if (busy || !item) return;
    busy = true;
    main.querySelectorAll('.btn-verdict').forEach((b) => { b.disabled = true; });
    try {
      const body = { verdict };
      if (note.value.trim()) body.note = note.value.trim();
      const updated = await api(`/v1/items/${encodeURIComponent(item.id)}/verdict`, { method: 'POST', json: body });
      item = { ...item, ...updated };
      if (!updated.verdicts) item.verdicts = [...(item.verdicts || []), updated.verdict];
      note.value = '';
      drawStatus();
      drawHistory();
      toast(t('verdict.recorded', { verdict: verdictLabel(verdict) }));
    } catch (err) {
      toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
    } finally {
      busy = false;
      main.querySelectorAll('.btn-verdict').forEach((b) => { b.disabled = false; });
    }
  }

  // The next unreviewed photo of the list the inspector came from (same filters).
  async function nextItem() {
    const filters = readState(new URLSearchParams(lastQueueHash().split('?')[1] || ''));
    const query = { ...apiParams(filters), status: 'unreviewed', offset: 0, limit: 2 };
    try {
      const page = await api(`/v1/queue${queryString(query)}`);
      const next = page.items.find((i) => i.id !== item.id);
      if (next) location.hash = `#/item/${encodeURIComponent(next.id)}`;
      else toast(t('item.noNext'));
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
    if (SHORTCUT_VERDICTS[e.key]) {
      e.preventDefault();
      record(SHORTCUT_VERDICTS[e.key]);
    }
  }
  document.addEventListener('keydown', onKey);
  load();
  return () => {
    document.removeEventListener('keydown', onKey);
    aborter.abort();
    urls.revokeAll();
  };
}

function keyFor(verdict) {
  return Object.keys(SHORTCUT_VERDICTS).find((k) => SHORTCUT_VERDICTS[k] === verdict);
}

function shortUrl(href) {
  const u = new URL(href);
  const text = u.host + u.pathname;
  return text.length > 48 ? `${text.slice(0, 47)}…` : text;
}
