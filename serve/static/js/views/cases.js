// The case register: every case, newest first, filtered by status and assigned inspector.

import { api, queryString } from '../api.js';
import { t, formatDateTime, formatNumber } from '../i18n.js';
import { h, errorBox, loading } from '../ui.js';
import { CASE_STATUSES, statusLabel, statusBadge, kindLabel, formatVnd } from './case_labels.js';

const PAGE = 50;

export function title() {
  return t('cases.title');
}

export function render(main, params, query) {
  const state = {
    status: query.get('status') || '',
    inspector: query.get('inspector') || '',
    offset: Math.max(0, Number(query.get('offset')) || 0),
  };
  const aborter = new AbortController();
  const status = h('select', { id: 'cases-status' },
    h('option', { value: '' }, t('cases.allStatuses')),
    h('option', { value: 'active', selected: state.status === 'active' }, t('cases.active')),
    CASE_STATUSES.map((s) => h('option', { value: s, selected: s === state.status }, statusLabel(s))));
  const inspector = h('select', { id: 'cases-inspector' }, h('option', { value: '' }, t('cases.allInspectors')));
  const summary = h('p', { class: 'lead', id: 'cases-summary', 'aria-live': 'polite' });
  const list = h('div', { class: 'cases-body' }, loading());
  const form = h('form', { class: 'card filters', role: 'search', 'aria-label': t('cases.filters') },
    h('div', { class: 'field' }, h('label', { for: 'cases-status' }, t('cases.status')), status),
    h('div', { class: 'field' }, h('label', { for: 'cases-inspector' }, t('cases.inspector')), inspector));
  const apply = () => {
    state.status = status.value;
    state.inspector = inspector.value;
    state.offset = 0;
    load();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  status.addEventListener('change', apply);
  inspector.addEventListener('change', apply);
  main.append(h('h1', { tabindex: '-1' }, t('cases.title')), h('p', { class: 'lead' }, t('cases.intro')), form, summary, list);

  async function load() {
    const params = { status: state.status, inspector: state.inspector, offset: state.offset, limit: PAGE };
    history.replaceState(null, '', `#/cases${queryString({ status: state.status, inspector: state.inspector, offset: state.offset || '' })}`);
    list.replaceChildren(loading());
    try {
      const page = await api(`/v1/cases${queryString(params)}`, { signal: aborter.signal });
      drawInspectors(page.inspectors);
      draw(page);
    } catch (err) {
      if (err.name === 'AbortError') return;
      list.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  function drawInspectors(names) {
    const wanted = state.inspector;
    const all = [...new Set([...names, ...(wanted ? [wanted] : [])])].sort();
    inspector.replaceChildren(h('option', { value: '' }, t('cases.allInspectors')),
      all.map((n) => h('option', { value: n, selected: n === wanted }, n)));
  }

  function draw(page) {
    summary.textContent = t('cases.count', { n: formatNumber(page.total) });
    if (!page.cases.length) {
      list.replaceChildren(h('p', { class: 'empty card' }, t('cases.none')));
      return;
    }
    const head = h('tr', {}, ['cases.id', 'cases.caseTitle', 'cases.status', 'cases.inspector', 'cases.items', 'cases.opened', 'cases.outcome']
      .map((k) => h('th', { scope: 'col' }, t(k))));
    const rows = page.cases.map((c) => h('tr', { 'data-case-id': c.id },
      h('td', {}, h('a', { href: `#/case/${c.id}` }, `#${c.id}`)),
      h('td', {}, h('a', { href: `#/case/${c.id}`, class: 'case-title' }, c.title)),
      h('td', {}, statusBadge(c.status)),
      h('td', {}, c.inspector || '—'),
      h('td', { class: 'num' }, formatNumber(c.item_ids.length)),
      h('td', {}, h('time', { datetime: c.created_at }, formatDateTime(c.created_at))),
      h('td', {}, c.outcome === 'violation'
        ? `${kindLabel(c.violation_kind)}${c.fine_vnd ? ` · ${formatVnd(c.fine_vnd)}` : ''}`
        : c.outcome ? statusLabel(c.outcome) : '—')));
    const pager = h('nav', { class: 'pager', 'aria-label': t('cases.paging') },
      h('button', { type: 'button', class: 'btn btn-small', disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, t('cases.prev')),
      h('span', { class: 'pager-range' }, `${formatNumber(state.offset + 1)}–${formatNumber(state.offset + page.cases.length)} / ${formatNumber(page.total)}`),
      h('button', { type: 'button', class: 'btn btn-small', disabled: state.offset + PAGE >= page.total, onclick: () => { state.offset += PAGE; load(); } }, t('cases.next')));
    list.replaceChildren(
      h('div', { class: 'card table-wrap' }, h('table', { class: 'data-table', id: 'cases-table' }, h('thead', {}, head), h('tbody', {}, rows))),
      pager);
  }

  load();
  return () => aborter.abort();
}
