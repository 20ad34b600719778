// Words for the case register: statuses, violation kinds, history events, money. Keys are
// written out (not built from the value) so the dictionary test sees every key in use.

import { t, locale } from '../i18n.js';
import { h } from '../ui.js';

export const CASE_STATUSES = ['open', 'inspecting', 'violation', 'no_violation', 'closed'];
const STATUS_KEYS = {
  open: 'caseStatus.open',
  inspecting: 'caseStatus.inspecting',
  violation: 'caseStatus.violation',
  no_violation: 'caseStatus.noViolation',
  closed: 'caseStatus.closed',
};
// The button that moves a case to each status.
const MOVE_KEYS = {
  open: 'caseMove.open',
  inspecting: 'caseMove.inspecting',
  violation: 'caseMove.violation',
  no_violation: 'caseMove.noViolation',
};
export const VIOLATION_KINDS = ['counterfeit_goods', 'smuggled_goods', 'ip_infringement', 'unknown_origin', 'other'];
const KIND_KEYS = {
  counterfeit_goods: 'violation.counterfeitGoods',
  smuggled_goods: 'violation.smuggledGoods',
  ip_infringement: 'violation.ipInfringement',
  unknown_origin: 'violation.unknownOrigin',
  other: 'violation.other',
};
const EVENT_KEYS = {
  created: 'caseEvent.created',
  status: 'caseEvent.status',
  note: 'caseEvent.note',
  assigned: 'caseEvent.assigned',
  item_added: 'caseEvent.itemAdded',
  item_removed: 'caseEvent.itemRemoved',
  closed: 'caseEvent.closed',
  evidence_download: 'caseEvent.evidenceDownload',
};

export function statusLabel(status) {
  return STATUS_KEYS[status] ? t(STATUS_KEYS[status]) : String(status);
}

export function moveLabel(status) {
  return MOVE_KEYS[status] ? t(MOVE_KEYS[status]) : String(status);
}

export function kindLabel(kind) {
  return KIND_KEYS[kind] ? t(KIND_KEYS[kind]) : String(kind || '—');
}

export function eventLabel(kind) {
  return EVENT_KEYS[kind] ? t(EVENT_KEYS[kind]) : String(kind);
}

export function statusBadge(status) {
  return h('span', { class: `chip case-status case-${status}`, 'data-status': status }, statusLabel(status));
}

/** 15.000.000 ₫ in Vietnamese, ₫15,000,000 in English. */
export function formatVnd(value) {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'VND', maximumFractionDigits: 0 }).format(value);
}
