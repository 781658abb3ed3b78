import * as crypto from 'crypto';
import { timing } from '../retry';

/** An authorization the user started: bound to one account, one redirect URI and one client. */
export interface PendingAuthorization {
  accountKey: string;
  redirectUri: string;
  clientId: string;
  clientSecret: string;
  /** A configured token URL (the deployed one, or one typed with a typed secret before the first deploy). */
  tokenUrl?: string;
  /** PKCE: never leaves the runtime; the consent URL carries only its S256 challenge. */
  codeVerifier: string;
  /** The issuer the redirect must name when it names one (RFC 9207). */
  issuer: string;
  createdAt: number;
}

export const STATE_TTL_MS = 10 * 60_000;
const MAX_PENDING = 200;

const pending = new Map<string, PendingAuthorization>();

function dropExpired(now: number): void {
  for (const [state, p] of pending) {
    if (now - p.createdAt > STATE_TTL_MS) pending.delete(state);
  }
}

/** A new random state (256 bits) for this authorization. */
export function create(p: Omit<PendingAuthorization, 'createdAt'>): string {
  const now = timing.now();
  dropExpired(now);
  while (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value as string);
  const state = crypto.randomBytes(32).toString('base64url');
  pending.set(state, { ...p, createdAt: now });
  return state;
}

/** Takes a state out: single use, so a second callback with it finds nothing. */
export function take(state: unknown): PendingAuthorization | undefined {
  if (typeof state !== 'string' || !state) return undefined;
  const p = pending.get(state);
  if (!p) return undefined;
  pending.delete(state);
  if (timing.now() - p.createdAt > STATE_TTL_MS) return undefined;
  return p;
}

/** Looks without taking. */
export function peek(state: unknown): PendingAuthorization | undefined {
  return typeof state === 'string' ? pending.get(state) : undefined;
}

/** For tests. */
export function clearAll(): void {
  pending.clear();
}
