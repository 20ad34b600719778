// A small per-day bar chart drawn as SVG (no library: the console loads nothing from elsewhere).
//
// One <rect class="bar"> per day, zero days included, each with data-day and data-value and a
// <title> tooltip, so readers hover for the numbers and tests read them back. Colours come from
// styles.css (.chart-*): presentation attributes and classes only, nothing the CSP would refuse.

import { formatNumber, locale } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 150;
const PAD = { top: 14, right: 6, bottom: 22, left: 30 };

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "2026-11-28" -> "28/11" (vi) or "28 Nov" (en); the day is a UTC calendar day. */
export function shortDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
}

/** A "nice" top for the y axis: 1, 2, 5 x 10^k at or above the largest value. */
function niceMax(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value);
}

/**
 * barChart({points: [{day, value}], label, kind, describe}) -> <svg role="img">.
 * kind picks the colour (scored | high | counterfeit); describe(point) words a tooltip.
 */
export function barChart({ points, label, kind, describe }) {
  const top = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, points.length);
  const gap = Math.min(4, step * 0.2);
  const svg = el('svg', {
    class: `chart chart-${kind}`, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label,
    preserveAspectRatio: 'xMidYMid meet',
  });
  svg.append(el('title', {}, label));
  for (const [value, y] of [[0, PAD.top + plotH], [top, PAD.top]]) {
    svg.append(el('line', { class: 'chart-grid', x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    svg.append(el('text', { class: 'chart-axis', x: PAD.left - 4, y: y + 4, 'text-anchor': 'end' }, formatNumber(value)));
  }
  const bars = el('g', { class: 'chart-bars' });
  points.forEach((p, n) => {
    const height = top ? (p.value / top) * plotH : 0;
    const x = PAD.left + n * step + gap / 2;
    const bar = el('rect', {
      class: 'bar', x: x.toFixed(2), y: (PAD.top + plotH - height).toFixed(2),
      width: Math.max(1, step - gap).toFixed(2), height: height.toFixed(2),
      'data-day': p.day, 'data-value': p.value,
    });
    bar.append(el('title', {}, describe(p)));
    bars.append(bar);
    // Few days: the count over each bar that has one; many days: the tooltips say it.
    if (p.value > 0 && points.length <= 14) {
      bars.append(el('text', {
        class: 'chart-value', x: (x + (step - gap) / 2).toFixed(2), y: (PAD.top + plotH - height - 3).toFixed(2),
        'text-anchor': 'middle',
      }, formatNumber(p.value)));
    }
  });
  svg.append(bars);
  // Day labels: the first, the middle and the last day, so they never overlap.
  const labelled = [...new Set([0, Math.floor((points.length - 1) / 2), points.length - 1])];
  for (const n of labelled) {
    if (n < 0 || !points[n]) continue;
    const anchor = n === 0 ? 'start' : n === points.length - 1 ? 'end' : 'middle';
    const x = n === 0 ? PAD.left : n === points.length - 1 ? W - PAD.right : PAD.left + (n + 0.5) * step;
    svg.append(el('text', { class: 'chart-axis', x: x.toFixed(2), y: H - 6, 'text-anchor': anchor }, shortDay(points[n].day)));
  }
  return svg;
}
