// Similar cases on the item page: the reviewed photos this one matches (exact copies,
// near-duplicates, photos of a similar product), beside the item's own photo so the inspector
// can compare them. Also the words for `priority_reason` (why the priority was raised).

import { api, imageObjectUrl } from '../api.js';
import { t, formatPercent } from '../i18n.js';
import { h, verdictChip, errorBox, loading, errorMessage, shortHash } from '../ui.js';

const KIND_LABELS = {
  exact: 'similar.exact',
  near_duplicate: 'similar.nearDuplicate',
  similar: 'similar.similar',
};

export function kindLabel(kind) {
  return KIND_LABELS[kind] ? t(KIND_LABELS[kind]) : String(kind);
}

/**
 * The "Similar cases" card: the item's photo | the matches (stacked on a phone).
 * urls: the view's UrlBag (object URLs revoked when the view goes);  signal: the view's abort.
 */
export function similarSection(item, { urls, signal }) {
  const list = h('div', { class: 'compare-matches', 'aria-live': 'polite' }, loading());
  const own = h('img', { class: 'compare-img', alt: t('item.photoAlt', { name: item.listing_id || item.id }) });
  showImage(own, item.thumbnail_url, urls, signal);
  const section = h('section', { class: 'card similar', id: 'similar-cases', 'aria-labelledby': 'similar-heading' },
    h('h2', { id: 'similar-heading' }, t('item.similar')),
    h('div', { class: 'compare' },
      h('figure', { class: 'compare-own' },
        h('div', { class: 'compare-frame' }, own),
        h('figcaption', {}, t('similar.thisPhoto'))),
      list));

  async function load() {
    list.replaceChildren(loading());
    try {
      const body = await api(`/v1/items/${encodeURIComponent(item.id)}/similar`, { signal });
      const matches = Array.isArray(body.matches) ? body.matches : [];
      list.replaceChildren(matches.length
        ? h('ul', { class: 'similar-list' }, matches.map((m) => matchRow(m, urls, signal)))
        : h('div', { class: 'similar-empty' },
          h('p', { class: 'empty-title' }, t('similar.none')),
          h('p', { class: 'empty' }, t('similar.noneHint'))));
    } catch (err) {
      if (err.name === 'AbortError') return;
      list.replaceChildren(errorBox(err, { retry: load, title: t('similar.loadError') }));
    }
  }
  load();
  return section;
}

function matchRow(m, urls, signal) {
  const name = m.listing_id || shortHash(m.id, 10);
  const img = h('img', { class: 'compare-img', alt: t('similar.thumbAlt', { name }) });
  showImage(img, m.thumbnail_url, urls, signal);
  // An exact copy carries `distance: 0` instead of a similarity: the same bytes, 100% alike.
  const similarity = typeof m.similarity === 'number' ? m.similarity : m.kind === 'exact' ? 1 : null;
  const verdict = m.verdict && (m.verdict.verdict || m.verdict);
  return h('li', { class: 'match', 'data-kind': m.kind, 'data-verdict': verdict || null, 'data-id': m.id },
    h('a', { class: 'match-link', href: `#/item/${encodeURIComponent(m.id)}` },
      h('span', { class: 'compare-frame' }, img),
      h('span', { class: 'match-main' },
        h('span', { class: 'match-top' },
          h('strong', { class: 'match-kind' }, kindLabel(m.kind)),
          similarity !== null
            ? h('span', { class: 'match-similarity' }, t('similar.alike', { percent: formatPercent(similarity) }))
            : null),
        typeof verdict === 'string' ? h('span', {}, verdictChip(verdict)) : null,
        h('span', { class: 'match-meta' },
          m.listing_id ? h('span', {}, t('item.headingListing', { listing: m.listing_id })) : h('code', { class: 'hash' }, shortHash(m.id, 10)),
          m.source ? h('span', {}, m.source) : null))));
}

async function showImage(img, path, urls, signal) {
  try {
    img.src = urls.add(await imageObjectUrl(path, signal));
  } catch (err) {
    if (err.name === 'AbortError') return;
    img.replaceWith(h('span', { class: 'thumb thumb-missing', title: errorMessage(err) }, '?'));
  }
}

// The service writes "matches confirmed counterfeit <id> (<kind>)" (serve/similar/service.py);
// that one is said in the reader's language with a link to the case, anything else as it is.
const REASON = /^matches confirmed counterfeit ([0-9a-f]+) \(([a-z-]+)\)$/;

/** "Raised to high: …" under the priority badge; null when the model's priority stands. */
export function priorityReason(reason) {
  if (!reason) return null;
  const found = REASON.exec(reason);
  const words = found
    ? [t('similar.reasonMatch'), ' ',
      h('a', { href: `#/item/${encodeURIComponent(found[1])}` }, shortHash(found[1], 10)),
      ` (${kindLabel(found[2].replace(/-/g, '_'))})`]
    : [reason];
  return h('p', { class: 'priority-reason', id: 'priority-reason' },
    h('strong', {}, t('similar.raised')), ' ', ...words);
}
