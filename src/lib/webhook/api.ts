/**
 * Oura's webhook subscriptions. They belong to the application, not to a user: every call is authenticated
 * with the application's `x-client-id` / `x-client-secret`, never with a user's token.
 */
import { apiUrl } from '../oauth/endpoints';
import { NetworkError, OuraError, OuraHttpError, ProtocolError } from '../errors';
import { errorDetail, parseJson, send } from '../http';
import { backoffDelay, isRetryableStatus, timing } from '../retry';
import { t } from '../i18n';

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
}

export interface Subscription {
  id: string;
  callback_url: string;
  event_type: string;
  data_type: string;
  expiration_time: string;
}

export const EVENT_TYPES = ['create', 'update', 'delete'] as const;
/** Oura's ExtApiV2DataType (spec 1.37): what a subscription can watch. */
export const DATA_TYPES = [
  'daily_activity', 'daily_cardiovascular_age', 'daily_readiness', 'daily_resilience', 'daily_sleep', 'daily_spo2', 'daily_stress',
  'enhanced_tag', 'meal', 'rest_mode_period', 'ring_configuration', 'session', 'sleep', 'sleep_time', 'tag', 'vo2_max', 'workout',
] as const;

const BASE = '/v2/webhook/subscription';
/** Creating waits for Oura's verification call to us, which may itself take up to 10 s. */
const TIMEOUT_MS = 20_000;
const MAX_RETRIES = 2;

function explain(status: number, body: unknown, what: string): OuraHttpError {
  const { text } = errorDetail(body);
  const detail = text ? `: ${text}` : '';
  switch (status) {
    case 401:
      return new OuraHttpError(t('oura.webhook.api.clientRefused', { what, detail }), status, text, t('oura.status.clientRefused'));
    case 403:
      return new OuraHttpError(t('oura.webhook.api.refused', { what, detail }), status, text, t('oura.status.notFound'));
    case 400:
      return new OuraHttpError(t('oura.webhook.api.verificationFailed', { what, detail }), status, text, t('oura.status.verificationFailed'));
    case 409:
      return new OuraHttpError(t('oura.webhook.api.conflict', { what, detail }), status, text, t('oura.status.alreadyExists'));
    case 422:
      return new OuraHttpError(t('oura.webhook.api.rejected', { what, detail }), status, text, t('oura.status.invalidRequest'));
    default:
      return new OuraHttpError(t('oura.webhook.api.http', { status, what, detail }), status, text);
  }
}

export interface CallOptions {
  /** False once the caller is gone (a closed node): no further attempt is made. */
  alive?: () => boolean;
}

/** The work was dropped because its node closed. */
export class CancelledError extends OuraError {
  constructor() {
    super(t('oura.webhook.api.cancelled'), t('oura.status.cancelled'), 'OURA_CANCELLED');
  }
}

async function call(
  app: AppCredentials, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, what: string, json: unknown, opts: CallOptions,
): Promise<unknown> {
  if (!app.clientId || !app.clientSecret) {
    throw new OuraHttpError(t('oura.webhook.api.noClient', { what }), 401, undefined, t('oura.status.noClientSecret'));
  }
  for (let attempt = 0; ; attempt++) {
    if (opts.alive && !opts.alive()) throw new CancelledError();
    let res;
    try {
      res = await send({
        method, url: `${apiUrl()}${path}`, json, timeoutMs: TIMEOUT_MS,
        headers: { 'x-client-id': app.clientId, 'x-client-secret': app.clientSecret },
      });
    } catch (err) {
      if (err instanceof NetworkError && attempt < MAX_RETRIES) {
        await timing.sleep(backoffDelay(attempt));
        continue;
      }
      throw err;
    }
    if (res.status >= 200 && res.status < 300) return res.status === 204 ? undefined : parseJson(res.body);
    if (isRetryableStatus(res.status) && attempt < MAX_RETRIES) {
      await timing.sleep(backoffDelay(attempt));
      continue;
    }
    throw explain(res.status, parseJson(res.body), what);
  }
}

function asSubscription(v: unknown): Subscription | undefined {
  const s = v as Record<string, unknown> | null;
  if (!s || typeof s !== 'object' || typeof s.id !== 'string' || typeof s.callback_url !== 'string') return undefined;
  return {
    id: s.id,
    callback_url: s.callback_url,
    event_type: String(s.event_type ?? ''),
    data_type: String(s.data_type ?? ''),
    expiration_time: String(s.expiration_time ?? ''),
  };
}

function one(v: unknown, what: string): Subscription {
  const s = asSubscription(v);
  if (!s) throw new ProtocolError(t('oura.webhook.api.notASubscription', { what }));
  return s;
}

export async function listSubscriptions(app: AppCredentials, opts: CallOptions = {}): Promise<Subscription[]> {
  const body = await call(app, 'GET', BASE, t('oura.webhook.api.what.list'), undefined, opts);
  if (!Array.isArray(body)) throw new ProtocolError(t('oura.webhook.api.listNotArray'));
  return body.map(asSubscription).filter((s): s is Subscription => !!s);
}

export interface NewSubscription {
  callback_url: string;
  verification_token: string;
  event_type: string;
  data_type: string;
}

export async function createSubscription(app: AppCredentials, s: NewSubscription, opts: CallOptions = {}): Promise<Subscription> {
  const what = t('oura.webhook.api.what.subscribe', { event: s.event_type, data: s.data_type });
  return one(await call(app, 'POST', BASE, what, s, opts), what);
}

/** Points an existing subscription at another callback (Oura verifies it again). */
export async function updateSubscription(app: AppCredentials, id: string, s: NewSubscription, opts: CallOptions = {}): Promise<Subscription> {
  const what = t('oura.webhook.api.what.move', { event: s.event_type, data: s.data_type });
  return one(await call(app, 'PUT', `${BASE}/${encodeURIComponent(id)}`, what, s, opts), what);
}

export async function renewSubscription(app: AppCredentials, id: string, opts: CallOptions = {}): Promise<Subscription> {
  const what = t('oura.webhook.api.what.renew');
  return one(await call(app, 'PUT', `${BASE}/renew/${encodeURIComponent(id)}`, what, undefined, opts), what);
}

export async function deleteSubscription(app: AppCredentials, id: string, opts: CallOptions = {}): Promise<void> {
  await call(app, 'DELETE', `${BASE}/${encodeURIComponent(id)}`, t('oura.webhook.api.what.delete'), undefined, opts);
}
