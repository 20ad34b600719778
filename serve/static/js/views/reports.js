// The office's report: a period picker (dates, or the half years), the totals and breakdowns,
// and the spreadsheet download (xlsx or CSV, headers in the console's language).

import { api, queryString } from '../api.js';
import { t, formatNumber, language } from '../i18n.js';
import { h, errorBox, loading, toast, errorMessage } from '../ui.js';
import { kindLabel, formatVnd } from './case_labels.js';

export function title() {
  return t('reports.title');
}

function iso(d) {
  return d.toISOString().slice(0, 10);
}

/** [from, to) of the half year holding `d`, or the one before it (offset -1). */
function halfYear(d, offset = 0) {
  let half = (d.getUTCMonth() < 6 ? 0 : 1) + offset;
  let year = d.getUTCFullYear();
  while (half < 0) { half += 2; year -= 1; }
  return [iso(new Date(Date.UTC(year, half * 6, 1))), iso(new Date(Date.UTC(year, half * 6 + 6, 1)))];
}

export function render(main, params, query) {
  const aborter = new AbortController();
  const [defFrom, defTo] = halfYear(new Date());
  const from = h('input', { id: 'report-from', type: 'date', value: query.get('from') || defFrom, required: true });
  const to = h('input', { id: 'report-to', type: 'date', value: query.get('to') || defTo, required: true });
  const out = h('div', { class: 'report-body', id: 'report-body' }, loading());
  const setPeriod = ([a, b]) => { from.value = a; to.value = b; load(); };
  const form = h('form', { class: 'card filters', id: 'report-form', 'aria-label': t('reports.period') },
    h('div', { class: 'field' }, h('label', { for: 'report-from' }, t('reports.from')), from),
    h('div', { class: 'field' }, h('label', { for: 'report-to' }, t('reports.to')), to),
    h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('reports.show'))),
    h('div', { class: 'field field-button' },
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => setPeriod(halfYear(new Date())) }, t('reports.thisHalf')),
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => setPeriod(halfYear(new Date(), -1)) }, t('reports.lastHalf'))),
    h('div', { class: 'field field-button' },
      h('button', { type: 'button', class: 'btn', id: 'report-xlsx', onclick: () => download('xlsx') }, t('reports.xlsx')),
      h('button', { type: 'button', class: 'btn', id: 'report-csv', onclick: () => download('csv') }, t('reports.csv'))));
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  main.append(h('h1', { tabindex: '-1' }, t('reports.title')), h('p', { class: 'lead' }, t('reports.intro')), form, out);

  const period = () => ({ from: from.value, to: to.value });

  async function load() {
    history.replaceState(null, '', `#/reports${queryString(period())}`);
    out.replaceChildren(loading());
    try {
      draw(await api(`/v1/reports/summary${queryString(period())}`, { signal: aborter.signal }));
    } catch (err) {
      if (err.name === 'AbortError') return;
      out.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  async function download(format) {
    try {
      const blob = await api(`/v1/reports/summary/download${queryString({ ...period(), format, lang: language() })}`, { as: 'blob' });
      const link = h('a', { href: URL.createObjectURL(blob), download: `report-${from.value}-${to.value}.${format}` });
      document.body.append(link);
      link.click();
      setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    } catch (err) {
      toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
    }
  }

  function draw(r) {
    const totals = [
      ['reports.itemsScored', formatNumber(r.items_scored)],
      ['reports.itemsReviewed', formatNumber(r.items_reviewed)],
      ['reports.casesOpened', formatNumber(r.cases_opened)],
      ['reports.casesClosed', formatNumber(r.cases_closed)],
      ['reports.violations', formatNumber(r.violations)],
      ['reports.noViolations', formatNumber(r.no_violations)],
      ['reports.fines', formatVnd(r.fines_vnd)],
      ['reports.goods', formatVnd(r.goods_value_vnd)],
      ['reports.quantity', formatNumber(r.quantity_seized)],
    ];
    const tiles = h('ul', { class: 'report-tiles', id: 'report-totals' }, totals.map(([k, v]) =>
      h('li', { class: 'card report-tile' }, h('span', { class: 'tile-value' }, v), h('span', { class: 'tile-label' }, t(k)))));
    const kinds = h('table', { class: 'data-table', id: 'report-kinds' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('reports.kind')), h('th', { scope: 'col', class: 'num' }, t('reports.cases')))),
      h('tbody', {}, Object.entries(r.violations_by_kind).map(([k, n]) => h('tr', {}, h('td', {}, kindLabel(k)), h('td', { class: 'num' }, formatNumber(n))))));
    out.replaceChildren(
      tiles,
      h('section', { class: 'card table-wrap' }, h('h2', {}, t('reports.byKind')), kinds),
      breakdown('reports.bySource', 'reports.source', r.per_source),
      breakdown('reports.byCategory', 'reports.category', r.per_category, t('reports.categoryNote'), (key) => key || t('reports.noCategory')),
      breakdown('reports.byInspector', 'reports.inspector', r.per_inspector));
  }

  function breakdown(titleKey, keyHeader, rows, note, label = (key) => key) {
    const cols = [
      ['items_scored', 'reports.itemsScored', formatNumber], ['items_reviewed', 'reports.itemsReviewed', formatNumber],
      ['cases_opened', 'reports.casesOpened', formatNumber], ['cases_closed', 'reports.casesClosed', formatNumber],
      ['violations', 'reports.violations', formatNumber], ['fines_vnd', 'reports.fines', formatVnd],
      ['goods_value_vnd', 'reports.goods', formatVnd],
    ];
    return h('section', { class: 'card table-wrap' },
      h('h2', {}, t(titleKey)),
      note ? h('p', { class: 'hint' }, note) : null,
      rows.length ? h('table', { class: 'data-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t(keyHeader)), cols.map(([, k]) => h('th', { scope: 'col', class: 'num' }, t(k))))),
        h('tbody', {}, rows.map((row) => h('tr', {}, h('td', {}, label(row.key)), cols.map(([f, , fmt]) => h('td', { class: 'num' }, fmt(row[f])))))))
        : h('p', { class: 'empty' }, t('reports.empty')));
  }

  load();
  return () => aborter.abort();
}
