import * as crypto from 'crypto';
import { resolveAccount } from '../accounts';
import type { OuraAccountNode, RED as NodeRED, RedNode } from '../red';
import { CollectionInfo } from './collections';
import { dayIn, DayRange, isTimeZone, presetRange, RANGE_PRESETS, RangePreset, systemTimeZone } from './dates';
import { InputError, ReauthRequiredError } from '../errors';
import { buildRequest, coverage, DataRequest, fetchAll, fetchOne, fetchPages, resolveCollection } from './query';
import { describeFailure, reportAsSentences } from '../report';
import { asError, status, timeOfDay } from '../status';
import { t } from '../i18n';
import { timing } from '../retry';
import * as tokens from '../store/tokens';

export type OutputMode = 'all' | 'each' | 'page';

export interface DataNodeConfig {
  id: string;
  name?: string;
  account: string;
  collection?: string;
  range?: string;
  startDate?: string;
  endDate?: string;
  timezone?: string;
  fields?: string;
  latest?: boolean;
  output?: string;
  newOnly?: boolean;
}

/** How a node type narrows the shared machinery: `oura sleep` is `oura data` with three collections. */
export interface DataNodeFlavour {
  collections?: readonly string[];
  defaultCollection: string;
  allowOverrideCollection: boolean;
}

const SEEN_KEY = 'oura-seen';

/** Identity of a document for "only new or changed": its id, else its timestamp, else its content. */
function docKey(doc: unknown): string {
  const d = doc as { id?: unknown; timestamp?: unknown };
  if (typeof d?.id === 'string') return `id:${d.id}`;
  if (typeof d?.timestamp === 'string') return `ts:${d.timestamp}`;
  return `h:${hash(doc)}`;
}

function hash(doc: unknown): string {
  return crypto.createHash('sha1').update(JSON.stringify(doc)).digest('base64').slice(0, 16);
}

export function dataNodeConstructor(RED: NodeRED, flavour: DataNodeFlavour) {
  return function OuraDataNode(this: RedNode, config: DataNodeConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    reportAsSentences(node);
    const allowed = flavour.collections;
    const configured = allowed && !allowed.includes(config.collection ?? '') ? flavour.defaultCollection : config.collection || flavour.defaultCollection;
    let collection: CollectionInfo | undefined;
    let setupError: InputError | undefined;
    try {
      collection = resolveCollection(configured, t('oura.errors.theNodesCollection'));
    } catch (err) {
      setupError = err as InputError;
    }
    const preset = ((RANGE_PRESETS as readonly string[]).includes(config.range ?? '') ? config.range : 'last_night') as RangePreset;
    const timeZone = (config.timezone ?? '').trim() || systemTimeZone();
    const fields = (config.fields ?? '').split(/[\s,]+/).filter(Boolean);
    const output: OutputMode = config.output === 'each' || config.output === 'page' ? config.output : 'all';
    if (!setupError && !isTimeZone(timeZone)) {
      setupError = new InputError(t('oura.errors.unknownTimeZone', { timeZone }));
    }

    // The account is found when the node starts, or (none or several then) again at each message.
    let account: OuraAccountNode | undefined;
    let stopWatching: () => void = () => undefined;
    function useAccount(): OuraAccountNode {
      if (account) return account;
      const a = resolveAccount(RED, config.account);
      account = a;
      const stopChanges = tokens.onChange(a.handle.key, (rec) => {
        if (!rec) status.notAuthorized(node);
        else if (rec.reauth) status.failed(node, new ReauthRequiredError(rec.reauth));
        else if (rec.updatedAt === rec.authorizedAt) status.clear(node);
      });
      const stopWaits = tokens.onWaiting(a.handle.key, (why) => {
        if (why) status.waiting(node, why);
      });
      stopWatching = () => {
        stopChanges();
        stopWaits();
      };
      return a;
    }
    if (setupError) status.failed(node, setupError);
    else {
      try {
        if (!tokens.current(useAccount().handle.key)) status.notAuthorized(node);
      } catch (err) {
        status.failed(node, err);
      }
    }

    // The package's one clock (tokens use it too), so that tests can say what day it is.
    const defaultRange = (): DayRange => presetRange(preset, dayIn(timeZone, new Date(timing.now())), { startDate: config.startDate, endDate: config.endDate });

    /** `msg.oura`: what was asked, without the keys that do not apply. */
    function describe(r: DataRequest): Record<string, unknown> {
      const all: Record<string, unknown> = {
        collection: r.collection.name,
        start_date: r.range?.start,
        end_date: r.range?.end,
        start_datetime: r.startDatetime,
        end_datetime: r.endDatetime,
        document_id: r.documentId,
        timezone: r.timeZone,
      };
      return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
    }

    /** Keeps what changed since the last poll; remembers only what this poll returned, so context stays small. */
    function onlyNew(docs: unknown[]): unknown[] {
      const ctx = node.context();
      const before = (ctx.get(SEEN_KEY) ?? {}) as Record<string, string>;
      const after: Record<string, string> = {};
      const fresh: unknown[] = [];
      for (const d of docs) {
        const k = docKey(d);
        const h = hash(d);
        after[k] = h;
        if (before[k] !== h) fresh.push(d);
      }
      ctx.set(SEEN_KEY, after);
      return fresh;
    }

    node.on('input', (msg, send, done) => {
      const run = async () => {
        if (setupError) throw setupError;
        const r = buildRequest(msg, {
          collection: collection!, defaultRange, timeZone, fields, latest: !!config.latest, allowOverrideCollection: flavour.allowOverrideCollection,
        });
        if (allowed && !allowed.includes(r.collection.name)) {
          throw new InputError(t('oura.errors.notThisNodesCollection', { collections: allowed.join(', '), collection: r.collection.name }));
        }
        const handle = useAccount().handle;
        const progress = (docs: unknown[], page: number, last: boolean) => {
          if (!last) status.progress(node, page + 1, coverage(r, docs));
        };
        const opts = { onRetry: (reason: string, delayMs: number) => status.retrying(node, reason, delayMs, timing.now) };
        const info = describe(r);
        status.fetching(node);

        if (r.documentId || r.collection.bare) {
          msg.payload = await fetchOne(handle, r, opts);
          msg.oura = { ...info, count: 1 };
          status.done(node, t('oura.status.collectionAt', { collection: r.collection.name, time: timeOfDay() }), !!tokens.saveProblem(handle.key));
          send(msg);
          return;
        }

        if (output === 'page' && !config.newOnly) {
          const partsId = RED.util?.generateId?.() ?? crypto.randomBytes(8).toString('hex');
          let total = 0;
          const pages = await fetchPages(handle, r, (docs, page, last) => {
            total += docs.length;
            const m = RED.util?.cloneMessage ? RED.util.cloneMessage(msg) : { ...msg };
            m.payload = docs;
            m.parts = { id: partsId, index: page, type: 'array', ...(last ? { count: page + 1 } : {}) };
            if (last) m.complete = true;
            m.oura = { ...info, page, count: docs.length };
            send(m);
            progress(docs, page, last);
          }, opts);
          const inPages = { documents: t('oura.count.document', { count: total }), pages: t('oura.count.page', { count: pages }), time: timeOfDay() };
          status.done(node, t('oura.status.documentsInPages', inPages), !!tokens.saveProblem(handle.key));
          return;
        }

        let docs = await fetchAll(handle, r, opts, progress);
        const total = docs.length;
        if (config.newOnly) docs = onlyNew(docs);
        if (config.newOnly && docs.length === 0) {
          status.done(node, t('oura.status.noNewDocuments', { time: timeOfDay() }), !!tokens.saveProblem(handle.key));
          return;
        }
        if (output === 'each') {
          const partsId = RED.util?.generateId?.() ?? crypto.randomBytes(8).toString('hex');
          docs.forEach((d, i) => {
            const m = RED.util?.cloneMessage ? RED.util.cloneMessage(msg) : { ...msg };
            m.payload = d;
            m.parts = { id: partsId, index: i, count: docs.length, type: 'array', len: 1 };
            m.oura = { ...info, count: docs.length };
            send(m);
          });
        } else {
          msg.payload = docs;
          msg.oura = { ...info, count: docs.length };
          send(msg);
        }
        const done = config.newOnly
          ? t('oura.status.documentsUnchanged', { documents: t('oura.count.document', { count: docs.length }), unchanged: total - docs.length, time: timeOfDay() })
          : t('oura.status.documentsAt', { count: docs.length, time: timeOfDay() });
        status.done(node, done, !!tokens.saveProblem(handle.key));
      };
      run().then(() => done(), (err) => {
        status.failed(node, err);
        describeFailure(msg, err);
        done(asError(err));
      });
    });

    node.on('close', () => {
      stopWatching();
      status.clear(node);
    });
  };
}
