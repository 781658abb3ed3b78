/**
 * Admin routes behind the `oura webhook` dialog: what the runtime serves, and the application's
 * subscriptions (list, create, renew, delete). The application's Client Secret stays in the runtime:
 * the dialog names the Oura account node and the runtime uses its credentials.
 */
import { jsonBody, sameSiteJson, wrap } from '../admin/http';
import { InputError } from '../errors';
import type { Handler, OuraAccountNode, RED } from '../red';
import { AppCredentials, DATA_TYPES, deleteSubscription, EVENT_TYPES, listSubscriptions, renewSubscription } from './api';
import { combinations, maintain, Outcome } from './manager';
import { clock } from './schedule';
import { t } from '../i18n';

/** What a deployed `oura webhook` node tells the admin routes. */
export interface WebhookHandle {
  path: string;
  /** Undefined while the node has no public base URL. */
  callbackUrl?: string;
  accountId: string;
  app(): AppCredentials;
  verificationToken(): string;
  /** Looks after the subscriptions again (reschedules renewals) after the dialog changed them. */
  refresh(): void;
}

type AdminApp = RED['httpAdmin'] & { delete(path: string, ...h: Handler[]): void };

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** `what`: what the list holds, in the words of its two errors. */
function list(v: unknown, allowed: readonly string[], what: { unknown: string; pickOne: string }): string[] {
  const items = Array.isArray(v) ? v.map(String) : str(v).split(/[\s,]+/).filter(Boolean);
  const bad = items.filter((x) => !allowed.includes(x));
  if (bad.length) throw new InputError(t('oura.webhook.admin.unknown', { what: what.unknown, items: bad.join(', ') }));
  if (!items.length) throw new InputError(t('oura.webhook.admin.pickOne', { what: what.pickOne }));
  return [...new Set(items)];
}

/** The application credentials of a deployed Oura account node. */
export function appOf(RED: RED, accountId: string): AppCredentials {
  if (!accountId) throw new InputError(t('oura.webhook.admin.pickAccount'));
  const account = RED.nodes.getNode(accountId) as OuraAccountNode | null;
  if (!account || account.type !== 'oura-account' || !account.handle) {
    throw new InputError(t('oura.webhook.admin.deployAccount'));
  }
  const c = account.handle.credentials();
  if (!c.clientId || !c.clientSecret) throw new InputError(t('oura.webhook.admin.noClient'));
  return { clientId: c.clientId, clientSecret: c.clientSecret };
}

function webhookOf(RED: RED, nodeId: string): WebhookHandle {
  const node = nodeId ? (RED.nodes.getNode(nodeId) as { type?: string; webhook?: WebhookHandle } | null) : null;
  if (!node || node.type !== 'oura webhook' || !node.webhook) {
    throw new InputError(t('oura.webhook.admin.deployNode'));
  }
  return node.webhook;
}

export function registerWebhookRoutes(RED: RED): void {
  const read = RED.auth.needsPermission('oura-account.read');
  const write = RED.auth.needsPermission('oura-account.write');
  const admin = RED.httpAdmin as AdminApp;

  admin.get('/oura/webhook/info', read, (req, res) => {
    const root = RED.settings.httpNodeRoot;
    let deployed: Record<string, unknown> | null = null;
    try {
      const w = webhookOf(RED, str(req.query?.node));
      deployed = { path: w.path, callbackUrl: w.callbackUrl ?? null, account: w.accountId };
    } catch {
      deployed = null;
    }
    res.set('Cache-Control', 'no-store');
    res.json({
      httpNodeRoot: root === false ? false : typeof root === 'string' ? root : '/',
      // Only whether it is set: Oura cannot send credentials, so the callback would answer 401.
      httpNodeAuth: !!RED.settings.httpNodeAuth,
      eventTypes: EVENT_TYPES,
      dataTypes: DATA_TYPES,
      deployed,
    });
  });

  admin.get('/oura/webhook/subscriptions', read, wrap(async (req, res) => {
    const subscriptions = await listSubscriptions(appOf(RED, str(req.query?.account)));
    res.set('Cache-Control', 'no-store');
    res.json({ subscriptions });
  }));

  admin.post('/oura/webhook/subscriptions', write, sameSiteJson, wrap(async (req, res) => {
    const b = await jsonBody(req);
    const w = webhookOf(RED, str(b.node));
    if (!w.callbackUrl) throw new InputError(t('oura.webhook.admin.noBaseUrl'));
    const wanted = combinations(
      list(b.eventTypes, EVENT_TYPES, { unknown: t('oura.webhook.admin.eventTypes'), pickOne: t('oura.webhook.admin.eventType') }),
      list(b.dataTypes, DATA_TYPES, { unknown: t('oura.webhook.admin.dataTypes'), pickOne: t('oura.webhook.admin.dataType') }),
    );
    const out: Outcome = await maintain({ app: w.app(), callbackUrl: w.callbackUrl, verificationToken: w.verificationToken() }, wanted, clock.now(), false);
    w.refresh();
    res.json(out);
  }));

  admin.post('/oura/webhook/subscriptions/:id/renew', write, sameSiteJson, wrap(async (req, res) => {
    const b = await jsonBody(req);
    const subscription = await renewSubscription(appOf(RED, str(b.account)), req.params.id);
    for (const h of deployedHooks(RED)) h.refresh();
    res.json({ subscription });
  }));

  admin.delete('/oura/webhook/subscriptions/:id', write, sameSiteJson, wrap(async (req, res) => {
    await deleteSubscription(appOf(RED, str(req.query?.account)), req.params.id);
    for (const h of deployedHooks(RED)) h.refresh();
    res.json({ deleted: req.params.id });
  }));
}

function deployedHooks(RED: RED): WebhookHandle[] {
  const out: WebhookHandle[] = [];
  RED.nodes.eachNode((n) => {
    if (n.type !== 'oura webhook') return;
    const node = RED.nodes.getNode(n.id) as { webhook?: WebhookHandle } | null;
    if (node?.webhook) out.push(node.webhook);
  });
  return out;
}
