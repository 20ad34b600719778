// The queue's filters and page, kept in the address (#/queue?priority=high&offset=20) so that
// reloading, bookmarking and the back button all land on the same list.

import { PRIORITIES } from '../ui.js';

export const STATUSES = ['unreviewed', 'reviewed', 'all'];
export const STATUS_LABELS = {
  unreviewed: 'queue.status.unreviewed',
  reviewed: 'queue.status.reviewed',
  all: 'queue.status.all',
};
// Plural keys for the summary line ("12 photos waiting for review").
export const COUNT_KEYS = {
  unreviewed: 'queue.count.unreviewed',
  reviewed: 'queue.count.reviewed',
  all: 'queue.count.all',
};
export const PAGE_SIZES = [20, 50, 100];
const LAST_QUEUE_KEY = 'counterscan.lastQueue';

export function readState(query) {
  const priorities = (query.get('priority') || '')
    .split(',')
    .filter((p) => PRIORITIES.includes(p));
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : 'unreviewed';
  const limit = PAGE_SIZES.includes(Number(query.get('limit'))) ? Number(query.get('limit')) : 20;
  const offset = Math.max(0, Number.parseInt(query.get('offset') || '0', 10) || 0);
  return { priorities, source: (query.get('source') || '').trim(), status, limit, offset };
}

export function stateToHash(state) {
  const q = new URLSearchParams();
  if (state.priorities.length) q.set('priority', state.priorities.join(','));
  if (state.source) q.set('source', state.source);
  if (state.status !== 'unreviewed') q.set('status', state.status);
  if (state.limit !== 20) q.set('limit', String(state.limit));
  if (state.offset) q.set('offset', String(state.offset));
  const s = q.toString();
  return s ? `#/queue?${s}` : '#/queue';
}

/** The API query for a state (the API takes priority as a comma list). */
export function apiParams(state) {
  return {
    status: state.status,
    priority: state.priorities.length ? state.priorities.join(',') : undefined,
    source: state.source || undefined,
    limit: state.limit,
    offset: state.offset,
  };
}

/** Remember the list the inspector came from, for "back to queue" and "next item". */
export function rememberQueue(hash) {
  sessionStorage.setItem(LAST_QUEUE_KEY, hash);
}

export function lastQueueHash() {
  return sessionStorage.getItem(LAST_QUEUE_KEY) || '#/queue';
}
