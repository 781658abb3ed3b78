// Leak scan: no client secret, code or token may appear in plain text where a user or an attacker could read it.
import * as fs from 'fs';
import * as path from 'path';

/** Shows enough of a secret to recognise it in a report, never the whole value. */
function masked(secret: string): string {
  return `${secret.slice(0, 4)}…(${secret.length} chars)`;
}

/** The secrets (masked) that occur in `text`, raw or URL-encoded. */
export function secretsIn(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => text.includes(s) || text.includes(encodeURIComponent(s))).map(masked);
}

/** Files below `dir` (node_modules skipped) that contain a secret, with the secrets found. */
export function secretsInFiles(dir: string, secrets: string[]): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const hits = secretsIn(fs.readFileSync(full).toString('latin1'), secrets);
        if (hits.length) found.push(`${full}: ${hits.join(', ')}`);
      }
    }
  };
  walk(dir);
  return found;
}

/** Fails naming the place and the (masked) secrets when `text` contains any of them. */
export function assertNoSecrets(where: string, text: string, secrets: string[]): void {
  const hits = secretsIn(text, secrets);
  if (hits.length) throw new Error(`${where} contains ${hits.length} secret(s) in plain text: ${hits.join(', ')}`);
}

export function assertNoSecretsInFiles(dir: string, secrets: string[]): void {
  const hits = secretsInFiles(dir, secrets);
  if (hits.length) throw new Error(`files under ${dir} contain secrets in plain text:\n  ${hits.join('\n  ')}`);
}
