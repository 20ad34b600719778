// One seller: its risk with the reasons, the sellers it is linked to and why, a case about it,
// and its listings (newest first) with their photos, scores, verdicts and signals.

import { api, imageObjectUrl } from '../api.js';
import { t, formatDateTime, formatNumber, formatPercent } from '../i18n.js';
import { h, icon, priorityBadge, verdictChip, errorBox, loading, toast, errorMessage, safeHref } from '../ui.js';
import { UrlBag } from '../viewer.js';
import { limitLength } from '../limits.js';
import { formatVnd } from './case_labels.js';
import { riskBadge, riskBandBadge, sellerApiPath, sellerLink, sentenceEl, signalDetail, signalLabel, sourceLabel } from './seller_words.js';

export function title() {
  return t('seller.title');
}

export function render(main, params) {
  const [source = '', sellerId = ''] = params;
  const urls = new UrlBag();
  const aborter = new AbortController();
  const body = h('div', { class: 'seller-body' }, loading());
  main.append(
    h('a', { href: '#/sellers', class: 'back-link' }, icon('left'), t('seller.back')),
    h('h1', { tabindex: '-1', id: 'seller-heading' }, t('seller.title')),
    body);

  async function load() {
    body.replaceChildren(loading());
    try {
      draw(await api(sellerApiPath(source === '-' ? '' : source, sellerId), { signal: aborter.signal }));
    } catch (err) {
      if (err.name === 'AbortError') return;
      body.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  function draw(s) {
    main.querySelector('h1').textContent = t('seller.heading', { name: s.name || s.seller_id, source: sourceLabel(s.source) });
    body.replaceChildren(h('div', { class: 'case-grid seller-grid' },
      h('div', { class: 'case-main' }, listingsCard(s)),
      h('div', { class: 'case-side' }, riskCard(s), linksCard(s), caseCard(s), factsCard(s))));
  }

  function riskCard(s) {
    return h('section', { class: 'card seller-risk-card', 'aria-labelledby': 'seller-risk' },
      h('h2', { id: 'seller-risk' }, t('seller.risk')),
      h('p', { class: 'score-panel' }, h('span', { class: 'score-big', id: 'seller-risk-value' }, formatPercent(s.risk, 0)), riskBandBadge(s.risk)),
      s.reasons.length
        ? h('ol', { class: 'reasons', id: 'seller-reasons' }, s.reasons.map((r) => sentenceEl('li', r)))
        : h('p', { class: 'empty' }, t('seller.noReasons')),
      h('p', { class: 'hint' }, t('seller.riskHint')));
  }

  function linksCard(s) {
    return h('section', { class: 'card seller-links-card', 'aria-labelledby': 'seller-links' },
      h('h2', { id: 'seller-links' }, t('seller.links', { n: s.linked.length })),
      s.linked.length
        ? h('ul', { class: 'linked-list', id: 'seller-linked' }, s.linked.map((l) =>
          h('li', { 'data-seller': `${l.source}/${l.seller_id}` }, sellerLink(l.source, l.seller_id), ' ', riskBadge(l.risk),
            h('ul', { class: 'why' }, l.why.map((w) => sentenceEl('li', w))))))
        : h('p', { class: 'empty' }, t('seller.noLinks')));
  }

  function caseCard(s) {
    const titleInput = limitLength(h('input', { id: 'seller-case-title', type: 'text', required: true,
      value: t('seller.caseTitle', { seller: s.name || s.seller_id, source: sourceLabel(s.source) }) }), 'case_title');
    const form = h('form', { class: 'field' },
      h('label', { for: 'seller-case-title' }, t('itemCase.titleLabel')), titleInput,
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'seller-open-case' }, t('seller.openCase')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const created = await api('/v1/cases', { method: 'POST', json: { title: titleInput.value.trim(), seller: { source: s.source, seller_id: s.seller_id } } });
        toast(t('itemCase.opened', { id: created.id }));
        location.hash = `#/case/${created.id}`;
      } catch (err) {
        toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
      }
    });
    return h('section', { class: 'card', 'aria-labelledby': 'seller-case' },
      h('h2', { id: 'seller-case' }, t('seller.case')), h('p', { class: 'hint' }, t('seller.caseHint')), form);
  }

  function factsCard(s) {
    const rows = [
      ['field.source', sourceLabel(s.source)],
      ['seller.id', h('code', {}, s.seller_id)],
      ['seller.name', s.name || '—'],
      ['sellers.listings', formatNumber(s.listings)],
      ['sellers.high', formatNumber(s.high_listings)],
      ['sellers.confirmed', formatNumber(s.confirmed_counterfeit)],
      ['seller.firstSeen', h('time', { datetime: s.first_seen }, formatDateTime(s.first_seen))],
      ['sellers.lastSeen', h('time', { datetime: s.last_seen }, formatDateTime(s.last_seen))],
    ];
    return h('section', { class: 'card', 'aria-labelledby': 'seller-facts' },
      h('h2', { id: 'seller-facts' }, t('seller.facts')),
      h('dl', { class: 'facts', id: 'seller-facts-list' }, rows.flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)])));
  }

  function listingsCard(s) {
    const cards = s.listing_details.map((x) => {
      const href = x.url ? safeHref(x.url) : null;
      const photos = (x.photos || x.item_ids.map((id) => ({ id }))).map((p) => {
        const img = h('img', { class: 'thumb', alt: t('seller.photoAlt', { listing: x.listing_id }) });
        imageObjectUrl(`/v1/items/${p.id}/thumbnail`, aborter.signal).then((u) => { img.src = urls.add(u); }).catch(() => {});
        return h('li', { class: 'listing-photo', 'data-item-id': p.id },
          h('a', { href: `#/item/${p.id}`, class: 'case-photo', title: t('seller.openItem') }, img),
          h('div', { class: 'case-item-facts' },
            p.priority ? priorityBadge(p.priority) : null,
            p.verdict ? verdictChip(p.verdict) : h('span', { class: 'muted small' }, t('seller.unreviewed'))));
      });
      return h('li', { class: 'card listing', 'data-listing': x.listing_id },
        h('div', { class: 'listing-head' },
          h('span', { class: 'row-score', title: t('score.label') }, formatPercent(x.score)),
          h('div', { class: 'listing-title' },
            h('strong', {}, x.title || x.listing_id),
            h('div', { class: 'muted small' }, [x.listing_id, x.category, x.price != null ? formatVnd(x.price) : null].filter(Boolean).join(' · ')),
            href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'small' }, t('seller.openListing'), icon('external')) : null)),
        x.reasons.length ? h('ul', { class: 'signals' }, x.reasons.map((r) =>
          h('li', { 'data-signal': r.signal }, h('strong', {}, signalLabel(r.signal)), ': ', signalDetail(r.signal, r.detail)))) : null,
        h('ul', { class: 'listing-photos' }, photos),
        h('p', { class: 'hint' }, t('seller.seen', { when: formatDateTime(x.last_seen) })));
    });
    return h('section', { class: 'card', 'aria-labelledby': 'seller-listings' },
      h('h2', { id: 'seller-listings' }, t('seller.listings', { n: s.listing_details.length })),
      cards.length ? h('ol', { class: 'listings', id: 'seller-listing-list' }, cards) : h('p', { class: 'empty' }, t('seller.noListings')));
  }

  load();
  return () => {
    aborter.abort();
    urls.revokeAll();
  };
}
