/** Control routes under /_sim/ (tests and demo only): JSON in and out, for a simulator in another process. */
import type * as http from 'http';
import { checkFaults } from './faults';
import { readBody, sendJson } from './http';
import type { Simulator } from './server';

class ControlError extends Error {}

function parseJson(text: string): any {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ControlError('the body is not valid JSON');
  }
}

export async function routeControl(sim: Simulator, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  try {
    const json = parseJson(req.method === 'POST' ? await readBody(req) : '');
    const ok = () => sendJson(res, 200, { ok: true });
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /_sim/faults':
        sim.setFaults(checkFaults(json));
        return ok();
      case 'POST /_sim/expire':
        sim.expireAccessTokens();
        return ok();
      case 'POST /_sim/revoke-all':
        sim.revokeAll();
        return ok();
      case 'GET /_sim/stats':
        return sendJson(res, 200, sim.stats());
      case 'POST /_sim/reset-stats':
        sim.resetStats();
        return ok();
      case 'GET /_sim/secrets':
        return sendJson(res, 200, sim.issuedSecrets());
      case 'POST /_sim/clients':
        sim.addClient(json);
        return ok();
      case 'POST /_sim/ttl':
        sim.setAccessTokenTtl(Number(json?.seconds));
        return ok();
      case 'POST /_sim/consent':
        if (typeof json?.authorizeUrl !== 'string') throw new ControlError('authorizeUrl is required');
        return sendJson(res, 200, { location: await sim.consent(json.authorizeUrl, { accept: json.accept !== false, scopes: json.scopes }) });
      case 'POST /_sim/event':
        if (typeof json?.callbackUrl !== 'string' || typeof json.event !== 'object') throw new ControlError('callbackUrl and event are required');
        return sendJson(res, 200, await sim.sendEvent(json.callbackUrl, json.event, { secret: json.secret, timestamp: json.timestamp }));
      case 'GET /_sim/webhooks':
        return sendJson(res, 200, sim.webhooks());
      case 'GET /_sim/info':
        return sendJson(res, 200, { url: sim.url, moiUrl: sim.moiUrl, issuer: sim.issuer, today: sim.today() });
      default:
        return sendJson(res, 404, { detail: 'Unknown control route' });
    }
  } catch (err) {
    sendJson(res, 400, { error: (err as Error).message });
  }
}
