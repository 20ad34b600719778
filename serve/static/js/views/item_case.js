// "Open a case" from an item page, and the cases the item is already in.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, toast, errorMessage } from '../ui.js';
import { limitLength } from '../limits.js';
import { statusBadge } from './case_labels.js';

export function caseSection(item, { signal }) {
  const list = h('ul', { class: 'item-cases', id: 'item-cases' });
  const titleInput = limitLength(h('input', {
    id: 'case-title', type: 'text', required: true,
    value: t('itemCase.defaultTitle', { listing: item.listing_id || item.id.slice(0, 12), source: item.source || '—' }),
  }), 'case_title');
  const form = h('form', { class: 'field' },
    h('label', { for: 'case-title' }, t('itemCase.titleLabel')), titleInput,
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'open-case' }, t('itemCase.open')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const created = await api('/v1/cases', { method: 'POST', json: { title: titleInput.value.trim(), item_ids: [item.id] } });
      toast(t('itemCase.opened', { id: created.id }));
      location.hash = `#/case/${created.id}`;
    } catch (err) {
      toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
    }
  });
  api(`/v1/cases?item_id=${encodeURIComponent(item.id)}`, { signal })
    .then((page) => {
      list.replaceChildren(...page.cases.map((c) =>
        h('li', {}, h('a', { href: `#/case/${c.id}` }, `#${c.id} ${c.title}`), ' ', statusBadge(c.status))));
      if (!page.cases.length) list.replaceChildren(h('li', { class: 'muted' }, t('itemCase.none')));
    })
    .catch(() => list.replaceChildren());
  return h('section', { class: 'card', 'aria-labelledby': 'item-case-heading' },
    h('h2', { id: 'item-case-heading' }, t('itemCase.title')), list, form);
}
