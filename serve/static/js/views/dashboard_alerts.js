// The open (unacknowledged) early warnings on the dashboard, newest first, each with its
// evidence (kind, seller, photos, what the rule found) and a button to acknowledge it.

import { api, imageObjectUrl } from '../api.js';
import { t, formatDateTime, formatNumber } from '../i18n.js';
import { h, icon, errorBox, loading, toast, errorMessage } from '../ui.js';
import { UrlBag } from '../viewer.js';
import { alertKindLabel, alertDetail, sellerLink } from './seller_words.js';

const PAGE = 50;
const MAX_PHOTOS = 6; // photos shown per alert; the rest are counted

export function alertsSection({ signal }) {
  const urls = new UrlBag();
  signal.addEventListener('abort', () => urls.revokeAll());
  const count = h('span', { class: 'alerts-count', id: 'alerts-count' });
  const body = h('div', { class: 'alerts-body' }, loading());
  const section = h('section', { class: 'alerts', 'aria-labelledby': 'alerts-heading' },
    h('h2', { id: 'alerts-heading' }, t('alerts.title'), ' ', count), body);
  let total = 0;

  async function load() {
    body.replaceChildren(loading());
    try {
      const page = await api(`/v1/alerts?acknowledged=false&limit=${PAGE}`, { signal });
      total = page.total;
      draw(page.alerts);
    } catch (err) {
      if (err.name === 'AbortError') return;
      count.textContent = '';
      body.replaceChildren(errorBox(err, { retry: load }));
    }
  }

  function drawCount(shown) {
    count.textContent = `(${formatNumber(total)})`;
    if (!total) body.replaceChildren(h('p', { class: 'empty card', id: 'alerts-empty' }, t('alerts.none')));
    else if (total > shown) body.querySelector('.alerts-more')?.replaceChildren(t('alerts.more', { n: formatNumber(total - shown) }));
  }

  function draw(alerts) {
    const list = h('ol', { class: 'alert-list', id: 'alert-list' }, alerts.map(card));
    body.replaceChildren(list, h('p', { class: 'hint alerts-more' }));
    drawCount(alerts.length);
  }

  function card(alert) {
    const d = alert.detail || {};
    const who = alert.seller_id ? sellerLink(alert.source, alert.seller_id) : alert.source || null;
    const linked = alert.kind === 'linked_seller' && d.linked_to
      ? h('p', { class: 'alert-linked' }, t('alert.linkedTo'), ' ', sellerLink(d.linked_to.source, d.linked_to.seller_id))
      : null;
    const photos = alert.item_ids.slice(0, MAX_PHOTOS).map((id) => {
      const img = h('img', { class: 'thumb', alt: t('alerts.photoAlt', { id: id.slice(0, 8) }) });
      imageObjectUrl(`/v1/items/${id}/thumbnail`, signal).then((u) => { img.src = urls.add(u); }).catch(() => {});
      return h('li', {}, h('a', { href: `#/item/${id}`, class: 'alert-photo', 'data-item-id': id }, img));
    });
    const more = alert.item_ids.length - photos.length;
    const ack = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-ack': alert.id }, icon('genuine'), t('alerts.ack'));
    const li = h('li', { class: `card alert-card alert-${alert.kind}`, 'data-alert-id': alert.id, 'data-kind': alert.kind },
      h('div', { class: 'alert-head' },
        h('strong', { class: 'alert-kind' }, alertKindLabel(alert.kind)),
        h('time', { datetime: alert.created_at, class: 'muted' }, formatDateTime(alert.created_at))),
      who ? h('p', { class: 'alert-seller' }, t('alerts.seller'), ' ', who) : null,
      linked,
      h('ul', { class: 'alert-detail-list' }, alertDetail(alert).filter(Boolean).map((line) => h('li', {}, line))),
      photos.length ? h('ul', { class: 'alert-photos', 'aria-label': t('alerts.photos') }, photos,
        more > 0 ? h('li', { class: 'muted' }, t('alerts.morePhotos', { n: formatNumber(more) })) : null) : null,
      h('div', { class: 'alert-foot' }, ack));
    ack.addEventListener('click', async () => {
      ack.disabled = true;
      try {
        await api(`/v1/alerts/${encodeURIComponent(alert.id)}/ack`, { method: 'POST' });
        li.remove();
        total = Math.max(0, total - 1);
        drawCount(section.querySelectorAll('.alert-card').length);
        toast(t('alerts.acked', { kind: alertKindLabel(alert.kind) }));
      } catch (err) {
        ack.disabled = false;
        toast(`${errorMessage(err)} ${err.detail ? t('error.detail', { detail: err.detail }) : ''}`, 'error');
      }
    });
    return li;
  }

  load();
  return section;
}
