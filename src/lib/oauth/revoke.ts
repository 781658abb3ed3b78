/**
 * Revocation at Disconnect, best effort: at the revocation endpoint of the server that issued the tokens. The current
 * server speaks RFC 7009 (`token`, `token_type_hint`, client credentials in the body); the legacy, unofficial URL
 * takes `?access_token=` and is used only for authorizations the legacy token endpoint issued.
 */
import { serverMetadata } from './discovery';
import { legacyRevokeUrl, revokeOverride, TokenRole } from './endpoints';
import { send } from '../http';
import type { ClientCredentials } from './token-requests';

export type RevokeOutcome = 'revoked' | 'failed' | 'skipped';

const TIMEOUT_MS = 10_000;

async function attempt(req: Parameters<typeof send>[0]): Promise<boolean> {
  try {
    const res = await send({ ...req, timeoutMs: TIMEOUT_MS });
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}

/**
 * Revokes the refresh token first (it is the one that lives on), then the access token. `skipped` when no Client
 * Secret of this authorization's client is at hand (an account never deployed): nothing is sent then.
 */
export async function revokeTokens(
  tokens: { accessToken: string; refreshToken: string; role?: TokenRole },
  client: ClientCredentials | undefined,
): Promise<RevokeOutcome> {
  if (!client?.clientId || !client.clientSecret) return 'skipped';
  const pairs: Array<[string, string]> = [[tokens.refreshToken, 'refresh_token'], [tokens.accessToken, 'access_token']];
  const results: boolean[] = [];
  if (tokens.role === 'legacy') {
    const base = revokeOverride() ?? legacyRevokeUrl();
    for (const [token] of pairs) {
      if (!token) continue;
      const url = new URL(base);
      url.searchParams.set('access_token', token);
      results.push(await attempt({ method: 'POST', url: url.toString() }));
    }
  } else {
    const url = revokeOverride() ?? (await serverMetadata()).revocationEndpoint;
    for (const [token, hint] of pairs) {
      if (!token) continue;
      results.push(await attempt({
        method: 'POST', url, form: { token, token_type_hint: hint, client_id: client.clientId, client_secret: client.clientSecret },
      }));
    }
  }
  return results.length && results[0] ? 'revoked' : 'failed';
}
