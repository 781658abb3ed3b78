/** The HTML a browser sees at the authorize URL, and the parser `consent()` uses to act like that browser. */
import { escapeHtml, unescapeHtml } from './http';

const HIDDEN = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'];

export function consentPage(clientId: string, p: URLSearchParams, scopes: string[], action: string): string {
  const hidden = HIDDEN.filter((k) => p.has(k))
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(p.get(k) ?? '')}">`).join('\n');
  const boxes = scopes
    .map((s) => `<label><input type="checkbox" name="grant" value="${escapeHtml(s)}" checked> ${escapeHtml(s)}</label>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Oura simulator – authorize ${escapeHtml(clientId)}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}label{display:block;margin:.2em 0}button{font-size:1.1em;margin-right:1em;padding:.4em 1.2em}</style></head>
<body><h1>Oura simulator</h1>
<p><b>${escapeHtml(clientId)}</b> wants to read your Oura data. This is the offline simulator, not Oura.</p>
<form method="post" action="${escapeHtml(action)}">
${hidden}
<fieldset><legend>Allow access to</legend>
${boxes}
</fieldset>
<p><button type="submit" name="decision" value="accept">Accept</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form></body></html>`;
}

export function errorPage(message: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Oura simulator – authorization error</title></head>
<body><h1>Authorization error</h1><p class="error">${escapeHtml(message)}</p></body></html>`;
}

/** The message of an error page. */
export function errorMessage(html: string): string {
  const m = /<p class="error">([\s\S]*?)<\/p>/.exec(html);
  return m ? unescapeHtml(m[1]) : html.slice(0, 200);
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeHtml(m[1]) : undefined;
}

/** What a browser would read from the consent form: its action, hidden fields and scope checkboxes. */
export function parseConsentForm(html: string): { action: string; hidden: Array<[string, string]>; scopes: string[] } {
  const form = /<form[^>]*>/.exec(html);
  if (!form) throw new Error('the consent page has no form');
  const hidden: Array<[string, string]> = [];
  const scopes: string[] = [];
  for (const m of html.matchAll(/<input\b[^>]*>/g)) {
    const type = attr(m[0], 'type');
    const name = attr(m[0], 'name');
    const value = attr(m[0], 'value') ?? '';
    if (type === 'hidden' && name) hidden.push([name, value]);
    if (type === 'checkbox' && name === 'grant') scopes.push(value);
  }
  return { action: attr(form[0], 'action') ?? '', hidden, scopes };
}
