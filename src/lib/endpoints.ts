/** Where Oura lives. Environment variables point the package elsewhere (the simulator, a proxy). */
export const OURA_DEFAULTS = {
  authorizeUrl: 'https://cloud.ouraring.com/oauth/authorize',
  tokenUrl: 'https://api.ouraring.com/oauth/token',
  /** Token URL reported for apps registered on Oura's newer developer portal. */
  newPortalTokenUrl: 'https://moi.ouraring.com/oauth/v2/ext/oauth-token',
  apiUrl: 'https://api.ouraring.com',
  revokeUrl: 'https://api.ouraring.com/oauth/revoke',
} as const;

function env(name: string): string | undefined {
  const v = process.env[name];
  return v && v.trim() ? v.trim() : undefined;
}

export function authorizeUrl(): string {
  return env('OURA_AUTHORIZE_URL') ?? OURA_DEFAULTS.authorizeUrl;
}

export function apiUrl(): string {
  return (env('OURA_API_URL') ?? OURA_DEFAULTS.apiUrl).replace(/\/+$/, '');
}

export function revokeUrl(): string {
  return env('OURA_REVOKE_URL') ?? OURA_DEFAULTS.revokeUrl;
}

/**
 * The token URLs to try, in order. An account's own URL wins, then OURA_TOKEN_URL; only when neither
 * is set may the client fall back to the new-portal URL after Oura's `400 invalid_request`.
 */
export function tokenUrls(accountTokenUrl?: string): { primary: string; fallback?: string } {
  const own = accountTokenUrl && accountTokenUrl.trim() ? accountTokenUrl.trim() : undefined;
  const configured = own ?? env('OURA_TOKEN_URL');
  if (configured) return { primary: configured };
  return { primary: OURA_DEFAULTS.tokenUrl, fallback: OURA_DEFAULTS.newPortalTokenUrl };
}
