import { AccountHandle, forEachPage, getJson, GetOptions, Query } from './api';
import { CollectionInfo, COLLECTIONS, findCollection, scopeHint } from './collections';
import { addDays, checkedRange, DayRange, startOfDay } from './dates';
import { InputError, OuraHttpError } from './errors';

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
    throw new InputError(`${from} ${JSON.stringify(name)} is not an Oura collection; valid ones: ${COLLECTIONS.map((x) => x.name).join(', ')}`);
  }
  return c;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function checkDatetime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InputError(`${field} must be an ISO 8601 date-time with a zone, e.g. 2026-11-23T06:30:00+01:00 (got ${JSON.stringify(value)})`);
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
    if (typeof msg.document_id !== 'string') throw new InputError('msg.document_id must be a string (the id of an Oura document)');
    if (!collection.single) throw new InputError(`${collection.name} has no single documents: remove msg.document_id`);
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
        throw new InputError(`msg.start_datetime (${req.startDatetime}) is not before msg.end_datetime (${req.endDatetime})`);
      }
      return req;
    }
  } else if (hasDatetime) {
    const field = msg.start_datetime !== undefined ? 'msg.start_datetime' : 'msg.end_datetime';
    throw new InputError(`${field} applies to heartrate and ring_battery_level only; ${collection.name} takes msg.start_date / msg.end_date (YYYY-MM-DD)`);
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

/** The query parameters and the filter that makes the answer exactly what was asked. */
export function plan(r: DataRequest): { query: Query; keep: (doc: unknown) => boolean } {
  const q = baseQuery(r);
  const all = () => true;
  const range = r.range;
  switch (r.collection.range) {
    case 'none':
      return { query: q, keep: all };
    case 'datetime':
      if (r.latest && !range && !r.startDatetime && !r.endDatetime) return { query: { ...q, latest: 'true' }, keep: all };
      if (!range) return { query: { ...q, start_datetime: r.startDatetime, end_datetime: r.endDatetime }, keep: all };
      {
        // Days are [first midnight, midnight after the last): drop a sample stamped exactly at that midnight.
        const end = startOfDay(addDays(range.end, 1), r.timeZone);
        const endMs = Date.parse(end);
        return {
          query: { ...q, start_datetime: startOfDay(range.start, r.timeZone), end_datetime: end },
          keep: (d) => {
            const t = Date.parse(String((d as { timestamp?: unknown })?.timestamp));
            return Number.isNaN(t) || t < endMs;
          },
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
      throw new OuraHttpError(`Oura has no ${c.name} document with id ${JSON.stringify(r.documentId)} (document not found)`, 404, err.detail, 'document not found');
    }
    throw err;
  }
}

/** Streams the documents page by page, already trimmed to the request. */
export function fetchPages(
  account: AccountHandle,
  r: DataRequest,
  onPage: (docs: unknown[], page: number, last: boolean) => void | Promise<void>,
  opts: GetOptions = {},
): Promise<number> {
  const { query, keep } = plan(r);
  return forEachPage(account, `/v2/usercollection/${r.collection.name}`, query, (docs, page, last) => onPage(docs.filter(keep), page, last), {
    scopeHint: scopeHint(r.collection),
    scopes: r.collection.scopes,
    ...opts,
  });
}

/** All documents of a request in one array. */
export async function fetchAll(account: AccountHandle, r: DataRequest, opts: GetOptions = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  await fetchPages(account, r, (docs) => {
    for (const d of docs) out.push(d);
  }, opts);
  return out;
}
