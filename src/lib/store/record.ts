/**
 * An account's authorization as the package keeps it (in memory, in the durable copy, in Node-RED's credentials), and
 * the rules that read older copies and pick the newest.
 */
import { knownMetadata } from '../oauth/discovery';
import { CURRENT_PATHS, LEGACY_PATHS, legacyTokenUrl, OURA_DEFAULTS, TokenRole } from '../oauth/endpoints';
import type { ClientCredentials, TokenSet } from '../oauth/token-requests';

/** What the package keeps per account: in memory, in the durable copy, and in Node-RED's credentials. */
export interface TokenRecord {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  scopes: string[];
  /** Which of Oura's token endpoints issued this authorization; its URL is resolved from the configuration at each use. */
  tokenRole?: TokenRole;
  clientId: string;
  /** When the user consented: a newer authorization always wins over copies of an older one. */
  authorizedAt: number;
  /** When these tokens were obtained (consent or refresh): the newest copy wins. */
  updatedAt: number;
  user?: { id?: string; email?: string };
  /** Set when Oura refused the refresh token: no token request until the user authorizes again. */
  reauth?: string;
  /**
   * A tombstone left by Disconnect: newer than the tokens Node-RED still has in flows_cred.json (written only
   * at the next deploy), so a restart does not bring the forgotten authorization back.
   */
  forgotten?: boolean;
}

/** The account's client as deployed: what a refresh may use. */
export type DeployedClient = ClientCredentials & { tokenUrl?: string };

/** Which copy wins: a newer authorization, then newer tokens of the same one. */
export function isNewer(a: TokenRecord | undefined, b: TokenRecord | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  if (a.authorizedAt !== b.authorizedAt) return a.authorizedAt > b.authorizedAt;
  return a.updatedAt > b.updatedAt;
}

/**
 * Records saved before roles were kept name the URL that answered (`tokenUrl`). Oura's two URLs become their role;
 * any other URL is dropped: a configured Token URL is used from the deployed account, never from a record.
 */
export function fromStored(r: TokenRecord & { tokenUrl?: unknown }): TokenRecord {
  if (r.tokenUrl === undefined) return r;
  const { tokenUrl, ...rest } = r;
  const legacy = [`${OURA_DEFAULTS.apiUrl}${LEGACY_PATHS.token}`, legacyTokenUrl()];
  const current = [`${OURA_DEFAULTS.moiUrl}${CURRENT_PATHS.token}`, knownMetadata().tokenEndpoint];
  const role: TokenRole | undefined = legacy.includes(String(tokenUrl)) ? 'legacy' : current.includes(String(tokenUrl)) ? 'current' : undefined;
  return role && !rest.tokenRole ? { ...rest, tokenRole: role } : rest;
}

/** Parses the `tokens` credential; anything unreadable counts as absent. */
export function parseCredentialTokens(value: unknown): TokenRecord | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  try {
    const r = JSON.parse(value) as TokenRecord;
    return typeof r.accessToken === 'string' && typeof r.refreshToken === 'string' && typeof r.updatedAt === 'number' ? fromStored(r) : undefined;
  } catch {
    return undefined;
  }
}


/** The record after a renewal: the new tokens on the same authorization (the scopes kept when Oura does not say). */
export function renewed(base: TokenRecord, tokens: TokenSet, now: number): TokenRecord {
  return {
    ...base,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.expiresAt,
    scopes: tokens.scopes.length ? tokens.scopes : base.scopes,
    tokenRole: tokens.role ?? base.tokenRole,
    updatedAt: Math.max(now, base.updatedAt + 1),
    reauth: undefined,
  };
}

/** Whether a replica still uses `record` (`held`: what it uses now); a Disconnect's tombstone is held as nothing. */
export function stillHeld(held: TokenRecord | undefined, record: TokenRecord): boolean {
  return held === record || (!!record.forgotten && !held);
}
