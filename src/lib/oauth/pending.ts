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

/** Where authorizations live when several Node-REDs share the accounts (Redis): started in one, finished in any. */
export interface PendingBackend {
  put(state: string, p: PendingAuthorization, ttlMs: number): Promise<void>;
  take(state: string): Promise<PendingAuthorization | undefined>;
  peek(state: string): Promise<PendingAuthorization | undefined>;
}

let backend: PendingBackend | undefined;

export function useBackend(b: PendingBackend | undefined): void {
  backend = b;
}

function dropExpired(now: number): void {
  for (const [state, p] of pending) {
    if (now - p.createdAt > STATE_TTL_MS) pending.delete(state);
  }
}

/** A new random state (256 bits) for this authorization. */
export async function create(p: Omit<PendingAuthorization, 'createdAt'>): Promise<string> {
  const now = timing.now();
  const state = crypto.randomBytes(32).toString('base64url');
  if (backend) {
    await backend.put(state, { ...p, createdAt: now }, STATE_TTL_MS);
    return state;
  }
  dropExpired(now);
  while (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value as string);
  pending.set(state, { ...p, createdAt: now });
  return state;
}

const fresh = (p: PendingAuthorization | undefined) => (p && timing.now() - p.createdAt <= STATE_TTL_MS ? p : undefined);

/** Takes a state out: single use (across every Node-RED sharing a store), so a second callback finds nothing. */
export async function take(state: unknown): Promise<PendingAuthorization | undefined> {
  if (typeof state !== 'string' || !state) return undefined;
  if (backend) return fresh(await backend.take(state));
  const p = pending.get(state);
  if (!p) return undefined;
  pending.delete(state);
  return fresh(p);
}

/** Looks without taking. */
export async function peek(state: unknown): Promise<PendingAuthorization | undefined> {
  if (typeof state !== 'string' || !state) return undefined;
  return backend ? backend.peek(state) : pending.get(state);
}

/** For tests. */
export function clearAll(): void {
  pending.clear();
}
