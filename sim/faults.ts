/** Injected failures: what a flaky network and a busy Oura do to a client. */
import type * as http from 'http';
import { sendJson } from './http';
import { rng } from './random';

export interface FaultSpec {
  kind: '429' | '422' | '500' | '503' | 'drop' | 'garbage' | 'slow';
  target?: 'data' | 'token' | 'discovery' | 'any';
  count?: number;
  rate?: number;
  seed?: number;
  retryAfter?: string;
  delayMs?: number;
}

const KINDS = ['429', '422', '500', '503', 'drop', 'garbage', 'slow'];
const TARGETS = ['data', 'token', 'discovery', 'any'];

interface Armed {
  spec: FaultSpec;
  left: number;
  random?: () => number;
}

export function checkFaults(specs: unknown): FaultSpec[] {
  if (!Array.isArray(specs)) throw new Error('faults must be an array of FaultSpec');
  for (const s of specs as FaultSpec[]) {
    if (!s || !KINDS.includes(String(s.kind))) throw new Error(`fault kind must be one of ${KINDS.join(', ')}`);
    if (s.target !== undefined && !TARGETS.includes(s.target)) throw new Error(`fault target must be one of ${TARGETS.join(', ')}`);
    if (s.rate !== undefined && !(typeof s.rate === 'number' && s.rate >= 0 && s.rate <= 1)) throw new Error('fault rate must be a number in 0..1');
    if (s.count !== undefined && !(Number.isInteger(s.count) && s.count >= 0)) throw new Error('fault count must be a whole number');
  }
  return specs as FaultSpec[];
}

/** Faults waiting to hit the next matching requests (by count) or a share of them (by rate). */
export class Faults {
  private armed: Armed[] = [];

  set(specs: FaultSpec[]): void {
    this.armed = checkFaults(specs).map((spec) => ({
      spec,
      left: spec.rate !== undefined ? Infinity : spec.count ?? 1,
      // Seeded, so a run with a fault rate fails the same requests every time.
      random: spec.rate !== undefined ? rng(spec.seed ?? 1) : undefined,
    }));
  }

  /** The fault that hits this request, if any (the first matching spec wins). */
  take(kind: 'data' | 'token' | 'discovery'): FaultSpec | undefined {
    for (const a of this.armed) {
      const target = a.spec.target ?? 'data';
      if (target !== 'any' && target !== kind) continue;
      if (a.random) {
        if (a.random() < (a.spec.rate ?? 0)) return a.spec;
        continue;
      }
      if (a.left <= 0) continue;
      a.left--;
      return a.spec;
    }
    return undefined;
  }
}

/**
 * Applies a fault. Resolves true when the request is finished (answered or dropped), false when it
 * should go on normally ('slow', after its delay). `timers` lets close() cancel pending delays.
 */
export function applyFault(f: FaultSpec, req: http.IncomingMessage, res: http.ServerResponse, now: () => number, timers: Set<NodeJS.Timeout>): Promise<boolean> {
  switch (f.kind) {
    case '429': {
      const retryAfter = f.retryAfter ?? '1';
      const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) : Math.max(0, Math.ceil((Date.parse(retryAfter) - now()) / 1000)) || 1;
      sendJson(res, 429, { detail: 'Too Many Requests' }, {
        'Retry-After': retryAfter,
        'X-RateLimit-Limit': '5000',
        'X-RateLimit-Window': '300',
        'X-RateLimit-Reset': String(seconds),
        'X-RateLimit-Tier': 'default',
      });
      return Promise.resolve(true);
    }
    case '422':
      // FastAPI's HTTPValidationError, as Oura answers a query it cannot process.
      sendJson(res, 422, { detail: [{ loc: ['query', 'start_date'], msg: 'value could not be processed', type: 'value_error' }] });
      return Promise.resolve(true);
    case '500':
      sendJson(res, 500, { detail: 'Internal Server Error' });
      return Promise.resolve(true);
    case '503':
      sendJson(res, 503, { detail: 'Service Unavailable' });
      return Promise.resolve(true);
    case 'garbage': {
      const text = '{"data": [{"id": "7f3a';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return Promise.resolve(true);
    }
    case 'drop':
      req.socket.destroy();
      return Promise.resolve(true);
    case 'slow':
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve(false);
        }, f.delayMs ?? 2000);
        timers.add(t);
      });
  }
}
