// A photo with a heat-map toggle, used by the check results and the item page.
//
// The heat map is the server's PNG overlay of the photo (the model's class-activation map
// blended over the image), so the toggle swaps the two pictures in the same frame. It is
// loaded lazily on first use, because most photos are looked at without it.

import { t } from './i18n.js';
import { h, icon, errorMessage } from './ui.js';

/** Object URLs made for one view, revoked together when the view goes away. */
export class UrlBag {
  constructor() {
    this.urls = [];
  }
  add(url) {
    if (url && url.startsWith('blob:')) this.urls.push(url);
    return url;
  }
  revokeAll() {
    this.urls.forEach((u) => URL.revokeObjectURL(u));
    this.urls = [];
  }
}

/**
 * photo: URL string or async () => URL;  heatmap: URL string, async () => URL, or null.
 * fallbackPhoto: async () => URL, used when the browser cannot show the photo (HEIC, say).
 */
export function imageViewer({ photo, heatmap, fallbackPhoto, alt, large = false, showHeatmap = false }) {
  const photoImg = h('img', { class: 'viewer-img', alt, decoding: 'async' });
  const heatImg = h('img', { class: 'viewer-img', alt: t('heatmap.alt', { alt }), hidden: true });
  const note = h('span', { class: 'viewer-note', 'aria-live': 'polite' });
  const toggle = h(
    'button',
    { type: 'button', class: 'btn btn-small btn-toggle', 'aria-pressed': 'false' },
    icon('flame'),
    t('heatmap.show'),
  );
  const frame = h('div', { class: 'viewer-frame' }, photoImg, heatImg);
  const figure = h(
    'figure',
    { class: large ? 'viewer viewer-large' : 'viewer' },
    frame,
    h('figcaption', { class: 'viewer-bar' }, heatmap ? toggle : null, note),
  );

  const resolve = async (src) => (typeof src === 'function' ? src() : src);

  resolve(photo)
    .then((url) => {
      photoImg.src = url;
    })
    .catch((err) => {
      note.textContent = errorMessage(err);
    });
  let triedFallback = false;
  photoImg.addEventListener('error', async () => {
    if (triedFallback || !fallbackPhoto) return;
    triedFallback = true;
    try {
      photoImg.src = await fallbackPhoto();
    } catch (err) {
      note.textContent = errorMessage(err);
    }
  });

  let heatLoaded = false;
  async function setHeatmap(on) {
    if (on && !heatLoaded) {
      toggle.disabled = true;
      note.textContent = t('heatmap.loading');
      try {
        heatImg.src = await resolve(heatmap);
        heatLoaded = true;
        note.textContent = '';
      } catch (err) {
        note.textContent = `${t('heatmap.failed')} ${errorMessage(err)}`;
        return;
      } finally {
        toggle.disabled = false;
      }
    }
    heatImg.hidden = !on;
    photoImg.hidden = on;
    note.textContent = on ? t('heatmap.note') : '';
    figure.classList.toggle('is-heatmap', on);
    toggle.setAttribute('aria-pressed', String(on));
    toggle.lastChild.textContent = on ? t('heatmap.hide') : t('heatmap.show');
  }
  toggle.addEventListener('click', () => setHeatmap(toggle.getAttribute('aria-pressed') !== 'true'));
  if (heatmap && showHeatmap) setHeatmap(true);
  return figure;
}
