// Sellers ranked by risk, riskiest first (the API's order), filtered by source and minimum
// risk, paged; each row links to the seller's page and names the sellers it is linked to.

import { api, queryString } from '../api.js';
import { t, formatNumber, formatDateTime } from '../i18n.js';
import { h, errorBox, loading } from '../ui.js';
import { limitLength } from '../limits.js';
import { riskBadge, riskMeter, sellerLink, sentence, sourceLabel } from './seller_words.js';

const MIN_RISKS = [0, 0.2, 0.5, 0.8];
const PAGE_SIZES = [10, 25, 50, 100];

export function title() {
  return t('sellers.title');
}

export function render(main, params, query) {
  const aborter = new AbortController();
  const limit = Number(query.get('limit'));
  const state = {
    source: query.get('source') || '',
    minRisk: MIN_RISKS.includes(Number(query.get('min_risk'))) ? Number(query.get('min_risk')) : 0,
    limit: limit >= 1 && limit <= 100 ? limit : 25,
    offset: Math.max(0, Number(query.get('offset')) || 0),
  };
  const source = limitLength(h('input', { id: 'sellers-source', type: 'search', value: state.source }), 'source');
  const minRisk = h('select', { id: 'sellers-min-risk' }, MIN_RISKS.map((r) =>
    h('option', { value: r, selected: r === state.minRisk }, r ? t('sellers.atLeast', { n: Math.round(r * 100) }) : t('sellers.anyRisk'))));
  const size = h('select', { id: 'sellers-size' }, [...new Set([...PAGE_SIZES, state.limit])].sort((a, b) => a - b)
    .map((n) => h('option', { value: n, selected: n === state.limit }, formatNumber(n))));
  const summary = h('p', { class: 'lead', id: 'sellers-summary', 'aria-live': 'polite' });
  const list = h('div', { class: 'sellers-body' }, loading());
  const form = h('form', { class: 'card filters', role: 'search', 'aria-label': t('sellers.filters') },
    h('div', { class: 'field' }, h('label', { for: 'sellers-source' }, t('field.source')), source),
    h('div', { class: 'field' }, h('label', { for: 'sellers-min-risk' }, t('sellers.minRisk')), minRisk),
    h('div', { class: 'field' }, h('label', { for: 'sellers-size' }, t('queue.pageSize')), size),
    h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('queue.apply'))));
  const apply = () => {
    Object.assign(state, { source: source.value.trim(), minRisk: Number(minRisk.value), limit: Number(size.value), offset: 0 });
    load();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  minRisk.addEventListener('change', apply);
  size.addEventListener('change', apply);
  main.append(h('h1', { tabindex: '-1' }, t('sellers.title')), h('p', { class: 'lead' }, t('sellers.intro')), form, summary, list);

  async function load() {
    const wanted = { source: state.source, min_risk: state.minRisk || '', limit: state.limit, offset: state.offset };
    history.replaceState(null, '', `#/sellers${queryString({ ...wanted, limit: state.limit === 25 ? '' : state.limit, offset: state.offset || '' })}`);
    list.replaceChildren(loading());
    try {
      draw(await api(`/v1/sellers${queryString(wanted)}`, { signal: aborter.signal }));
    } catch (err) {
      if (err.name === 'AbortError') return;
      summary.textContent = '';
      list.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  function draw(page) {
    summary.textContent = t('sellers.count', { n: formatNumber(page.total) });
    if (!page.sellers.length) {
      list.replaceChildren(h('p', { class: 'empty card', id: 'sellers-empty' }, t(page.total ? 'sellers.pastEnd' : 'sellers.none')));
      return;
    }
    const cols = ['sellers.rank', 'sellers.seller', 'field.source', 'sellers.risk', 'sellers.listings', 'sellers.high', 'sellers.confirmed', 'sellers.linked', 'sellers.lastSeen'];
    const numeric = new Set(['sellers.rank', 'sellers.listings', 'sellers.high', 'sellers.confirmed']); // right-aligned
    const head = h('tr', {}, cols.map((k) => h('th', { scope: 'col', class: numeric.has(k) ? 'num' : null }, t(k))));
    // data-label: on a phone each row is a card, and each cell says what it is (styles.css).
    const cell = (key, props, ...content) => h('td', { ...props, 'data-label': t(key) }, ...content);
    const rows = page.sellers.map((s, n) => h('tr', { 'data-seller': `${s.source}/${s.seller_id}`, 'data-risk': s.risk },
      cell('sellers.rank', { class: 'num rank-cell' }, formatNumber(state.offset + n + 1)),
      h('td', { class: 'seller-cell' }, sellerLink(s.source, s.seller_id, s.name || s.seller_id),
        s.name ? h('div', { class: 'muted small' }, s.seller_id) : null,
        s.reasons.length ? h('div', { class: 'small seller-top-reason' }, sentence(s.reasons[0])) : null),
      cell('field.source', {}, sourceLabel(s.source)),
      cell('sellers.risk', { class: 'risk-cell' }, riskBadge(s.risk), riskMeter(s.risk)),
      cell('sellers.listings', { class: 'num', 'data-col': 'listings' }, formatNumber(s.listings)),
      cell('sellers.high', { class: 'num', 'data-col': 'high' }, formatNumber(s.high_listings)),
      cell('sellers.confirmed', { class: 'num', 'data-col': 'confirmed' }, formatNumber(s.confirmed_counterfeit)),
      cell('sellers.linked', { class: 'linked-cell' }, s.linked.length
        ? h('ul', { class: 'linked-list' }, s.linked.map((l) => h('li', {}, sellerLink(l.source, l.seller_id),
          h('span', { class: 'muted small' }, ` · ${l.why.map(sentence).join('; ')}`))))
        : h('span', { class: 'muted' }, '—')),
      cell('sellers.lastSeen', {}, h('time', { datetime: s.last_seen }, formatDateTime(s.last_seen)))));
    const pager = h('nav', { class: 'pager', 'aria-label': t('sellers.paging') },
      h('button', { type: 'button', class: 'btn btn-small', id: 'sellers-prev', disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); load(); } }, t('cases.prev')),
      h('span', { class: 'pager-range', id: 'sellers-range' }, `${formatNumber(state.offset + 1)}–${formatNumber(state.offset + page.sellers.length)} / ${formatNumber(page.total)}`),
      h('button', { type: 'button', class: 'btn btn-small', id: 'sellers-next', disabled: state.offset + state.limit >= page.total, onclick: () => { state.offset += state.limit; load(); } }, t('cases.next')));
    list.replaceChildren(
      h('div', { class: 'card table-wrap' }, h('table', { class: 'data-table', id: 'sellers-table' }, h('thead', {}, head), h('tbody', {}, rows))),
      pager);
  }

  load();
  return () => aborter.abort();
}
