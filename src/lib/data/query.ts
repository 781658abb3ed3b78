import { AccountHandle, forEachPage, getJson, GetOptions, Query } from './api';
import { CollectionInfo, COLLECTIONS, findCollection, scopeHint } from './collections';
import { addDays, checkedRange, dayIn, daysBetween, DayRange, startOfDay } from './dates';
import { InputError, OuraHttpError } from '../errors';
import { timing } from '../retry';
import { t } from '../i18n';

/** One request as the user means it, resolved from the node's settings and the message. */
export interface DataRequest {
  collection: CollectionInfo;
  /** Single document by id. */
  documentId?: string;
  /** Days, both included (date collections, and datetime ones when no datetimes are given). */
  range?: DayRange;
  /** Explicit instants for datetime collections. */
  startDatetime?: string;
  endDatetime?: string;
  timeZone: string;
  fields?: string[];
  latest?: boolean;
}

export function resolveCollection(name: unknown, from: string): CollectionInfo {
  const c = typeof name === 'string' ? findCollection(name) : undefined;
  if (!c) {
    throw new InputError(t('oura.errors.notACollection', { from, name: JSON.stringify(name), valid: COLLECTIONS.map((x) => x.name).join(', ') }));
  }
  return c;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function checkDatetime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InputError(t('oura.errors.notADatetime', { field, got: JSON.stringify(value) }));
  }
  return value;
}

/**
 * Everything a message may say about the request, checked before any request. `defaults` supplies the
 * node's own collection and day range.
 */
export function buildRequest(
  msg: Record<string, unknown>,
  node: { collection: CollectionInfo; defaultRange: () => DayRange; timeZone: string; fields?: string[]; latest?: boolean; allowOverrideCollection: boolean },
): DataRequest {
  const collection = node.allowOverrideCollection && msg.collection !== undefined && msg.collection !== ''
    ? resolveCollection(msg.collection, 'msg.collection')
    : node.collection;
  const req: DataRequest = { collection, timeZone: node.timeZone, fields: node.fields, latest: node.latest };

  if (msg.document_id !== undefined && msg.document_id !== '') {
    if (typeof msg.document_id !== 'string') throw new InputError(t('oura.errors.documentIdNotString'));
    if (!collection.single) throw new InputError(t('oura.errors.noSingleDocuments', { collection: collection.name }));
    req.documentId = msg.document_id;
    return req;
  }

  const hasDatetime = msg.start_datetime !== undefined || msg.end_datetime !== undefined;
  const hasDates = msg.start_date !== undefined || msg.end_date !== undefined;
  if (collection.range === 'none') return req;
  if (collection.range === 'datetime') {
    if (hasDatetime) {
      if (msg.start_datetime !== undefined) req.startDatetime = checkDatetime(msg.start_datetime, 'msg.start_datetime');
      if (msg.end_datetime !== undefined) req.endDatetime = checkDatetime(msg.end_datetime, 'msg.end_datetime');
      if (req.startDatetime && req.endDatetime && Date.parse(req.startDatetime) >= Date.parse(req.endDatetime)) {
        throw new InputError(t('oura.errors.datetimesReversed', { start: req.startDatetime, end: req.endDatetime }));
      }
      return req;
    }
  } else if (hasDatetime) {
    const field = msg.start_datetime !== undefined ? 'msg.start_datetime' : 'msg.end_datetime';
    throw new InputError(t('oura.errors.datetimeNotApplicable', { field, collection: collection.name }));
  }
  if (req.latest && collection.latest && !hasDates) return req;
  req.range = hasDates ? checkedRange(msg.start_date, msg.end_date) : node.defaultRange();
  return req;
}

function baseQuery(r: DataRequest): Query {
  const q: Query = {};
  if (r.fields && r.fields.length) {
    const fields = [...r.fields];
    // Trimming to the asked days needs them even when the user did not pick them.
    if (r.collection.range === 'day' && !fields.includes('day')) fields.push('day');
    if (r.collection.range === 'span' && !fields.includes('start_day')) fields.push('start_day', 'end_day');
    q.fields = fields.join(',');
  }
  return q;
}

/** heartrate and ring_battery_level: Oura refuses more than 30 days of absolute time per request. */
export const MAX_WINDOW_MS = 30 * 24 * 3600_000;

/**
 * Splits [start, end] into windows of at most 30×24 h of absolute time (so a DST change cannot push one over).
 * Consecutive windows share their boundary instant; the first and last keep the caller's own spelling.
 */
export function splitWindows(start: string, end: string): Array<{ start_datetime: string; end_datetime: string }> {
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (!(e - s > MAX_WINDOW_MS)) return [{ start_datetime: start, end_datetime: end }];
  const out: Array<{ start_datetime: string; end_datetime: string }> = [];
  for (let a = s; a < e; a += MAX_WINDOW_MS) {
    const b = Math.min(a + MAX_WINDOW_MS, e);
    out.push({ start_datetime: a === s ? start : new Date(a).toISOString(), end_datetime: b === e ? end : new Date(b).toISOString() });
  }
  return out;
}

export interface Plan {
  query: Query;
  /** Makes the answer exactly what was asked. */
  keep: (doc: unknown) => boolean;
  /** One request (and its pages) per entry, in order; their parameters are added to `query`. */
  windows: Query[];
}

const timestampOf = (d: unknown) => Date.parse(String((d as { timestamp?: unknown })?.timestamp));

/** The query parameters, the windows and the filter that makes the answer exactly what was asked. */
export function plan(r: DataRequest): Plan {
  const q = baseQuery(r);
  const all = () => true;
  const range = r.range;
  switch (r.collection.range) {
    case 'none':
      return { query: q, keep: all, windows: [{}] };
    case 'datetime': {
      if (r.latest && !range && !r.startDatetime && !r.endDatetime) return { query: { ...q, latest: 'true' }, keep: all, windows: [{}] };
      if (!range) {
        let end = r.endDatetime;
        // An open end is "now" at Oura: say it, so that a long range can be split.
        if (r.startDatetime && !end && timing.now() - Date.parse(r.startDatetime) > MAX_WINDOW_MS) end = new Date(timing.now()).toISOString();
        const windows = r.startDatetime && end ? splitWindows(r.startDatetime, end) : [{ start_datetime: r.startDatetime, end_datetime: end }];
        return { query: q, keep: all, windows };
      }
      // Days are [first midnight, midnight after the last): drop a sample stamped exactly at that midnight.
      const end = startOfDay(addDays(range.end, 1), r.timeZone);
      const endMs = Date.parse(end);
      return {
        query: q,
        keep: (d) => {
          const t = timestampOf(d);
          return Number.isNaN(t) || t < endMs;
        },
        windows: splitWindows(startOfDay(range.start, r.timeZone), end),
      };
    }
    case 'span':
      return {
        query: { ...q, start_date: addDays(range!.start, -1), end_date: addDays(range!.end, 1) },
        keep: (d) => {
          const doc = d as { start_day?: unknown; end_day?: unknown };
          const start = typeof doc.start_day === 'string' ? doc.start_day : undefined;
          const end = typeof doc.end_day === 'string' ? doc.end_day : undefined;
          if (!start) return false;
          return start <= range!.end && (end === undefined || end >= range!.start);
        },
        windows: [{}],
      };
    case 'day':
    default:
      // Oura's end_date is exclusive for some collections and inclusive for others: widen, then trim.
      return {
        query: { ...q, start_date: addDays(range!.start, -1), end_date: addDays(range!.end, 1) },
        keep: (d) => {
          const day = (d as { day?: unknown })?.day;
          return typeof day === 'string' && day >= range!.start && day <= range!.end;
        },
        windows: [{}],
      };
  }
}

/** A single document (or personal_info's bare object). */
export async function fetchOne(account: AccountHandle, r: DataRequest, opts: GetOptions = {}): Promise<unknown> {
  const c = r.collection;
  const path = r.documentId ? `/v2/usercollection/${c.name}/${encodeURIComponent(r.documentId)}` : `/v2/usercollection/${c.name}`;
  try {
    return await getJson(account, path, baseQuery(r), { scopeHint: scopeHint(c), scopes: c.scopes, ...opts });
  } catch (err) {
    if (err instanceof OuraHttpError && err.httpStatus === 404 && r.documentId) {
      throw new OuraHttpError(t('oura.errors.noSuchDocument', { collection: c.name, id: JSON.stringify(r.documentId) }), 404, err.detail, t('oura.status.documentNotFound'));
    }
    throw err;
  }
}

/**
 * Streams the documents page by page, already trimmed to the request, window after window. Windows share their
 * boundary instant, and Oura may or may not include an end: a sample at a boundary is passed on once.
 */
export async function fetchPages(
  account: AccountHandle,
  r: DataRequest,
  onPage: (docs: unknown[], page: number, last: boolean) => void | Promise<void>,
  opts: GetOptions = {},
): Promise<number> {
  const { query, keep, windows } = plan(r);
  const path = `/v2/usercollection/${r.collection.name}`;
  const get = { scopeHint: scopeHint(r.collection), scopes: r.collection.scopes, ...opts };
  let page = 0;
  let passed = -Infinity;
  for (let w = 0; w < windows.length; w++) {
    const lastWindow = w === windows.length - 1;
    const before = passed;
    await forEachPage(account, path, { ...query, ...windows[w] }, (docs, _p, lastPage) => {
      let kept = docs.filter(keep);
      if (windows.length > 1 && kept.length) {
        // A window starts at the previous one's end, so only its leading samples (Oura sends them in time order) can
        // be at the boundary instant already passed on: skip those, and remember the last one passed.
        let skip = 0;
        while (skip < kept.length && timestampOf(kept[skip]) <= before) skip++;
        if (skip) kept = kept.slice(skip);
        if (kept.length) passed = Math.max(passed, timestampOf(kept[kept.length - 1]) || -Infinity);
      }
      return onPage(kept, page++, lastWindow && lastPage);
    }, get);
  }
  return page;
}

/** All documents of a request in one array; `onPage` hears of each page as it arrives (progress). */
export async function fetchAll(
  account: AccountHandle, r: DataRequest, opts: GetOptions = {}, onPage?: (docs: unknown[], page: number, last: boolean) => void,
): Promise<unknown[]> {
  const out: unknown[] = [];
  await fetchPages(account, r, (docs, page, last) => {
    for (const d of docs) out.push(d);
    onPage?.(docs, page, last);
  }, opts);
  return out;
}

/** How many of the asked days the documents so far reach into (they come in time order); undefined without days. */
export function coverage(r: DataRequest, docs: unknown[]): { covered: number; total: number } | undefined {
  const range = r.range;
  if (!range) return undefined;
  const total = daysBetween(range.start, range.end) + 1;
  const last = docs[docs.length - 1] as { day?: unknown; start_day?: unknown; timestamp?: unknown } | undefined;
  let day: string | undefined;
  if (typeof last?.day === 'string') day = last.day;
  else if (typeof last?.start_day === 'string') day = last.start_day;
  else if (typeof last?.timestamp === 'string' && !Number.isNaN(Date.parse(last.timestamp))) day = dayIn(r.timeZone, new Date(last.timestamp));
  if (!day) return { covered: 0, total };
  return { covered: Math.max(0, Math.min(total, daysBetween(range.start, day) + 1)), total };
}
