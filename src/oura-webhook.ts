import type { OuraAccountNode, RED as NodeRED, RedNode } from './lib/red';
import { reportAsSentences } from './lib/report';
import { asError, status, timeOfDay } from './lib/status';
import { t } from './lib/i18n';
import * as tokens from './lib/store/tokens';
import { registerWebhookRoutes, WebhookHandle } from './lib/webhook/admin';
import { AppCredentials, DATA_TYPES, EVENT_TYPES } from './lib/webhook/api';
import { deliverEvent } from './lib/webhook/deliver';
import { eventKey, OuraEvent, recentEventsFor } from './lib/webhook/events';
import { combinations, removeAll, Wanted } from './lib/webhook/manager';
import { checkDelivery } from './lib/webhook/receive';
import { claimDelivery, settleDelivery } from './lib/webhook/shared';
import { Rejections } from './lib/webhook/rejections';
import { callbackUrl, Endpoint, HttpReq, HttpRes, normalizePath, replyJson, routesFor, WebhookRoutes } from './lib/webhook/routes';
import { clock } from './lib/webhook/schedule';
import { CLOSE_TIMEOUT_MS, DEFAULT_MAX_AGE_S, DEFAULT_PATH, FUTURE_SKEW_MS, listOf, maxAgeMs, queryOf } from './lib/webhook/settings';
import { reason, SubscriptionUpkeep } from './lib/webhook/upkeep';
import { withTimeout } from './lib/retry';
import { resolveAccount } from './lib/accounts';
import { sameSecret } from './lib/webhook/signature';

interface WebhookConfig {
  id: string;
  name?: string;
  account: string;
  path?: string;
  baseUrl?: string;
  fetch?: boolean;
  /** Seconds; an older x-oura-timestamp is a replay. 0 turns the check off. */
  maxAge?: number | string;
  subscribe?: boolean;
  eventTypes?: string[] | string;
  dataTypes?: string[] | string;
}

type WebhookNode = RedNode & { webhook?: WebhookHandle };
type Red = NodeRED & { httpNode?: { use(fn: (req: HttpReq, res: HttpRes, next: () => void) => void): unknown } };

export = function register(RED: Red): void {
  registerWebhookRoutes(RED);

  function OuraWebhook(this: WebhookNode, config: WebhookConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    reportAsSentences(node);
    let account: OuraAccountNode | null = null;
    let accountProblem: string | undefined;
    try {
      account = resolveAccount(RED, config.account);
    } catch (err) {
      accountProblem = (err as Error).message;
    }
    const path = normalizePath(config.path || DEFAULT_PATH);
    const url = callbackUrl(config.baseUrl, RED.settings.httpNodeRoot, path);
    const maxAge = maxAgeMs(config.maxAge);
    const replayWindow = Math.max(maxAge, DEFAULT_MAX_AGE_S * 1000) + FUTURE_SKEW_MS;
    const wanted: Wanted[] = config.subscribe
      ? combinations(listOf(config.eventTypes, EVENT_TYPES), listOf(config.dataTypes, DATA_TYPES))
      : [];
    const verificationToken = () => String(node.credentials?.verificationToken ?? '');
    // Kept from the start: when the account is deleted in the same deploy its credentials are gone at close.
    let lastApp: AppCredentials | undefined;
    const app = (): AppCredentials | undefined => {
      const c = account?.handle?.credentials();
      if (c?.clientId && c.clientSecret) lastApp = { clientId: c.clientId, clientSecret: c.clientSecret };
      return lastApp;
    };
    app();

    let events = 0;
    let closed = false;
    const rejections = new Rejections();
    let routes: WebhookRoutes | undefined;
    let setupError: string | undefined;

    if (!account) setupError = accountProblem;
    else if (RED.settings.httpNodeRoot === false || !RED.httpNode) setupError = t('oura.webhook.setup.noHttpNodes');
    else if (!lastApp) setupError = t('oura.webhook.setup.noClient');

    function showListening(): void {
      if (closed || setupError) return;
      if (events > 0) status.done(node, t('oura.status.eventsAt', { count: events, time: timeOfDay() }), !!(account && tokens.saveProblem(account.handle.key)));
      else if (account && !tokens.current(account.handle.key)) status.notAuthorized(node);
      else status.done(node, t('oura.status.listening'), !!(account && tokens.saveProblem(account.handle.key)));
    }

    /** Anyone can post to a public URL: the status shows why, the log gets at most a few debug lines a minute. */
    function reject(res: HttpRes, code: number, why: string): void {
      replyJson(res, code, { detail: why });
      const now = clock.now();
      if (rejections.showStatus(why, now)) node.status({ fill: 'red', shape: 'ring', text: t('oura.status.rejected', { why }) });
      const line = rejections.logLine(t('oura.webhook.log.rejected', { path, code, why }), now);
      if (line) node.debug(line);
    }

    function verify(req: HttpReq, res: HttpRes): void {
      const q = queryOf(req);
      const given = typeof q.verification_token === 'string' ? q.verification_token : '';
      const expected = verificationToken();
      if (!expected) return reject(res, 401, t('oura.webhook.rejected.noToken'));
      if (!given || !sameSecret(given, expected)) return reject(res, 401, t('oura.webhook.rejected.wrongToken'));
      if (typeof q.challenge !== 'string' || !q.challenge) return reject(res, 400, t('oura.webhook.rejected.noChallenge'));
      replyJson(res, 200, { challenge: q.challenge });
      node.log(t('oura.webhook.log.verified', { path }));
      showListening();
    }

    async function receive(req: HttpReq, res: HttpRes): Promise<void> {
      const v = await checkDelivery(req, {
        secret: () => app()?.clientSecret, maxAgeMs: maxAge, futureSkewMs: FUTURE_SKEW_MS, now: () => clock.now(),
        recent: () => recentEventsFor(path, replayWindow),
      });
      if (v.kind === 'rejected') return reject(res, v.code, v.why);
      if (v.kind === 'unavailable') return replyJson(res, 503, { detail: t('oura.webhook.reply.noSecret') }, { 'Retry-After': '60' });
      const { event } = v;
      const claim = v.kind === 'duplicate' ? 'duplicate' : await claimDelivery(path, event);
      // Not handed to the flows after all: the replay memory must let Oura's retry through.
      const letGo = () => recentEventsFor(path, replayWindow).forget(eventKey(event));
      if (claim === 'unavailable') {
        letGo();
        // Several Node-REDs share the events through Redis, which cannot be reached: Oura retries later.
        replyJson(res, 503, { detail: t('oura.webhook.reply.noSharedStore') }, { 'Retry-After': '30' });
        return;
      }
      if (claim === 'duplicate') {
        replyJson(res, 200, { status: 'duplicate' });
        node.debug(t('oura.webhook.log.duplicate', { event: event.event_type, data: event.data_type, id: event.object_id ?? '' }));
        return;
      }
      // Oura wants an answer within 10 s whatever the flow does next.
      replyJson(res, 200, { status: 'accepted' });
      deliver(event).then(
        (delivered) => {
          if (!delivered) letGo();
          return settleDelivery(path, event, delivered, replayWindow);
        },
        (err) => {
          letGo();
          void settleDelivery(path, event, false, replayWindow);
          node.error(asError(err));
        },
      );
    }

    const endpoint: Endpoint = (req, res) => {
      let run: Promise<void>;
      if (req.method === 'POST') run = receive(req, res);
      else if (req.method === 'GET' || req.method === 'HEAD') run = Promise.resolve().then(() => verify(req, res));
      else run = Promise.resolve(replyJson(res, 405, { detail: t('oura.webhook.reply.methodNotAllowed') }, { Allow: 'GET, POST' }));
      run.catch((err) => {
        replyJson(res, 500, { detail: t('oura.admin.internalError') });
        node.error(asError(err));
      });
    };

    const deliver = (event: OuraEvent) => deliverEvent({
      RED, node, account, clientId: () => lastApp?.clientId, fetch: !!config.fetch, closed: () => closed,
      sent: () => {
        events++;
        showListening();
      },
    }, event);

    // Subscriptions: create the wanted ones (option), renew each before it expires.
    const upkeep = url ? new SubscriptionUpkeep(node, { callbackUrl: url, wanted, app, verificationToken, showListening }) : undefined;

    let stopWatching: () => void = () => undefined;
    if (setupError) {
      node.status({ fill: 'red', shape: 'ring', text: t('oura.status.notConfigured') });
      node.error(setupError);
    } else {
      routes = routesFor(RED.httpNode!);
      if (!routes.claim(path, endpoint)) {
        routes = undefined;
        setupError = t('oura.webhook.setup.pathInUse', { path });
        node.status({ fill: 'red', shape: 'ring', text: t('oura.status.pathInUse') });
        node.error(setupError);
      } else {
        node.webhook = {
          path,
          callbackUrl: url,
          accountId: account!.id,
          app: () => {
            const a = app();
            if (!a) throw new Error(t('oura.webhook.admin.noClient'));
            return a;
          },
          verificationToken,
          refresh: () => upkeep?.lookNow(),
        };
        stopWatching = tokens.onChange(account!.handle.key, () => showListening());
        showListening();
        if (upkeep) setImmediate(() => upkeep.lookNow());
      }
    }

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      upkeep?.close();
      stopWatching();
      routes?.release(path, endpoint, removed);
      delete node.webhook;
      status.clear(node);
      const a = lastApp;
      if (!removed || !url || !a || !routes) return done();
      // Deleted from the flows: its subscriptions go too (a 410 from the retired path cancels any left).
      withTimeout(removeAll({ app: a, callbackUrl: url }), CLOSE_TIMEOUT_MS).then((r) => {
        if (r.deleted) node.log(t('oura.webhook.log.deleted', { count: r.deleted, url }));
        for (const f of r.failed) node.warn(t('oura.webhook.log.deleteFailed', { event: f.event_type, data: f.data_type, error: f.error }));
      }, (err) => {
        node.warn(t('oura.webhook.log.deleteAllFailed', { url, reason: reason(err) }));
      }).then(done, done);
    });
  }

  RED.nodes.registerType('oura webhook', OuraWebhook, {
    credentials: {
      verificationToken: { type: 'password' },
    },
  });
};
