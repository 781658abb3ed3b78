/**
 * Oura's webhook subscriptions (per application, x-client-id / x-client-secret) and an event sender
 * that signs like Oura: upper-case hex HMAC-SHA256 of timestamp + body, keyed with the client secret.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import type { AuthServer } from './oauth';

interface Subscription {
  id: string;
  clientId: string;
  callback_url: string;
  verification_token: string;
  event_type: string;
  data_type: string;
  expiration_time: string;
}

const EVENT_TYPES = ['create', 'update', 'delete'];
const DATA_TYPES = ['tag', 'enhanced_tag', 'workout', 'session', 'sleep', 'daily_sleep', 'daily_readiness', 'daily_activity', 'daily_spo2', 'sleep_time', 'rest_mode_period', 'ring_configuration', 'daily_stress', 'daily_cardiovascular_age', 'daily_resilience', 'vo2_max'];
const LIFETIME_MS = 90 * 86400_000;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sign(secret: string, timestamp: string, body: string): string {
  return crypto.createHmac('sha256', secret).update(timestamp + body).digest('hex').toUpperCase();
}

export class Webhooks {
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly auth: AuthServer) {}

  private client(req: http.IncomingMessage): string | undefined {
    const id = String(req.headers['x-client-id'] ?? '');
    const c = this.auth.clients.get(id);
    return c && c.clientSecret === req.headers['x-client-secret'] ? id : undefined;
  }

  private view(s: Subscription) {
    const { clientId: _c, verification_token: _v, ...rest } = s;
    return rest;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): Promise<void> {
    const clientId = this.client(req);
    if (!clientId) return json(res, 401, { detail: 'Invalid client credentials.' });
    const parts = url.pathname.replace(/^\/v2\/webhook\/subscription\/?/, '').split('/').filter(Boolean);
    const mine = (id: string) => {
      const s = this.subs.get(id);
      return s && s.clientId === clientId ? s : undefined;
    };
    if (parts.length === 0 && req.method === 'GET') return json(res, 200, [...this.subs.values()].filter((s) => s.clientId === clientId).map((s) => this.view(s)));
    if (parts.length === 0 && req.method === 'POST') {
      let b: Record<string, string>;
      try {
        b = JSON.parse(body);
      } catch {
        return json(res, 422, { detail: [{ loc: ['body'], msg: 'invalid JSON', type: 'value_error' }] });
      }
      if (!b.callback_url || !b.verification_token || !EVENT_TYPES.includes(b.event_type) || !DATA_TYPES.includes(b.data_type)) {
        return json(res, 422, { detail: [{ loc: ['body'], msg: 'callback_url, verification_token, event_type and data_type are required', type: 'value_error' }] });
      }
      if (!(await this.verify(b.callback_url, b.verification_token))) return json(res, 400, { detail: 'Callback URL verification failed.' });
      const s: Subscription = {
        id: crypto.randomUUID(), clientId, callback_url: b.callback_url, verification_token: b.verification_token,
        event_type: b.event_type, data_type: b.data_type, expiration_time: new Date(Date.now() + LIFETIME_MS).toISOString(),
      };
      this.subs.set(s.id, s);
      return json(res, 201, this.view(s));
    }
    if (parts[0] === 'renew' && parts[1] && req.method === 'PUT') {
      const s = mine(parts[1]);
      if (!s) return json(res, 404, { detail: 'Subscription not found.' });
      s.expiration_time = new Date(Date.now() + LIFETIME_MS).toISOString();
      return json(res, 200, this.view(s));
    }
    const s = parts.length === 1 ? mine(parts[0]) : undefined;
    if (!s) return json(res, 404, { detail: 'Subscription not found.' });
    if (req.method === 'GET') return json(res, 200, this.view(s));
    if (req.method === 'DELETE') {
      this.subs.delete(s.id);
      res.writeHead(204);
      return void res.end();
    }
    if (req.method === 'PUT') {
      const b = JSON.parse(body || '{}') as Partial<Subscription>;
      if (b.callback_url && b.callback_url !== s.callback_url) {
        if (!(await this.verify(b.callback_url, b.verification_token ?? s.verification_token))) return json(res, 400, { detail: 'Callback URL verification failed.' });
        s.callback_url = b.callback_url;
      }
      if (b.verification_token) s.verification_token = b.verification_token;
      if (b.event_type && EVENT_TYPES.includes(b.event_type)) s.event_type = b.event_type;
      if (b.data_type && DATA_TYPES.includes(b.data_type)) s.data_type = b.data_type;
      return json(res, 200, this.view(s));
    }
    json(res, 405, { detail: 'Method Not Allowed' });
  }

  /** Oura's handshake: GET callback?verification_token&challenge must echo the challenge. */
  private async verify(callbackUrl: string, token: string): Promise<boolean> {
    const challenge = crypto.randomBytes(12).toString('hex');
    const u = new URL(callbackUrl);
    u.searchParams.set('verification_token', token);
    u.searchParams.set('challenge', challenge);
    try {
      const r = await fetch(u, { signal: AbortSignal.timeout(10_000) });
      if (r.status !== 200) return false;
      const b = (await r.json()) as { challenge?: string };
      return b.challenge === challenge;
    } catch {
      return false;
    }
  }

  async sendEvent(callbackUrl: string, event: object, o: { secret?: string; timestamp?: string }): Promise<{ status: number; body: string }> {
    const secret = o.secret ?? [...this.auth.clients.values()][0]?.clientSecret ?? '';
    const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify(event);
    const r = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-oura-timestamp': timestamp, 'x-oura-signature': sign(secret, timestamp, body) },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    return { status: r.status, body: await r.text() };
  }
}
