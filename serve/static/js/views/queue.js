// The inspection queue: unreviewed photos ranked as the API ranks them (priority, then score),
// with filters, paging and keyboard shortcuts (j/k move, c/g/u record a verdict, Enter opens).

import { api, imageObjectUrl, queryString } from '../api.js';
import { t, tn, formatPercent, formatAge, formatDateTime, formatNumber } from '../i18n.js';
import {
  h, icon, priorityBadge, verdictChip, verdictLabel, errorBox, loading, toast,
  errorMessage, PRIORITIES, VERDICTS, priorityLabel,
} from '../ui.js';
import { UrlBag } from '../viewer.js';
import { readState, stateToHash, apiParams, rememberQueue, STATUSES, STATUS_LABELS, COUNT_KEYS, PAGE_SIZES } from './queue_state.js';
import { openHelp, isTypingTarget } from '../shortcuts.js';
import { limitLength } from '../limits.js';

const SHORTCUT_VERDICTS = { c: 'counterfeit', g: 'genuine', u: 'unsure' };

export function title() {
  return t('queue.title');
}

export function render(main, params, query) {
  let state = readState(query);
  let rows = []; // [{item, el}]
  let selected = -1;
  let reviewedHere = 0; // verdicts recorded on this page: they leave the unreviewed list
  let total = 0;
  let estimated = false; // beyond a cap the server estimates the total and says so
  let more = false; // the server has a next page (next_cursor)
  const urls = new UrlBag();
  let aborter = new AbortController();

  const summary = h('p', { class: 'lead', 'aria-live': 'polite', id: 'queue-summary' });
  const list = h('ol', { class: 'queue-list', id: 'queue-list', 'aria-labelledby': 'queue-heading' });
  const pager = h('nav', { class: 'pager', 'aria-label': t('queue.paging') });
  const body = h('div', { class: 'queue-body' });
  main.append(
    h('div', { class: 'page-head' },
      h('h1', { id: 'queue-heading', tabindex: '-1' }, t('queue.title')),
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: openHelp },
        icon('keyboard'), t('shortcuts.button'))),
    summary,
    filterForm(),
    body,
  );

  function filterForm() {
    const boxes = PRIORITIES.map((p) =>
      h('label', { class: `check check-${p}` },
        h('input', { type: 'checkbox', name: 'priority', value: p, checked: state.priorities.includes(p) }),
        priorityLabel(p)));
    const source = limitLength(h('input', { id: 'queue-source', type: 'search', value: state.source }), 'source');
    const status = h('select', { id: 'queue-status' },
      STATUSES.map((s) => h('option', { value: s, selected: s === state.status }, t(STATUS_LABELS[s]))));
    const size = h('select', { id: 'queue-size' },
      PAGE_SIZES.map((n) => h('option', { value: n, selected: n === state.limit }, formatNumber(n))));
    const form = h('form', { class: 'card filters', role: 'search', 'aria-label': t('queue.filters') },
      h('fieldset', { class: 'field' }, h('legend', {}, t('priority.label')), h('div', { class: 'checks' }, boxes)),
      h('div', { class: 'field' }, h('label', { for: 'queue-source' }, t('field.source')), source),
      h('div', { class: 'field' }, h('label', { for: 'queue-status' }, t('queue.statusLabel')), status),
      h('div', { class: 'field' }, h('label', { for: 'queue-size' }, t('queue.pageSize')), size),
      h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('queue.apply'))));
    const apply = () => {
      state = {
        priorities: [...form.querySelectorAll('input[name=priority]:checked')].map((b) => b.value),
        source: source.value.trim(),
        status: status.value,
        limit: Number(size.value),
        offset: 0,
      };
      load();
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
    form.querySelectorAll('input[type=checkbox], select').forEach((c) => c.addEventListener('change', apply));
    return form;
  }

  async function load() {
    aborter.abort();
    aborter = new AbortController();
    urls.revokeAll();
    const hash = stateToHash(state);
    history.replaceState(null, '', hash);
    rememberQueue(hash);
    reviewedHere = 0;
    body.replaceChildren(loading());
    try {
      const page = await api(`/v1/queue${queryString(apiParams(state))}`, { signal: aborter.signal });
      total = page.total;
      estimated = Boolean(page.total_is_estimate);
      more = page.next_cursor != null;
      rows = page.items.map((item) => ({ item, el: row(item) }));
      list.replaceChildren(...rows.map((r) => r.el));
      body.replaceChildren(rows.length ? list : emptyState(), pager);
      selected = -1;
      drawSummary();
      drawPager();
      loadThumbnails(aborter.signal);
    } catch (err) {
      if (err.name === 'AbortError') return;
      body.replaceChildren(errorBox(err, { retry: load }));
      summary.textContent = '';
    }
  }

  function emptyState() {
    return h('div', { class: 'card empty' },
      h('p', {}, state.offset ? t('queue.pageEmpty') : t('queue.empty')),
      h('p', {}, h('a', { href: '#/check' }, t('queue.goCheck'))));
  }

  function drawSummary() {
    summary.textContent = tn(COUNT_KEYS[state.status], Math.max(0, total), { n: shownTotal() });
  }

  function shownTotal() {
    return `${estimated ? '≈' : ''}${formatNumber(Math.max(0, total))}`;
  }

  function drawPager() {
    const from = rows.length ? state.offset + 1 : 0;
    const to = state.offset + rows.length;
    const nextOffset = state.offset + state.limit - (state.status === 'unreviewed' ? reviewedHere : 0);
    const go = (offset) => { state = { ...state, offset: Math.max(0, offset) }; load(); main.querySelector('h1').focus(); };
    pager.replaceChildren(
      h('button', { type: 'button', class: 'btn', disabled: state.offset === 0, onclick: () => go(state.offset - state.limit) },
        icon('left'), t('queue.prev')),
      h('span', { class: 'pager-range' }, t('queue.range', { from: formatNumber(from), to: formatNumber(to), total: shownTotal() })),
      h('button', { type: 'button', class: 'btn', disabled: estimated ? !more : to >= total + reviewedHere, onclick: () => go(nextOffset) },
        t('queue.next'), icon('right')),
    );
  }

  function row(item) {
    const place = item.listing_id || item.source || item.id;
    const thumb = h('img', { class: 'thumb', alt: t('queue.thumbAlt', { name: place }), 'data-src': item.thumbnail_url });
    const meta = [];
    if (item.listing_id) meta.push(h('span', {}, `${t('field.listingId')}: `, h('strong', {}, item.listing_id)));
    if (item.source) meta.push(h('span', {}, `${t('field.source')}: `, h('strong', {}, item.source)));
    const age = h('time', { datetime: item.created_at, title: formatDateTime(item.created_at) }, formatAge(item.created_at));
    const link = h('a', { class: 'row-link', href: `#/item/${encodeURIComponent(item.id)}` },
      h('span', { class: 'thumb-box' }, thumb),
      h('span', { class: 'row-main' },
        h('span', { class: 'row-top' },
          h('span', { class: 'row-score' }, formatPercent(item.score)), priorityBadge(item.priority)),
        h('span', { class: 'row-meta' }, meta.length ? meta : h('span', { class: 'muted' }, t('queue.noListing'))),
        h('span', { class: 'row-meta muted' }, age)));
    const status = h('span', { class: 'row-status' }, item.verdict ? verdictChip(item.verdict.verdict) : null);
    const actions = h('div', { class: 'row-actions', role: 'group', 'aria-label': t('verdict.groupFor', { name: place }) },
      VERDICTS.map((v) => h('button', {
        type: 'button', class: `btn btn-small btn-${v}`, 'data-verdict': v,
        title: t('verdict.shortcutHint', { key: Object.keys(SHORTCUT_VERDICTS).find((k) => SHORTCUT_VERDICTS[k] === v) }),
        onclick: () => record(rows.findIndex((r) => r.item.id === item.id), v),
      }, icon(v), verdictLabel(v))));
    const li = h('li', { class: 'queue-row', 'data-id': item.id, 'data-priority': item.priority }, link, status, actions);
    if (item.verdict) li.classList.add('is-done');
    li.addEventListener('focusin', () => select(rows.findIndex((r) => r.item.id === item.id), false));
    return li;
  }

  async function loadThumbnails(signal) {
    const pending = rows.map((r) => r.el.querySelector('img.thumb'));
    const worker = async () => {
      for (let img = pending.shift(); img; img = pending.shift()) {
        try {
          img.src = urls.add(await imageObjectUrl(img.dataset.src, signal));
        } catch (err) {
          if (err.name === 'AbortError') return;
          img.replaceWith(h('span', { class: 'thumb thumb-missing', title: errorMessage(err) }, '?'));
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  }

  function select(index, focus = true) {
    if (index < 0 || index >= rows.length) return;
    if (selected >= 0 && rows[selected]) rows[selected].el.classList.remove('is-selected');
    selected = index;
    const el = rows[index].el;
    el.classList.add('is-selected');
    if (focus) {
      el.querySelector('.row-link').focus();
      el.scrollIntoView({ block: 'nearest' });
    }
  }

  async function record(index, verdict) {
    if (index < 0) return;
    const { item, el } = rows[index];
    el.setAttribute('aria-busy', 'true');
    try {
      const updated = await api(`/v1/items/${encodeURIComponent(item.id)}/verdict`, { method: 'POST', json: { verdict } });
      if (!item.verdict && state.status === 'unreviewed') {
        reviewedHere += 1;
        total -= 1;
      }
      rows[index].item = { ...item, ...updated };
      el.classList.add('is-done');
      el.querySelector('.row-status').replaceChildren(verdictChip(verdict));
      toast(t('verdict.recorded', { verdict: verdictLabel(verdict) }));
      drawSummary();
      drawPager();
      const next = rows.findIndex((r, i) => i > index && !r.el.classList.contains('is-done'));
      if (next >= 0 && index === selected) select(next);
    } catch (err) {
      toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
    } finally {
      el.removeAttribute('aria-busy');
    }
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
    if (e.key === 'j') select(Math.min(selected + 1, rows.length - 1));
    else if (e.key === 'k') select(Math.max(selected - 1, 0));
    else if (SHORTCUT_VERDICTS[e.key] && selected >= 0) record(selected, SHORTCUT_VERDICTS[e.key]);
    else if (e.key === 'Enter' && selected >= 0 && !e.target.closest('a, button')) {
      location.hash = `#/item/${encodeURIComponent(rows[selected].item.id)}`;
    } else return;
    e.preventDefault();
  }
  document.addEventListener('keydown', onKey);
  load();
  return () => {
    document.removeEventListener('keydown', onKey);
    aborter.abort();
    urls.revokeAll();
  };
}
