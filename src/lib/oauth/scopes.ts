/**
 * Scope names. The dialog and the collections table use Oura's bare names (`daily`, `spo2Daily`, ...); the current
 * authorization server publishes and grants `extapi:*` names. Granted scopes are always kept and shown bare.
 */

/** What the dialog offers. */
export const SCOPE_CHOICES = ['email', 'personal', 'daily', 'heartrate', 'workout', 'tag', 'session', 'spo2', 'spo2Daily', 'heart_health', 'stress', 'ring_configuration'];

/** Bare names, deduplicated: `extapi:daily personal,daily` -> `daily personal`. */
export function normalizeScopes(scopes: string | string[] | undefined): string[] {
  const list = Array.isArray(scopes) ? scopes : String(scopes ?? '').split(/[\s,]+/);
  const out: string[] = [];
  for (const s of list) {
    const clean = s.trim().replace(/^extapi:/, '');
    if (clean && !out.includes(clean)) out.push(clean);
  }
  return out;
}

/** The server names a bare choice may go by, preferred first (the current server calls SpO2 `extapi:spo2`). */
function serverNames(choice: string): string[] {
  if (choice === 'spo2Daily' || choice === 'spo2') return ['extapi:spo2', choice];
  return [`extapi:${choice}`, choice];
}

/**
 * The `scope` to send for the dialog's selection: each choice under the name the server lists for it. A choice the
 * server does not list is left out (and reported), since asking for it would fail or be ignored.
 */
export function scopesToRequest(selected: string[], supported: string[]): { send: string[]; leftOut: string[] } {
  const send: string[] = [];
  const leftOut: string[] = [];
  for (const choice of normalizeScopes(selected)) {
    const name = serverNames(choice).find((n) => supported.includes(n));
    if (!name) leftOut.push(choice);
    else if (!send.includes(name)) send.push(name);
  }
  return { send, leftOut };
}
