// The model page: which model is scoring, what it was trained on, how it did on validation data,
// and what each priority band means in plain words (from the thresholds in its contract).

import { api } from '../api.js';
import { t, formatDateTime, formatPercent, formatNumber } from '../i18n.js';
import { h, priorityBadge, errorBox, loading, shortHash } from '../ui.js';
import { metricsTable, trainingSummary } from './model_tables.js';

export function title() {
  return t('model.title');
}

export function render(main) {
  const aborter = new AbortController();
  const body = h('div', { class: 'model-body' }, loading());
  main.append(h('h1', { tabindex: '-1' }, t('model.title')), h('p', { class: 'lead' }, t('model.intro')), body);

  async function load() {
    body.replaceChildren(loading());
    try {
      draw(await api('/v1/model', { signal: aborter.signal }));
    } catch (err) {
      if (err.name !== 'AbortError') body.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  function draw(model) {
    const thresholds = model.thresholds || {};
    body.replaceChildren(
      h('div', { class: 'model-grid' },
        section('model.identity', 'model-identity', identity(model)),
        section('model.bands', 'model-bands', bands(thresholds)),
        section('model.metrics', 'model-metrics', metricsTable(model.metrics)),
        section('model.training', 'model-training', trainingSummary(model.extra))),
    );
  }

  load();
  return () => aborter.abort();
}

function section(titleKey, id, content) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-heading` },
    h('h2', { id: `${id}-heading` }, t(titleKey)), content);
}

function identity(model) {
  const rows = [
    ['model.version', h('strong', {}, model.model_version)],
    ['model.created', model.created_at ? formatDateTime(model.created_at) : '—'],
    ['model.loaded', model.loaded_at ? formatDateTime(model.loaded_at) : '—'],
    ['model.backbone', model.backbone],
    ['model.inputSize', model.input_size ? `${model.input_size} × ${model.input_size} px` : '—'],
    ['model.temperature', typeof model.temperature === 'number' ? formatNumber(model.temperature) : '—'],
    ['model.manifest', model.manifest_sha256 ? h('code', { class: 'hash', title: model.manifest_sha256 }, shortHash(model.manifest_sha256, 16)) : '—'],
    ['model.contract', model.contract_version || '—'],
  ];
  return h('dl', { class: 'facts' }, rows.flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
}

function bands(thresholds) {
  const high = formatPercent(thresholds.high ?? 0.5);
  const low = formatPercent(thresholds.low ?? 0.1);
  const band = (priority, rangeKey, meaningKey) =>
    h('li', { class: `band band-${priority}` },
      h('div', { class: 'band-head' }, priorityBadge(priority), h('span', { class: 'band-range' }, t(rangeKey, { high, low }))),
      h('p', {}, t(meaningKey)));
  return h('div', {},
    h('ul', { class: 'bands' },
      band('high', 'model.band.high.range', 'model.band.high.meaning'),
      band('medium', 'model.band.medium.range', 'model.band.medium.meaning'),
      band('low', 'model.band.low.range', 'model.band.low.meaning')),
    h('p', { class: 'hint' }, t('model.band.note')));
}

