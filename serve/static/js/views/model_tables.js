// Tables of the model page, built from whatever the contract carries. Training writes
// metrics as {split: {name: value}} and extra as {counts: {split: {genuine, counterfeit,
// total}}, train: {...run facts, config: {...}}}; anything else is still shown, tidied up.

import { t, has, formatDateTime, formatPercent, formatNumber } from '../i18n.js';
import { h } from '../ui.js';

const SPLITS = ['train', 'val', 'test'];
const PERCENT_NAME = /(^|_)(precision|recall|accuracy|rate|share|fraction|coverage)(_|$)/;
const RUN_FACTS = ['epochs_run', 'best_epoch', 'stopped_early', 'train_seconds', 'device'];
const CONFIG_FACTS = ['image_size', 'epochs', 'batch_size', 'pretrained'];

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A translated label for a field name ("metric.roc_auc"), or the name tidied up. */
export function label(name) {
  return name
    .split(' · ')
    .map((part) => (has(`metric.${part}`) ? t(`metric.${part}`) : part.replaceAll('_', ' ')))
    .join(' · ');
}

export function formatValue(name, v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? t('model.yes') : t('model.no');
  if (typeof v === 'number') {
    if (name.endsWith('_seconds')) return t('model.seconds', { n: formatNumber(v, 1) });
    // Shares read best as percentages; AUC and AP are scores from 0 to 1, kept as numbers.
    const share = PERCENT_NAME.test(name) && name !== 'average_precision';
    if (share && v >= 0 && v <= 1) return formatPercent(v);
    return Number.isInteger(v) ? formatNumber(v) : formatNumber(v, 3);
  }
  if (Array.isArray(v)) {
    return v.length > 8
      ? t('model.listOf', { n: formatNumber(v.length) })
      : v.map((x) => formatValue(name, x)).join(', ');
  }
  if (isObject(v)) return JSON.stringify(v);
  const s = String(v);
  return /^\d{4}-\d\d-\d\dT/.test(s) ? formatDateTime(s) : s;
}

function splitOrder(names) {
  return [...names].sort((a, b) => {
    const ia = SPLITS.indexOf(a);
    const ib = SPLITS.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
}

/** Rows = names, columns = splits; cells formatted by the row's name. */
function grid(columns, rowNames, cell, cornerKey) {
  return h('div', { class: 'table-scroll' },
    h('table', { class: 'grid' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t(cornerKey)),
        columns.map((c) => h('th', { scope: 'col' }, label(c))))),
      h('tbody', {}, rowNames.map((name) =>
        h('tr', {},
          h('th', { scope: 'row' }, label(name)),
          columns.map((c) => h('td', {}, cell(c, name))))))));
}

function keyValues(pairs) {
  return h('table', { class: 'kv' },
    h('tbody', {}, pairs.map(([name, v]) =>
      h('tr', {},
        h('th', { scope: 'row' }, label(name)),
        h('td', {}, formatValue(name.split(' · ').pop(), v))))));
}

export function metricsTable(metrics) {
  const all = metrics || {};
  const splits = splitOrder(Object.keys(all).filter((k) => isObject(all[k])));
  const scalars = Object.entries(all).filter(([, v]) => !isObject(v));
  if (!splits.length && !scalars.length) return h('p', { class: 'muted' }, t('model.noMetrics'));
  const names = [];
  for (const s of splits) {
    for (const [name, v] of Object.entries(all[s])) {
      if (!isObject(v) && !names.includes(name)) names.push(name);
    }
  }
  return h('div', {},
    splits.length ? grid(splits, names, (s, name) => formatValue(name, all[s][name]), 'model.metric') : null,
    scalars.length ? keyValues(scalars) : null,
    h('p', { class: 'hint' }, t('model.metricsHint')));
}

export function trainingSummary(extra) {
  const all = extra || {};
  if (!Object.keys(all).length) return h('p', { class: 'muted' }, t('model.noTraining'));
  const parts = [];
  const counts = isObject(all.counts) ? all.counts : null;
  if (counts) {
    const splits = splitOrder(Object.keys(counts).filter((k) => isObject(counts[k])));
    const rows = ['genuine', 'counterfeit', 'total'];
    parts.push(h('h3', {}, t('model.photos')),
      grid(splits, rows, (s, name) => formatValue(name, counts[s][name]), 'model.label'));
  }
  const run = isObject(all.train) ? all.train : null;
  if (run) {
    const config = isObject(run.config) ? run.config : {};
    const facts = [
      ...RUN_FACTS.filter((k) => k in run).map((k) => [k, run[k]]),
      ...CONFIG_FACTS.filter((k) => k in config).map((k) => [k, config[k]]),
    ];
    if (facts.length) parts.push(h('h3', {}, t('model.run')), keyValues(facts));
  }
  // Everything else, and the full run record, for those who want it.
  const rest = Object.entries(all).filter(([k]) => !(k === 'counts' && counts) && !(k === 'train' && run));
  const details = [...flatten(run ? { train: run } : {}), ...flatten(Object.fromEntries(rest))];
  if (details.length) {
    parts.push(h('details', { class: 'all-details' },
      h('summary', {}, t('model.allDetails')),
      keyValues(details)));
  }
  return h('div', {}, parts);
}

/** {"train": {"config": {"lr": 0.001}}} -> [["train · config · lr", 0.001]] for the details. */
function flatten(obj, prefix = []) {
  const out = [];
  for (const [key, value] of Object.entries(obj || {})) {
    if (isObject(value)) out.push(...flatten(value, [...prefix, key]));
    else out.push([[...prefix, key].join(' · '), value]);
  }
  return out;
}
