// The early-warning dashboard: per-day charts of items scored, items at priority high and
// counterfeit verdicts (overall, or one source or category), and the open alerts to acknowledge.

import { api, queryString } from '../api.js';
import { t, formatNumber } from '../i18n.js';
import { h, errorBox, loading } from '../ui.js';
import { barChart, shortDay } from '../chart.js';
import { alertsSection } from './dashboard_alerts.js';

const WINDOWS = [7, 14, 30, 90];
const SERIES = [
  ['scored', 'dashboard.scored'],
  ['high', 'dashboard.high'],
  ['counterfeit', 'dashboard.counterfeit'],
];

export function title() {
  return t('dashboard.title');
}

/** "overall", "source:<name>" or "category:<name>" -> the days of that series in the answer. */
function seriesOf(trends, view) {
  if (view.startsWith('source:')) return trends.by_source[view.slice(7)];
  if (view.startsWith('category:')) return trends.by_category[view.slice(9)];
  return trends.overall;
}

export function render(main, params, query) {
  const aborter = new AbortController();
  const state = {
    days: WINDOWS.includes(Number(query.get('days'))) ? Number(query.get('days')) : 14,
    view: query.get('view') || 'overall',
  };
  const days = h('select', { id: 'trend-days' },
    WINDOWS.map((n) => h('option', { value: n, selected: n === state.days }, t('dashboard.lastDays', { n }))));
  const view = h('select', { id: 'trend-view' });
  const charts = h('div', { class: 'trend-body', id: 'trend-body' }, loading());
  const form = h('form', { class: 'card filters', 'aria-label': t('dashboard.filters') },
    h('div', { class: 'field' }, h('label', { for: 'trend-days' }, t('dashboard.period')), days),
    h('div', { class: 'field' }, h('label', { for: 'trend-view' }, t('dashboard.view')), view));
  form.addEventListener('submit', (e) => e.preventDefault());
  main.append(
    h('h1', { tabindex: '-1' }, t('dashboard.title')),
    h('p', { class: 'lead' }, t('dashboard.intro')),
    alertsSection({ signal: aborter.signal }),
    h('section', { class: 'trends', 'aria-labelledby': 'trends-heading' },
      h('h2', { id: 'trends-heading' }, t('dashboard.trends')), form, charts));
  let trends = null;

  days.addEventListener('change', () => { state.days = Number(days.value); load(); });
  view.addEventListener('change', () => { state.view = view.value; remember(); draw(); });

  function remember() {
    history.replaceState(null, '', `#/dashboard${queryString({ days: state.days, view: state.view === 'overall' ? '' : state.view })}`);
  }

  async function load() {
    remember();
    charts.replaceChildren(loading());
    try {
      trends = await api(`/v1/trends?days=${state.days}`, { signal: aborter.signal });
      drawViews();
      draw();
    } catch (err) {
      if (err.name === 'AbortError') return;
      charts.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  function drawViews() {
    const keys = (group) => Object.keys(trends[`by_${group}`]).sort();
    const known = ['overall', ...keys('source').map((k) => `source:${k}`), ...keys('category').map((k) => `category:${k}`)];
    if (!known.includes(state.view)) state.view = 'overall';
    const option = (value, text) => h('option', { value, selected: value === state.view }, text);
    view.replaceChildren(
      option('overall', t('dashboard.overall')),
      keys('source').length ? h('optgroup', { label: t('dashboard.bySource') },
        keys('source').map((k) => option(`source:${k}`, k || t('sellers.noSource')))) : null,
      keys('category').length ? h('optgroup', { label: t('dashboard.byCategory') },
        keys('category').map((k) => option(`category:${k}`, k || t('dashboard.noCategory')))) : null);
  }

  function draw() {
    const points = seriesOf(trends, state.view) || trends.overall;
    const what = view.selectedOptions[0]?.textContent || t('dashboard.overall');
    const total = (field) => points.reduce((sum, p) => sum + p[field], 0);
    if (!total('scored') && !total('counterfeit')) {
      charts.replaceChildren(h('p', { class: 'empty card', id: 'trend-empty' }, t('dashboard.noData', { n: state.days })));
      return;
    }
    charts.replaceChildren(h('ul', { class: 'trend-charts', id: 'trend-charts' }, SERIES.map(([field, key]) => {
      const label = t('dashboard.chartLabel', { what: t(key), of: what, total: formatNumber(total(field)), n: state.days });
      return h('li', { class: 'card trend-chart', 'data-series': field },
        h('h3', {}, t(key), ' ', h('span', { class: 'trend-total' }, formatNumber(total(field)))),
        barChart({
          points: points.map((p) => ({ day: p.day, value: p[field] })),
          label, kind: field,
          describe: (p) => `${shortDay(p.day)}: ${formatNumber(p.value)}`,
        }));
    })), h('p', { class: 'hint' }, t('dashboard.utc')));
  }

  load();
  return () => aborter.abort();
}
