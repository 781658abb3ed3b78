/**
 * Scope names as Oura's servers spell them. The current authorization server publishes `extapi:*` names (and
 * OpenID's `openid profile email`); the data routes care only about the bare name behind them.
 */

/** The legacy names of spec 1.37 and the newer ones Oura added after it. */
export const SPEC_SCOPES = ['email', 'personal', 'daily', 'heartrate', 'workout', 'tag', 'session', 'spo2Daily'];
export const NEWER_SCOPES = ['spo2', 'heart_health', 'stress', 'ring_configuration'];
export const BARE_SCOPES = [...SPEC_SCOPES, ...NEWER_SCOPES];

/** `scopes_supported` of the current server's discovery document (snapshot 2026-09, API-NOTES). */
export const CURRENT_SCOPES = [
  'extapi:personal', 'extapi:daily', 'extapi:heartrate', 'extapi:session', 'extapi:workout', 'extapi:tag', 'extapi:stress',
  'extapi:heart_health', 'extapi:spo2', 'extapi:biomarkers', 'extapi:metabolic', 'extapi:research', 'openid', 'profile', 'email',
];

/**
 * What an authorization without a `scope` parameter grants: "every scope the app may ask for". Oura does not publish
 * `ring_configuration` on the current server; the simulator assumes (unverified) that the default grant includes it,
 * so ring data can be read at all.
 */
export const DEFAULT_GRANT = [...CURRENT_SCOPES.filter((s) => s.startsWith('extapi:') || s === 'email'), 'extapi:ring_configuration'];

/** The bare name a data route checks: `extapi:spo2` -> `spo2`. */
export function bare(scope: string): string {
  return scope.replace(/^extapi:/, '');
}

/**
 * A bare legacy name sent to the current server, as one report recorded it: asked `daily`, granted `extapi:daily`.
 * `spo2Daily` is `extapi:spo2` there.
 */
export function upgradeBare(scope: string): string | undefined {
  if (!BARE_SCOPES.includes(scope)) return undefined;
  if (scope === 'email') return 'email';
  const name = scope === 'spo2Daily' ? 'extapi:spo2' : `extapi:${scope}`;
  return CURRENT_SCOPES.includes(name) || name === 'extapi:ring_configuration' ? name : undefined;
}
