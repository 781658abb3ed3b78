/**
 * The current authorization server's OIDC discovery document, read once and cached. Trusted only as far as it
 * agrees with what the package expects: its `issuer` must be Oura's, and its endpoints must live on the
 * authorization server's own origin. Anything else, or a document that cannot be read, falls back to the known paths.
 */
import { CURRENT_PATHS, issuer, moiUrl, originOf } from './endpoints';
import { parseJson, send } from '../http';
import { timing } from '../retry';

export interface ServerMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  /** The scope names the server lists (`extapi:daily`, ...). */
  scopesSupported: string[];
  /** False when the known paths are used because the document could not be read or was refused. */
  discovered: boolean;
}

export const DISCOVERY_TIMEOUT_MS = 5000;
/** After a failure, the document is asked for again at most this often. */
export const RETRY_AFTER_FAILURE_MS = 5 * 60_000;
/** A document read successfully is read again after this long. */
export const REFRESH_AFTER_MS = 24 * 3600_000;

/** `scopes_supported` of Oura's document on 2026-09 (API-NOTES), for when the live one cannot be read. */
export const KNOWN_SCOPES = [
  'extapi:personal', 'extapi:daily', 'extapi:heartrate', 'extapi:session', 'extapi:workout', 'extapi:tag', 'extapi:stress',
  'extapi:heart_health', 'extapi:spo2', 'extapi:biomarkers', 'extapi:metabolic', 'extapi:research', 'openid', 'profile', 'email',
];

interface Cached {
  /** The OURA_MOI_URL it was read for: a changed environment (tests) reads again. */
  base: string;
  meta: ServerMetadata;
  /** When to read again. */
  until: number;
}

let cache: Cached | undefined;
let reading: Promise<ServerMetadata> | undefined;

export function knownMetadata(): ServerMetadata {
  const base = moiUrl();
  return {
    issuer: issuer(),
    authorizationEndpoint: `${base}${CURRENT_PATHS.authorize}`,
    tokenEndpoint: `${base}${CURRENT_PATHS.token}`,
    revocationEndpoint: `${base}${CURRENT_PATHS.revoke}`,
    scopesSupported: KNOWN_SCOPES,
    discovered: false,
  };
}

/** A document's endpoint, only when it is an https/http URL on the authorization server's origin. */
function endpoint(v: unknown, fallback: string): string {
  if (typeof v !== 'string') return fallback;
  return originOf(v) === originOf(moiUrl()) ? v : fallback;
}

/** Validates a discovery document; undefined when it is not the expected issuer's. */
export function fromDocument(doc: unknown): ServerMetadata | undefined {
  if (!doc || typeof doc !== 'object') return undefined;
  const d = doc as Record<string, unknown>;
  if (d.issuer !== issuer()) return undefined;
  const known = knownMetadata();
  const scopes = Array.isArray(d.scopes_supported) && d.scopes_supported.every((s) => typeof s === 'string') ? (d.scopes_supported as string[]) : known.scopesSupported;
  return {
    issuer: known.issuer,
    authorizationEndpoint: endpoint(d.authorization_endpoint, known.authorizationEndpoint),
    tokenEndpoint: endpoint(d.token_endpoint, known.tokenEndpoint),
    revocationEndpoint: endpoint(d.revocation_endpoint, known.revocationEndpoint),
    scopesSupported: scopes,
    discovered: true,
  };
}

async function read(base: string, previous: ServerMetadata | undefined): Promise<ServerMetadata> {
  let meta: ServerMetadata | undefined;
  try {
    const res = await send({ method: 'GET', url: `${issuer()}/.well-known/openid-configuration`, timeoutMs: DISCOVERY_TIMEOUT_MS });
    if (res.status === 200) meta = fromDocument(parseJson(res.body));
  } catch {
    // unreachable: the known paths will do
  }
  const now = timing.now();
  if (meta) cache = { base, meta, until: now + REFRESH_AFTER_MS };
  // A failed re-read keeps the last good document; with none, the known paths. Either way, ask again later.
  else cache = { base, meta: previous ?? knownMetadata(), until: now + RETRY_AFTER_FAILURE_MS };
  return cache.meta;
}

/** The authorization server's endpoints and scopes: cached, read at most once at a time, never throws. */
export function serverMetadata(): Promise<ServerMetadata> {
  const base = moiUrl();
  const c = cache && cache.base === base ? cache : undefined;
  if (c && timing.now() < c.until) return Promise.resolve(c.meta);
  if (!reading) {
    reading = read(base, c?.meta).finally(() => {
      reading = undefined;
    });
  }
  return reading;
}

/** For tests: forget what was read. */
export function resetDiscovery(): void {
  cache = undefined;
}
