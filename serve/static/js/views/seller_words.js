// Words for sellers and alerts: links to a seller's page, the risk badge, and the API's English
// reasons ("same phone 0912345678", "3 listings at priority high") put into the reader's
// language. The API words its reasons in English (sellers/risk.py, sellers/signals.py); a
// sentence of a shape not known here is shown as the server wrote it, marked lang="en".

import { t, formatPercent, formatNumber, language } from '../i18n.js';
import { h } from '../ui.js';

const NO_SOURCE = '-'; // how the API addresses a seller sent without a source

export function sellerHref(source, sellerId) {
  return `#/seller/${encodeURIComponent(source || NO_SOURCE)}/${encodeURIComponent(sellerId)}`;
}

export function sellerApiPath(source, sellerId) {
  return `/v1/sellers/${encodeURIComponent(source || NO_SOURCE)}/${encodeURIComponent(sellerId)}`;
}

export function sourceLabel(source) {
  return source || t('sellers.noSource');
}

/** "shopee / fake-shop" as a link to the seller's page. */
export function sellerLink(source, sellerId, text) {
  return h('a', { href: sellerHref(source, sellerId), class: 'seller-link' },
    text || `${sourceLabel(source)} / ${sellerId}`);
}

/** Risk bands as the sellers page colours them; the number is always written out too. */
export function riskBand(risk) {
  if (risk >= 0.8) return 'high';
  if (risk >= 0.5) return 'medium';
  return 'low';
}

export function riskBadge(risk) {
  const band = riskBand(risk);
  return h('span', { class: `badge badge-${band} risk-badge`, title: t('sellers.risk') },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), formatPercent(risk, 0));
}

const BAND_LABELS = { high: 'risk.high', medium: 'risk.medium', low: 'risk.low' };

/** The band in words ("High risk"), beside a risk already written as a number. */
export function riskBandBadge(risk) {
  const band = riskBand(risk);
  return h('span', { class: `badge badge-${band}` }, h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), t(BAND_LABELS[band]));
}

export function riskMeter(risk) {
  return h('meter', { class: 'risk-meter', min: '0', max: '1', low: '0.5', high: '0.8', optimum: '0', value: String(risk), 'aria-hidden': 'true' });
}

const num = (s) => formatNumber(Number(s));
const CONTACT_KINDS = { phone: 'contact.phone', zalo: 'contact.zalo' };
/** "phone 0912345678, zalo abc" with the kinds in the reader's language. */
const contacts = (text) => text.split(', ').map((part) => {
  const [kind, ...rest] = part.split(' ');
  return CONTACT_KINDS[kind] ? [t(CONTACT_KINDS[kind]), ...rest].join(' ') : part;
}).join(', ');
const shortId = (id) => (id.length > 12 ? `${id.slice(0, 12)}…` : id);

// [pattern, dictionary key, (match) -> params]; the first that matches words the sentence.
const SENTENCES = [
  [/^same phone (.+)$/, 'why.phone', (m) => ({ value: m[1] })],
  [/^same zalo (.+)$/, 'why.zalo', (m) => ({ value: m[1] })],
  [/^same photo ([0-9a-f]+)$/, 'why.photo', (m) => ({ value: m[1] })],
  [/^same (\w+) (.+)$/, 'why.other', (m) => ({ kind: m[1], value: m[2] })],
  [/^(\d+) photo\(s\) confirmed counterfeit in (\d+) listing\(s\)$/, 'reason.confirmed', (m) => ({ photos: num(m[1]), listings: num(m[2]) })],
  [/^known counterfeit: photo ([0-9a-f]+) is a confirmed counterfeit$/, 'reason.knownPhoto', (m) => ({ id: shortId(m[1]) })],
  [/^known counterfeit: a photo (.+)$/, 'reason.knownMatch', (m) => ({ detail: m[1] })],
  [/^photo ([0-9a-f]+) is a confirmed counterfeit$/, 'reason.knownPhoto', (m) => ({ id: shortId(m[1]) })],
  [/^a photo (.+)$/, 'reason.knownMatch', (m) => ({ detail: m[1] })],
  [/^contact details in the listing: (.+)$/, 'reason.contacts', (m) => ({ value: contacts(m[1]) })],
  [/^disguised brand name: (.+)$/, 'reason.brand', (m) => ({ value: m[1] })],
  [/^price ([\d,]+) VND is (\d+)% of the category's typical ([\d,]+) VND \(median of (\d+) listings confirmed genuine; threshold (\d+)%\)$/,
    'reason.price', (m) => ({ price: num(m[1].replace(/,/g, '')), share: m[2], typical: num(m[3].replace(/,/g, '')), n: num(m[4]), threshold: m[5] })],
  [/^(\d+) listings at priority high$/, 'reason.high', (m) => ({ n: num(m[1]) })],
  [/^mean photo score of its listings ([\d.]+)$/, 'reason.mean', (m) => ({ score: formatPercent(Number(m[1]), 0) })],
  [/^linked to (.+?)\/(.+) \(risk ([\d.]+)\): (.+)$/, 'reason.linked', (m) => ({
    seller: `${m[1]}/${m[2]}`, risk: formatPercent(Number(m[3]), 0), why: m[4].split('; ').map(sentence).join('; ') })],
  [/^photos confirmed genuine: risk halved$/, 'reason.genuine', () => ({})],
];

/** A listing's signal without repeating its name: the contacts or brand words alone. */
export function signalDetail(signal, detail) {
  if (signal === 'contact_details') return contacts(detail.replace(/^contact details in the listing: /, ''));
  if (signal === 'disguised_brand') return detail.replace(/^disguised brand name: /, '');
  return sentence(detail);
}

/** One of the API's English sentences in the reader's language (plain text). */
export function sentence(text) {
  for (const [pattern, key, params] of SENTENCES) {
    const m = pattern.exec(text);
    if (m) return t(key, params(m));
  }
  return text;
}

/** The sentence as an element; an unknown one keeps the server's words, marked English. */
export function sentenceEl(tag, text, props = {}) {
  const worded = sentence(text);
  const raw = worded === text && language() !== 'en';
  return h(tag, { ...props, lang: raw ? 'en' : null }, worded);
}

const SIGNAL_LABELS = {
  known_counterfeit: 'signal.knownCounterfeit',
  low_price: 'signal.lowPrice',
  contact_details: 'signal.contactDetails',
  disguised_brand: 'signal.disguisedBrand',
};

export function signalLabel(signal) {
  return SIGNAL_LABELS[signal] ? t(SIGNAL_LABELS[signal]) : signal;
}

const ALERT_KIND_LABELS = {
  known_counterfeit: 'alertKind.knownCounterfeit',
  seller_repeat: 'alertKind.sellerRepeat',
  linked_seller: 'alertKind.linkedSeller',
  surge: 'alertKind.surge',
};

export function alertKindLabel(kind) {
  return ALERT_KIND_LABELS[kind] ? t(ALERT_KIND_LABELS[kind]) : kind;
}

/** What an alert's evidence says, in a sentence per fact (sellers/alerts.py documents them). */
export function alertDetail(alert) {
  const d = alert.detail || {};
  switch (alert.kind) {
    case 'known_counterfeit':
      return [t('alert.listing', { listing: d.listing_id ?? '—' }), d.evidence ? sentence(d.evidence) : null];
    case 'seller_repeat':
      return [t('alert.repeat', { n: num(d.high_listings), days: num(d.days), threshold: num(d.threshold) })];
    case 'linked_seller':
      return [(d.why || []).map(sentence).join('; ')];
    case 'surge':
      return [
        d.category !== undefined ? t('alert.surgeCategory', { key: d.category }) : t('alert.surgeSource', { key: d.source }),
        t('alert.surge', { n: num(d.high_items), day: d.day, mean: num(d.baseline_mean), sd: num(d.baseline_sd), limit: num(d.limit), days: num(d.baseline_days) }),
      ];
    default:
      return [JSON.stringify(d)];
  }
}
