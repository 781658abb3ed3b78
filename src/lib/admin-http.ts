/** Plumbing shared by the package's admin routes: bodies, answers, failures. */
import { InputError, OuraError, OuraHttpError } from './errors';
import { parseJson } from './http';
import type { Handler, Req, Res } from './red';

const MAX_BODY = 64 * 1024;

/** Node-RED's admin app parses JSON itself; the test helper's may not, so read the body when needed. */
export async function jsonBody(req: Req): Promise<Record<string, unknown>> {
  if (req.body && typeof req.body === 'object') return req.body as Record<string, unknown>;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new InputError('Request body too large');
    chunks.push(chunk as Buffer);
  }
  const parsed = parseJson(Buffer.concat(chunks).toString('utf8'));
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.hash;
  } catch {
    return false;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Answers an admin route's failure: 400 for bad input, 502 for what Oura refused, 500 for our own bugs. */
function fail(res: Res, err: unknown): void {
  if (res.headersSent) return;
  if (err instanceof InputError) res.status(400).json({ error: err.message });
  else if (err instanceof OuraHttpError) res.status(502).json({ error: err.message, status: err.httpStatus });
  else if (err instanceof OuraError) res.status(502).json({ error: err.message });
  else res.status(500).json({ error: 'Internal error' });
}

/** An async admin route whose every failure ends in a JSON answer. */
export function wrap(fn: (req: Req, res: Res) => Promise<void>): Handler {
  return (req, res) => {
    fn(req, res).catch((err) => fail(res, err));
  };
}
