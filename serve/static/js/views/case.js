// One case: its photos, the workflow buttons, the outcome form, notes, the history and the
// evidence package download (a signed ZIP; the download is recorded in the history).

import { api, imageObjectUrl } from '../api.js';
import { t, formatDateTime, formatPercent } from '../i18n.js';
import { h, icon, priorityBadge, errorBox, loading, toast, errorMessage } from '../ui.js';
import { UrlBag } from '../viewer.js';
import { limitLength } from '../limits.js';
import { statusBadge, statusLabel, moveLabel, kindLabel, eventLabel, formatVnd, VIOLATION_KINDS } from './case_labels.js';
import { language } from '../i18n.js';

export function title() {
  return t('case.title');
}

export function render(main, params) {
  const id = params[0] || '';
  const urls = new UrlBag();
  const aborter = new AbortController();
  let kase = null;
  const body = h('div', { class: 'case-body' }, loading());
  main.append(
    h('a', { href: '#/cases', class: 'back-link' }, icon('left'), t('case.back')),
    h('h1', { tabindex: '-1', id: 'case-heading' }, t('case.title')),
    body);

  async function load() {
    try {
      kase = await api(`/v1/cases/${encodeURIComponent(id)}`, { signal: aborter.signal });
      draw();
    } catch (err) {
      if (err.name === 'AbortError') return;
      body.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  async function send(path, json, done, method = 'POST') {
    try {
      kase = await api(`/v1/cases/${kase.id}${path}`, { method, json });
      draw();
      if (done) toast(done);
    } catch (err) {
      toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
    }
  }

  function draw() {
    main.querySelector('h1').textContent = t('case.heading', { id: kase.id, title: kase.title });
    const closed = kase.status === 'closed';
    body.replaceChildren(
      h('div', { class: 'case-grid' },
        h('div', { class: 'case-main' }, summaryCard(), itemsCard(closed)),
        h('div', { class: 'case-side' },
          closed ? null : workflowCard(),
          ['violation', 'no_violation'].includes(kase.status) ? outcomeForm() : null,
          evidenceCard(),
          noteCard(),
          historyCard())));
  }

  function summaryCard() {
    const rows = [
      ['case.status', statusBadge(kase.status)],
      ['case.inspector', kase.inspector || '—'],
      ['case.opened', h('time', { datetime: kase.created_at }, formatDateTime(kase.created_at))],
      ['case.createdBy', kase.created_by],
    ];
    if (kase.status === 'closed') {
      rows.push(
        ['case.closedAt', h('time', { datetime: kase.closed_at }, formatDateTime(kase.closed_at))],
        ['case.outcome', statusLabel(kase.outcome)]);
      if (kase.outcome === 'violation') {
        rows.push(
          ['case.kind', kindLabel(kase.violation_kind)],
          ['case.fine', formatVnd(kase.fine_vnd)],
          ['case.goods', formatVnd(kase.goods_value_vnd)],
          ['case.quantity', kase.quantity_seized ?? '—']);
      }
    }
    return h('section', { class: 'card', 'aria-labelledby': 'case-facts' },
      h('h2', { id: 'case-facts' }, t('case.facts')),
      h('dl', { class: 'facts', id: 'case-facts-list' }, rows.flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)])));
  }

  function itemsCard(closed) {
    const cards = kase.items.map((item) => {
      const img = h('img', { class: 'thumb', alt: t('case.photoAlt', { name: item.listing_id || item.id }) });
      imageObjectUrl(item.thumbnail_url, aborter.signal).then((u) => { img.src = urls.add(u); }).catch(() => {});
      return h('li', { class: 'case-item', 'data-item-id': item.id },
        h('a', { href: `#/item/${item.id}`, class: 'case-photo' }, img),
        h('div', { class: 'case-item-facts' },
          h('span', { class: 'row-score' }, formatPercent(item.score)), priorityBadge(item.priority),
          h('span', { class: 'muted' }, [item.source, item.listing_id].filter(Boolean).join(' · ') || '—')),
        closed ? null : h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-remove': item.id,
          onclick: () => send(`/items/${item.id}`, undefined, t('case.removed'), 'DELETE') }, icon('trash'), t('case.remove')));
    });
    return h('section', { class: 'card', 'aria-labelledby': 'case-items' },
      h('h2', { id: 'case-items' }, t('case.items', { n: kase.items.length })),
      cards.length ? h('ul', { class: 'case-items', id: 'case-item-list' }, cards) : h('p', { class: 'empty' }, t('case.noItems')));
  }

  function workflowCard() {
    const buttons = kase.allowed_status.map((s) => h('button', {
      type: 'button', class: `btn ${s === 'violation' ? 'btn-counterfeit' : s === 'no_violation' ? 'btn-genuine' : 'btn-primary'}`,
      'data-move': s, onclick: () => send('/status', { status: s }, t('case.moved', { status: statusLabel(s) })),
    }, moveLabel(s)));
    return h('section', { class: 'card', 'aria-labelledby': 'case-workflow' },
      h('h2', { id: 'case-workflow' }, t('case.workflow')),
      h('p', { class: 'hint' }, t('case.workflowHint')),
      h('div', { class: 'verdict-buttons', role: 'group' }, buttons));
  }

  function outcomeForm() {
    const violation = kase.status === 'violation';
    const kind = h('select', { id: 'outcome-kind', required: true },
      VIOLATION_KINDS.map((k) => h('option', { value: k }, kindLabel(k))));
    const money = (name, label) => h('div', { class: 'field' },
      h('label', { for: `outcome-${name}` }, t(label)),
      h('input', { id: `outcome-${name}`, name, type: 'number', min: '0', step: '1', inputmode: 'numeric' }));
    const note = limitLength(h('textarea', { id: 'outcome-note', rows: '2' }), 'note');
    const form = h('form', { class: 'card outcome-form', id: 'outcome-form', 'aria-labelledby': 'case-outcome' },
      h('h2', { id: 'case-outcome' }, t('case.outcomeTitle')),
      violation ? h('div', { class: 'field' }, h('label', { for: 'outcome-kind' }, t('case.kind')), kind) : h('p', {}, t('case.noViolationHint')),
      violation ? money('fine', 'case.fine') : null,
      violation ? money('goods', 'case.goods') : null,
      violation ? money('quantity', 'case.quantity') : null,
      h('div', { class: 'field' }, h('label', { for: 'outcome-note' }, t('case.note')), note),
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'close-case' }, t('case.close')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const value = (name) => {
        const v = form.querySelector(`#outcome-${name}`)?.value;
        return v === undefined || v === '' ? null : Number(v);
      };
      const json = { note: note.value.trim() };
      if (violation) {
        Object.assign(json, { violation_kind: kind.value, fine_vnd: value('fine'), goods_value_vnd: value('goods'), quantity_seized: value('quantity') });
      }
      send('/close', json, t('case.closed'));
    });
    return form;
  }

  function evidenceCard() {
    const button = h('button', { type: 'button', class: 'btn', id: 'evidence-download', onclick: download }, icon('upload'), t('case.evidence'));
    async function download() {
      button.disabled = true;
      try {
        const blob = await api(`/v1/cases/${kase.id}/evidence?lang=${language()}`, { as: 'blob' });
        const link = h('a', { href: URL.createObjectURL(blob), download: `case-${kase.id}-evidence.zip` });
        document.body.append(link);
        link.click();
        setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        toast(t('case.evidenceDone'));
        load(); // the download is now in the history
      } catch (err) {
        toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
      } finally {
        button.disabled = false;
      }
    }
    return h('section', { class: 'card', 'aria-labelledby': 'case-evidence' },
      h('h2', { id: 'case-evidence' }, t('case.evidenceTitle')),
      h('p', { class: 'hint' }, t('case.evidenceHint')), button);
  }

  function noteCard() {
    const text = limitLength(h('textarea', { id: 'case-note', rows: '2' }), 'note');
    const form = h('form', { class: 'card', 'aria-labelledby': 'case-notes' },
      h('h2', { id: 'case-notes' }, t('case.notes')),
      h('div', { class: 'field' }, h('label', { for: 'case-note', class: 'visually-hidden' }, t('case.note')), text),
      h('button', { type: 'submit', class: 'btn btn-small', id: 'add-note' }, t('case.addNote')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (text.value.trim()) send('/notes', { note: text.value.trim() }, t('case.noteAdded'));
    });
    return form;
  }

  function historyCard() {
    const lines = [...kase.history].reverse().map((e) => h('li', { 'data-kind': e.kind },
      h('strong', {}, eventLabel(e.kind)),
      e.to_status && e.kind !== 'created' ? ` → ${statusLabel(e.to_status)}` : '',
      h('span', { class: 'history-meta' }, ' · ', e.actor, ' · ', h('time', { datetime: e.created_at }, formatDateTime(e.created_at))),
      e.note ? h('p', { class: 'history-note' }, e.note) : null));
    return h('section', { class: 'card', 'aria-labelledby': 'case-history' },
      h('h2', { id: 'case-history' }, t('case.history')), h('ol', { class: 'history', id: 'case-history-list' }, lines));
  }

  load();
  return () => {
    aborter.abort();
    urls.revokeAll();
  };
}
