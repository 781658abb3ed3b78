/**
 * Where Oura lives. Two hosts, each set by an environment variable (the demo and the tests point them at the
 * simulator): the authorization server (`OURA_MOI_URL`) and the API host (`OURA_API_URL`: data, webhooks, and the
 * legacy token and revoke URLs). `OURA_AUTHORIZE_URL`, `OURA_TOKEN_URL` and `OURA_REVOKE_URL` override one endpoint
 * each.
 */
export const OURA_DEFAULTS = {
  moiUrl: 'https://moi.ouraring.com',
  apiUrl: 'https://api.ouraring.com',
} as const;

export const ISSUER_PATH = '/oauth/v2/ext/oauth-anonymous';
/** The current server's endpoints as its discovery document listed them (2026-09): used when it cannot be read. */
export const CURRENT_PATHS = {
  authorize: '/oauth/v2/ext/oauth-authorize',
  token: '/oauth/v2/ext/oauth-token',
  revoke: '/oauth/v2/ext/oauth-revoke',
} as const;
export const LEGACY_PATHS = { token: '/oauth/token', revoke: '/oauth/revoke' } as const;

/** Which of Oura's two token endpoints issued an authorization. Remembered per authorization, never as a URL. */
export type TokenRole = 'current' | 'legacy';

function env(name: string): string | undefined {
  const v = process.env[name];
  return v && v.trim() ? v.trim() : undefined;
}

const noSlash = (u: string) => u.replace(/\/+$/, '');

export function moiUrl(): string {
  return noSlash(env('OURA_MOI_URL') ?? OURA_DEFAULTS.moiUrl);
}

export function apiUrl(): string {
  return noSlash(env('OURA_API_URL') ?? OURA_DEFAULTS.apiUrl);
}

export function issuer(): string {
  return `${moiUrl()}${ISSUER_PATH}`;
}

export function authorizeOverride(): string | undefined {
  return env('OURA_AUTHORIZE_URL');
}

export function revokeOverride(): string | undefined {
  return env('OURA_REVOKE_URL');
}

/**
 * A token URL that replaces the automatic choice between the two servers: the account's own *Token URL*, else
 * `OURA_TOKEN_URL`. Either turns the fallback off.
 */
export function tokenOverride(accountTokenUrl?: string): string | undefined {
  const own = accountTokenUrl && accountTokenUrl.trim() ? accountTokenUrl.trim() : undefined;
  return own ?? env('OURA_TOKEN_URL');
}

export function legacyTokenUrl(): string {
  return `${apiUrl()}${LEGACY_PATHS.token}`;
}

export function legacyRevokeUrl(): string {
  return `${apiUrl()}${LEGACY_PATHS.revoke}`;
}

export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Oura's own hosts (as configured) and `OURA_TOKEN_URL`'s, set by whoever runs Node-RED: the only places whose
 * error text the package repeats to the editor, and, with an account's deployed Token URL, the only places a stored
 * Client Secret is sent to.
 */
export function isTrustedOrigin(url: string): boolean {
  const o = originOf(url);
  if (!o) return false;
  const trusted = [moiUrl(), apiUrl(), env('OURA_TOKEN_URL'), env('OURA_REVOKE_URL')].map((u) => (u ? originOf(u) : undefined));
  return trusted.includes(o);
}
