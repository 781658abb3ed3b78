// Three Node-REDs (4.1), each with its own user directory holding the same flows, credentials and credentialSecret,
// share one Oura authorization through a real redis-server (settings.js `ouraAccountTokenStore`): a burst over the
// three when the token expires makes one token request; a lock left by a dead replica holds them up only for its TTL;
// an authorization started in one editor finishes in another replica; Redis paused or restarted empty loses no
// message; a webhook event posted to all three reaches the flows once. The single-process rules are in test/shared/.
import { strict as assert } from 'assert';
import { Editor } from '../harness/editor';
import { variant } from '../harness/env';
import { stopAfterFirstFailure } from '../harness/steps';
import { waitFor } from '../harness/wait';
import { assertNoSecrets, assertNoSecretsInFiles } from '../harness/secrets';
import { authStatus, fetchSleep, SLEEP_NODE_ID, tokenLog } from '../harness/scenario';
import { expectStatus } from '../harness/http';
import {
  ACCOUNT_ID, Answer, askSleep, authorizeThroughApi, caughtMessage, copyFlows, describeAnswers, PREFIX, redisContents, replicaFlow, Replicas,
  redisConnections, setUpReplicas, storedRecord, Traffic, WEBHOOK_PATH, withRedis,
} from '../harness/replicas';
import { requireRedis } from '../../redis';

/** One renewal's deadline D: the lock lives 2·D = 6 s, a message waits at most 4·D + 2 = 14 s. */
const DEADLINE_S = 3;

/** The length of an outage the scenario plays (not a wait for something to happen). */
const outage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Between two looks at Redis and the simulator while messages are under way. */
const nextLook = () => new Promise((resolve) => setTimeout(resolve, 100));

/** Every message ended in the flow's output (200 with documents) or its Catch (502 with a sentence); none lost. */
function assertEveryMessageEnded(answers: Answer[], what: string): void {
  const bad = answers.filter((a) => a.kind !== 'output' && a.kind !== 'catch');
  assert.deepEqual(bad.map((a) => `${a.replica} ${a.status} ${a.text.slice(0, 200)}`), [], `${what}: messages lost or answered oddly (${describeAnswers(answers)})`);
  for (const a of answers.filter((x) => x.kind === 'catch')) {
    // What the Catch got must tell a user what happened and that it heals: Redis, or another Node-RED's renewal.
    assert.match(caughtMessage(a), /Redis|another Node-RED/i, `${what}: the Catch's message of a message to ${a.replica}`);
  }
}

// Issue 13 asks for these on Node-RED 4.1: the node-red-5 run does not declare them (nothing is skipped there).
if (variant().name === 'node-red-4') {
  describe(`${variant().name}: three Node-REDs share one authorization through Redis`, function () {
    stopAfterFirstFailure();
    let r: Replicas;
    let a: Replicas['nodes'][0];
    let editor: Editor | undefined;

    /** This application's token requests since `from` (an index into its log). */
    async function tokenRequestsSince(from: number): Promise<string[]> {
      return (await tokenLog(r.sim, r.client)).slice(from);
    }

    before(async function () {
      requireRedis(this);
      r = await setUpReplicas('replicas', DEADLINE_S);
      a = r.nodes[0];
      await a.start();
      await a.deployFlows(replicaFlow(r.client));
      const page = await authorizeThroughApi(a, r.sim, r.client);
      assert.match(page, /Authorization succeeded/, page.slice(0, 300));
    });

    after(async function () {
      await editor?.close();
      for (const nr of r?.nodes ?? []) await nr.stop();
      await r?.redis.stop();
    });

    it('B and C, started from copies of A\'s flows and credentials, read data with the tokens in Redis: no token request', async function () {
      const [, b, c] = r.nodes;
      const from = (await tokenLog(r.sim, r.client)).length;
      for (const nr of [b, c]) copyFlows(a, nr);
      await Promise.all([b.start(), c.start()]);
      for (const nr of r.nodes) await fetchSleep(nr);
      assert.deepEqual(await tokenRequestsSince(from), [], 'B and C took the tokens A stored in Redis');
      const statuses = await Promise.all(r.nodes.map((nr) => authStatus(nr, ACCOUNT_ID)));
      assert.ok(statuses.every((s) => s.authorized && s.authorizedAt === statuses[0].authorizedAt), `one authorization everywhere: ${JSON.stringify(statuses)}`);
      const stored = (await redisContents(r.redis))[`${PREFIX}tokens:${ACCOUNT_ID}`] as Record<string, string>;
      assert.ok(stored && Number(stored.version) >= 1 && stored.data, `Redis holds the account's versioned record: ${JSON.stringify(stored)}`);
    });

    it('300 messages spread over the three when the token expires: exactly 1 token request, no refresh token reused, every message answered', async function () {
      const before = await r.sim.stats();
      const from = before.tokenLog.filter((e) => e.clientId === r.client.clientId).length;
      await r.sim.expireAccessTokens();
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => askSleep(r.nodes[i % 3])));
      assert.equal(answers.filter((x) => x.kind === 'output').length, 300, `every message answered with documents: ${describeAnswers(answers)}`);
      const after = await r.sim.stats();
      assert.deepEqual(await tokenRequestsSince(from), ['current refresh_token 200'], 'one renewal for the three replicas');
      assert.equal(after.refreshReuse - before.refreshReuse, 0, 'no refresh token used twice');
      assert.equal(after.codeExchanges - before.codeExchanges, 0, 'no new consent');
      assert.ok(after.unauthorized > before.unauthorized, 'Oura refused the expired token (401): the replicas had to renew');
    });

    it('a renewal lock left by a replica that died: the others renew once after its TTL, and no new consent is needed', async function () {
      const before = await r.sim.stats();
      const from = before.tokenLog.filter((e) => e.clientId === r.client.clientId).length;
      const lockKey = `${PREFIX}lock:tokens:${ACCOUNT_ID}`;
      // What a replica killed while renewing leaves: its lock (a value only it knew), for 2·D.
      await withRedis(r.redis, (c) => c.set(lockKey, 'a-replica-that-died', { NX: true, PX: 2 * DEADLINE_S * 1000 }));
      await r.sim.expireAccessTokens();
      const pending = Promise.all(Array.from({ length: 9 }, (_, i) => askSleep(r.nodes[i % 3])));
      let done = false;
      void pending.then(() => (done = true));
      let sawDeadLock = false;
      while (!done) {
        // Counted before looking at the lock: a token request seen here happened while the dead lock still stood.
        const requests = (await tokenRequestsSince(from)).length;
        const holder = await withRedis(r.redis, (c) => c.get(lockKey));
        if (holder === 'a-replica-that-died') {
          sawDeadLock = true;
          assert.equal(requests, 0, 'a replica renewed while the dead replica\'s lock still stood');
        }
        await nextLook();
      }
      assert.ok(sawDeadLock, 'the messages were sent while the dead replica\'s lock stood');
      const answers = await pending;
      assert.equal(answers.filter((x) => x.kind === 'output').length, 9, `every message answered with documents: ${describeAnswers(answers)}`);
      const after = await r.sim.stats();
      assert.deepEqual(await tokenRequestsSince(from), ['current refresh_token 200'], 'one renewal once the lock expired');
      assert.equal(after.refreshReuse - before.refreshReuse, 0, 'no refresh token used twice');
      assert.equal(after.codeExchanges - before.codeExchanges, 0, 'no new consent');
    });

    it('Authorize in A\'s editor with Oura\'s redirect to B: B finishes it from Redis, A\'s dialog says so, and all three read data', async function () {
      const [, b] = r.nodes;
      const from = (await tokenLog(r.sim, r.client)).length;
      const earlier = (await authStatus(a, ACCOUNT_ID)).authorizedAt;
      editor = await Editor.open(a);
      await editor.openNode(SLEEP_NODE_ID);
      await editor.editSelectedAccount();
      const bCallback = b.adminUrl('oura/auth/callback');
      await editor.typeRedirectUri(bCallback);
      const result = await editor.authorize();
      assert.ok(result.callbackUrl.startsWith(`${bCallback}?`), `the consent window landed on B's callback: ${result.callbackUrl}`);
      assert.match(result.callbackText, /Authorization succeeded/, `B's page: ${result.callbackText.slice(0, 300)}`);
      assert.match(result.statusText, /Authorization succeeded/, `A's dialog learned of it from Redis: ${result.statusText}`);
      await editor.cancelDialogs();
      assert.deepEqual(await tokenRequestsSince(from), ['current authorization_code 200'], 'B exchanged the code once, with A\'s PKCE verifier');
      const statuses = await Promise.all(r.nodes.map((nr) => authStatus(nr, ACCOUNT_ID)));
      assert.ok(statuses.every((s) => s.authorized && s.authorizedAt === statuses[0].authorizedAt && s.authorizedAt > earlier), `the new authorization everywhere: ${JSON.stringify(statuses)}`);
      for (const nr of r.nodes) await fetchSleep(nr);
      assert.equal(editor.browserErrors(), '', 'the editor raised no JavaScript errors');
    });

    it('Redis paused (SIGSTOP) for 10 s while the token expires and messages keep coming: none lost, then all recover with one renewal', async function () {
      const before = await r.sim.stats();
      const from = before.tokenLog.filter((e) => e.clientId === r.client.clientId).length;
      const traffic = new Traffic(r.nodes, 100);
      const t0 = Date.now();
      traffic.start();
      await waitFor(() => traffic.recoveredSince(t0), { timeoutMs: 30000, message: 'the replicas answer before the pause' });
      r.redis.pause();
      const pausedAt = Date.now();
      await r.sim.expireAccessTokens();
      const expiredAt = Date.now();
      await outage(10000 - (Date.now() - pausedAt));
      r.redis.resume();
      const resumedAt = Date.now();
      await waitFor(() => traffic.recoveredSince(resumedAt), { timeoutMs: 30000, message: () => `the replicas did not answer with data after Redis resumed: ${describeAnswers(traffic.answers)}` });
      const answers = await traffic.stop();
      assertEveryMessageEnded(answers, 'Redis paused');
      const heldUp = answers.filter((x) => x.sentAt >= expiredAt && x.sentAt < resumedAt);
      assert.ok(heldUp.length >= 150, `messages kept coming while Redis was paused (${heldUp.length})`);
      assert.ok(heldUp.some((x) => x.answeredAt >= resumedAt), 'messages with the expired token waited for Redis rather than renew without it');
      const after = await r.sim.stats();
      assert.deepEqual(await tokenRequestsSince(from), ['current refresh_token 200'], 'one renewal, after Redis came back');
      assert.equal(after.refreshReuse - before.refreshReuse, 0, 'no refresh token used twice');
      assert.equal(after.codeExchanges - before.codeExchanges, 0, 'no new consent');
      console.log(`      (Redis paused: ${answers.length} messages, ${answers.filter((x) => x.kind === 'catch').length} in a Catch; ${describeAnswers(answers)})`);
    });

    it('Redis restarted empty while the token expires and messages keep coming: none lost, and the replicas recover from their own memory without a new consent', async function () {
      const before = await r.sim.stats();
      const from = before.tokenLog.filter((e) => e.clientId === r.client.clientId).length;
      const versionBefore = Number((await storedRecord(r.redis))?.version);
      const traffic = new Traffic(r.nodes, 100);
      const t0 = Date.now();
      traffic.start();
      await waitFor(() => traffic.recoveredSince(t0), { timeoutMs: 30000, message: 'the replicas answer before the restart' });
      await r.redis.stop();
      await r.sim.expireAccessTokens();
      await outage(3000);
      await r.redis.run();
      const restartedAt = Date.now();
      await waitFor(() => traffic.recoveredSince(restartedAt), { timeoutMs: 30000, message: () => `the replicas did not answer with data after Redis came back: ${describeAnswers(traffic.answers)}` });
      const answers = await traffic.stop();
      assertEveryMessageEnded(answers, 'Redis restarted empty');
      const after = await r.sim.stats();
      assert.deepEqual(await tokenRequestsSince(from), ['current refresh_token 200'], 'one renewal, with the refresh token the replicas held in memory');
      assert.equal(after.refreshReuse - before.refreshReuse, 0, 'no refresh token used twice');
      assert.equal(after.codeExchanges - before.codeExchanges, 0, 'no new consent: the replicas\' memory was enough');
      const stored = await storedRecord(r.redis);
      assert.ok(stored && Number(stored.version) > versionBefore, `the renewal is in Redis again, at a version above the lost one (${versionBefore}), so every replica takes it: ${JSON.stringify(stored)}`);
      const statuses = await Promise.all(r.nodes.map((nr) => authStatus(nr, ACCOUNT_ID)));
      assert.ok(statuses.every((s) => s.authorized && !s.reauthRequired), `still authorized everywhere: ${JSON.stringify(statuses)}`);
      for (const nr of r.nodes) await fetchSleep(nr);
      console.log(`      (Redis restarted empty: ${answers.length} messages, ${answers.filter((x) => x.kind === 'catch').length} in a Catch; ${describeAnswers(answers)})`);
    });

    it('Redis restarted empty after a renewal C missed: C starts with its older copy, A and B put the newer tokens back, no refresh token reused', async function () {
      const [, b, c] = r.nodes;
      await c.stop();
      const before = await r.sim.stats();
      const from = before.tokenLog.filter((e) => e.clientId === r.client.clientId).length;
      await r.sim.expireAccessTokens();
      await fetchSleep(a);
      await fetchSleep(b);
      assert.deepEqual(await tokenRequestsSince(from), ['current refresh_token 200'], 'A and B renewed while C was down');
      const current = await authStatus(a, ACCOUNT_ID);
      await r.redis.stop();
      await r.redis.run();
      // A and B are connected again (commands and pub/sub) before C starts.
      await waitFor(async () => {
        const n = await redisConnections(r.redis);
        return n.clients >= 4 && n.subscribers >= 2;
      }, { timeoutMs: 30000, message: 'A and B did not reconnect to Redis' });
      await c.start();
      let seen: any;
      await waitFor(async () => (seen = await authStatus(c, ACCOUNT_ID)).expiresAt === current.expiresAt, {
        timeoutMs: 20000,
        message: () => `C kept its older tokens (expiresAt ${seen?.expiresAt}); A and B hold those expiring at ${current.expiresAt}`,
      });
      for (const nr of r.nodes) await fetchSleep(nr);
      const after = await r.sim.stats();
      assert.deepEqual(await tokenRequestsSince(from), ['current refresh_token 200'], 'no token request since');
      assert.equal(after.refreshReuse - before.refreshReuse, 0, 'C\'s older refresh token was never used');
      assert.equal(after.codeExchanges - before.codeExchanges, 0, 'no new consent');
    });

    it('one signed webhook event posted to each of the three: one message in the flows in total', async function () {
      const user = (await authStatus(a, ACCOUNT_ID)).user?.id;
      assert.ok(user, 'the authorization knows its Oura user');
      const event = { event_type: 'create', data_type: 'daily_sleep', object_id: 'e2e-replicas-daily-sleep-1', event_time: '2026-03-01T07:02:00+00:00', user_id: user };
      const answers = await Promise.all(r.nodes.map((nr) => r.sim.sendEvent(`http://127.0.0.1:${nr.port}${WEBHOOK_PATH}`, event, r.client.clientSecret)));
      assert.ok(answers.every((x) => x.status === 200), `every replica answered Oura 200: ${JSON.stringify(answers)}`);
      const said = answers.map((x) => JSON.parse(x.body).status).sort();
      assert.deepEqual(said, ['accepted', 'duplicate', 'duplicate'], 'one replica took the event, the two others knew it was taken');
      // The duplicates were refused before their answers: only the accepted one can still reach a flow.
      const counts = async () => Promise.all(r.nodes.map(async (nr) => (await expectStatus(`${nr.baseUrl}/webhook-messages`, 200)).json<{ count: number; last: any }>()));
      const seen = await waitFor(async () => {
        const c = await counts();
        return c.reduce((n, x) => n + x.count, 0) >= 1 ? c : undefined;
      }, { timeoutMs: 20000, message: 'no replica\'s flow received the event' });
      assert.deepEqual(seen.map((x) => x.count).sort(), [0, 0, 1], 'one message in total');
      assert.deepEqual(seen.find((x) => x.count === 1)!.last, event, 'the message is the event');
    });

    it('no token or secret in plain text in Redis, the three logs or the three user directories', async function () {
      const secrets = [...new Set([...(await r.sim.secrets()), r.client.clientSecret])];
      assertNoSecrets('Redis', JSON.stringify(await redisContents(r.redis)), secrets);
      for (const nr of r.nodes) {
        assertNoSecrets(`Node-RED ${nr.name}'s log`, nr.allLogs(), secrets);
        assertNoSecretsInFiles(nr.userDir, secrets);
      }
    });
  });
}
