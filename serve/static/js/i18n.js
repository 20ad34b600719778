// Translations and locale-aware formatting. Vietnamese is the default; the choice is remembered.
//
// Dictionaries are flat JSON files (static/i18n/<lang>.json): "area.name" -> text with optional
// {placeholders}. Plurals use "<key>.one" / "<key>.other" (Vietnamese needs only ".other").
// Static markup is translated through data-i18n attributes (see applyTranslations).

export const LANGUAGES = ['vi', 'en'];
const STORAGE_KEY = 'counterscan.lang';

let lang = 'vi';
let dict = {};

function storedLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(saved) ? saved : 'vi';
  } catch {
    return 'vi';
  }
}

async function loadDictionary(code) {
  const res = await fetch(`/static/i18n/${code}.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`dictionary ${code}: HTTP ${res.status}`);
  return res.json();
}

export async function initI18n() {
  lang = storedLanguage();
  dict = await loadDictionary(lang);
  document.documentElement.lang = lang;
}

export async function setLanguage(code) {
  if (!LANGUAGES.includes(code)) return;
  dict = await loadDictionary(code);
  lang = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = code;
  applyTranslations(document);
  document.dispatchEvent(new CustomEvent('languagechange'));
}

export function language() {
  return lang;
}

/** The BCP 47 locale for Intl: vi-VN, or the reader's own English (en-GB unless en-US etc.). */
export function locale() {
  if (lang === 'vi') return 'vi-VN';
  const own = (navigator.languages || []).find((l) => l.toLowerCase().startsWith('en-'));
  return own || 'en-GB';
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

export function t(key, params = {}) {
  const text = dict[key];
  if (text === undefined) {
    console.warn(`missing translation: ${key}`);
    return key;
  }
  return fill(text, params);
}

export function has(key) {
  return Object.hasOwn(dict, key);
}

/** Plural-aware t(): picks "<key>.one" / "<key>.other" by the count; {n} is the formatted count. */
export function tn(key, count, params = {}) {
  const form = new Intl.PluralRules(locale()).select(count);
  const full = has(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`;
  return t(full, { n: formatNumber(count), ...params });
}

/** data-i18n="key" sets the text; data-i18n-attr="aria-label:key;title:key" sets attributes. */
export function applyTranslations(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  });
}

export function formatPercent(x, digits = 1) {
  return new Intl.NumberFormat(locale(), {
    style: 'percent',
    minimumFractionDigits: 0,
    maximumFractionDigits: digits,
  }).format(x);
}

export function formatNumber(x, digits = 3) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(x);
}

export function formatDateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso || '');
  // Vietnamese reads best as 14:05 28/11/2026; English as 28 Nov 2026, 14:05 (or its US order).
  const options =
    lang === 'vi'
      ? { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(locale(), options).format(d);
}

/** "3 hours ago" / "3 giờ trước", in the largest unit that fits. */
export function formatAge(iso, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((then - now) / 1000);
  const units = [
    ['year', 365 * 86400],
    ['month', 30 * 86400],
    ['week', 7 * 86400],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(0, 'second');
}

export function formatSize(bytes) {
  if (typeof bytes !== 'number') return '';
  const [value, unit] = bytes >= 1e6 ? [bytes / 1e6, 'megabyte'] : [bytes / 1e3, 'kilobyte'];
  return new Intl.NumberFormat(locale(), { style: 'unit', unit, maximumFractionDigits: 1 }).format(value);
}
