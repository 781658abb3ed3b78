/**
 * Oura's webhook subscriptions (per application, x-client-id / x-client-secret) and an event sender
 * that signs like Oura: upper-case hex HMAC-SHA256 of timestamp + body, keyed with the client secret.
 */
import * as crypto from 'crypto';
import type * as http from 'http';
import { request, sendJson } from './http';
import type { AuthServer } from './oauth';

export interface Subscription {
  id: string;
  callback_url: string;
  event_type: string;
  data_type: string;
  expiration_time: string;
}

interface Stored extends Subscription {
  clientId: string;
  verification_token: string;
}

export const EVENT_TYPES = ['create', 'update', 'delete'];
export const DATA_TYPES = ['tag', 'enhanced_tag', 'workout', 'session', 'sleep', 'daily_sleep', 'daily_readiness', 'daily_activity', 'daily_spo2',
  'sleep_time', 'rest_mode_period', 'ring_configuration', 'daily_stress', 'daily_cardiovascular_age', 'daily_resilience', 'vo2_max', 'meal'];
export const SUBSCRIPTION_LIFETIME_MS = 90 * 86400_000;

export function sign(secret: string, timestamp: string, body: string): string {
  return crypto.createHmac('sha256', secret).update(timestamp + body).digest('hex').toUpperCase();
}

const invalidBody = (msg: string, loc: string[] = ['body']) => ({ detail: [{ loc, msg, type: 'value_error' }] });

export class Webhooks {
  private readonly subs = new Map<string, Stored>();

  constructor(private readonly auth: AuthServer, private readonly now: () => number) {}

  /** Subscriptions a test can inspect (without verification tokens). */
  list(): Subscription[] {
    return [...this.subs.values()].map((s) => this.view(s));
  }

  private client(req: http.IncomingMessage): string | undefined {
    const id = String(req.headers['x-client-id'] ?? '');
    const c = this.auth.clients.get(id);
    return c && c.clientSecret === req.headers['x-client-secret'] ? id : undefined;
  }

  private view(s: Stored): Subscription {
    return { id: s.id, callback_url: s.callback_url, event_type: s.event_type, data_type: s.data_type, expiration_time: s.expiration_time };
  }

  private expiry(): string {
    return new Date(this.now() + SUBSCRIPTION_LIFETIME_MS).toISOString();
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): Promise<void> {
    const clientId = this.client(req);
    if (!clientId) return sendJson(res, 401, { detail: 'Invalid or missing x-client-id / x-client-secret.' });
    const parts = url.pathname.replace(/^\/v2\/webhook\/subscription\/?/, '').split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    let json: Record<string, unknown> = {};
    if (method === 'POST' || method === 'PUT') {
      try {
        json = body ? JSON.parse(body) : {};
      } catch {
        return sendJson(res, 422, invalidBody('the body is not valid JSON'));
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) return sendJson(res, 422, invalidBody('the body must be a JSON object'));
    }
    if (url.pathname.replace(/\/$/, '') === '/v2/webhook/subscription') {
      if (method === 'GET') return sendJson(res, 200, [...this.subs.values()].filter((s) => s.clientId === clientId).map((s) => this.view(s)));
      if (method === 'POST') return this.create(res, clientId, json);
      return sendJson(res, 405, { detail: 'Method Not Allowed' });
    }
    const renew = parts[0] === 'renew';
    const id = renew ? parts[1] : parts[0];
    if (!id || parts.length !== (renew ? 2 : 1)) return sendJson(res, 404, { detail: 'Not Found' });
    const s = this.subs.get(id);
    // Oura answers 403 for a subscription that does not exist (or is another application's).
    if (!s || s.clientId !== clientId) return sendJson(res, 403, { detail: 'Webhook with specified id does not exist.' });
    if (renew) {
      if (method !== 'PUT') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      s.expiration_time = this.expiry();
      return sendJson(res, 200, this.view(s));
    }
    if (method === 'GET') return sendJson(res, 200, this.view(s));
    if (method === 'DELETE') {
      this.subs.delete(s.id);
      res.writeHead(204);
      return void res.end();
    }
    if (method === 'PUT') return this.update(res, s, json);
    return sendJson(res, 405, { detail: 'Method Not Allowed' });
  }

  private async create(res: http.ServerResponse, clientId: string, b: Record<string, unknown>): Promise<void> {
    for (const k of ['callback_url', 'verification_token', 'event_type', 'data_type']) {
      if (typeof b[k] !== 'string' || !b[k]) return sendJson(res, 422, invalidBody('field required', ['body', k]));
    }
    const { callback_url, verification_token, event_type, data_type } = b as Record<string, string>;
    if (!EVENT_TYPES.includes(event_type)) return sendJson(res, 422, invalidBody(`event_type must be one of ${EVENT_TYPES.join(', ')}`, ['body', 'event_type']));
    if (!DATA_TYPES.includes(data_type)) return sendJson(res, 422, invalidBody(`data_type must be one of ${DATA_TYPES.join(', ')}`, ['body', 'data_type']));
    if (!/^https?:\/\//.test(callback_url)) return sendJson(res, 422, invalidBody('callback_url must be an http(s) URL', ['body', 'callback_url']));
    if ([...this.subs.values()].some((s) => s.clientId === clientId && s.event_type === event_type && s.data_type === data_type)) {
      return sendJson(res, 409, { detail: `A subscription for ${event_type} ${data_type} already exists.` });
    }
    const failure = await this.verify(callback_url, verification_token);
    if (failure) return sendJson(res, 400, { detail: `Callback URL verification failed: ${failure}` });
    const s: Stored = { id: crypto.randomUUID(), clientId, callback_url, verification_token, event_type, data_type, expiration_time: this.expiry() };
    this.subs.set(s.id, s);
    return sendJson(res, 201, this.view(s));
  }

  private async update(res: http.ServerResponse, s: Stored, b: Record<string, unknown>): Promise<void> {
    if (typeof b.verification_token !== 'string' || !b.verification_token) return sendJson(res, 422, invalidBody('field required', ['body', 'verification_token']));
    if (b.event_type != null && !EVENT_TYPES.includes(String(b.event_type))) return sendJson(res, 422, invalidBody('invalid event_type', ['body', 'event_type']));
    if (b.data_type != null && !DATA_TYPES.includes(String(b.data_type))) return sendJson(res, 422, invalidBody('invalid data_type', ['body', 'data_type']));
    const callback = typeof b.callback_url === 'string' && b.callback_url ? b.callback_url : s.callback_url;
    if (callback !== s.callback_url || b.verification_token !== s.verification_token) {
      const failure = await this.verify(callback, b.verification_token);
      if (failure) return sendJson(res, 400, { detail: `Callback URL verification failed: ${failure}` });
    }
    s.callback_url = callback;
    s.verification_token = b.verification_token;
    if (b.event_type != null) s.event_type = String(b.event_type);
    if (b.data_type != null) s.data_type = String(b.data_type);
    return sendJson(res, 200, this.view(s));
  }

  /** Oura's handshake: GET callback?verification_token&challenge must answer {"challenge": <same>}. Returns what went wrong. */
  private async verify(callbackUrl: string, token: string): Promise<string | undefined> {
    const challenge = crypto.randomBytes(16).toString('hex');
    const u = new URL(callbackUrl);
    u.searchParams.set('verification_token', token);
    u.searchParams.set('challenge', challenge);
    try {
      const r = await request(u.toString(), { timeoutMs: 10_000 });
      if (r.status !== 200) return `the callback answered ${r.status}`;
      const b = JSON.parse(r.body) as { challenge?: unknown };
      return b && b.challenge === challenge ? undefined : 'the callback did not echo the challenge';
    } catch (err) {
      return `the callback could not be reached or answered no JSON (${(err as Error).message})`;
    }
  }

  async sendEvent(callbackUrl: string, event: object, o: { secret?: string; timestamp?: string } = {}): Promise<{ status: number; body: string }> {
    const secret = o.secret ?? [...this.auth.clients.values()][0]?.clientSecret ?? '';
    const timestamp = o.timestamp ?? String(Math.floor(this.now() / 1000));
    const body = JSON.stringify(event);
    const r = await request(callbackUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-oura-timestamp': timestamp, 'x-oura-signature': sign(secret, timestamp, body) },
      body,
      timeoutMs: 10_000,
    });
    return { status: r.status, body: r.body };
  }
}
