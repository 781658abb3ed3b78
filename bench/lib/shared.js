'use strict';
// 5. The shared token store (settings.js `ouraAccountTokenStore`, a real redis-server): what it costs per message next
// to the file store (two Node-REDs alike but for that setting, same run, same load, rounds in rotating order), and a
// refresh storm spread over three replicas that share one authorization.
const path = require('path');
const { performance } = require('perf_hooks');
const c = require('./common');
const flows = require('./flows');
const { BenchNodeRed } = require('./nodered');
const { RedisServer, redisAvailable } = require('../../test/redis');

/**
 * ctx: { sim, template, work, instances, extraPids, log, cfg: { rounds, perMessage: { concurrency, n }, storm: { burst } },
 *        day, newInstance(name, template) }
 */
async function sharedStore(ctx) {
  const { sim, template, work, log, cfg } = ctx;
  if (!redisAvailable()) {
    log('bench: shared store: skipped, redis-server is not installed (apt-get install redis-server)');
    return { skipped: 'redis-server is not installed' };
  }
  const redis = await RedisServer.start();
  ctx.extraPids.push(() => redis.pid);
  const replicas = [];
  try {
    const ports = [await c.freePort(), await c.freePort(), await c.freePort()];
    const client = { clientId: 'bench-shared', clientSecret: 'bench-secret-shared-0123456789', redirectUris: ports.map((p) => `http://127.0.0.1:${p}/oura/auth/callback`) };
    await sim.addClient(client);
    const settings = { ouraAccountTokenStore: { url: redis.url, prefix: 'bench:' } };
    for (let i = 0; i < 3; i++) {
      const name = `replica-${i + 1}`;
      const dir = path.join(work, name);
      const nr = new BenchNodeRed({ name, dir, userDir: c.copyUserDir(template, path.join(dir, 'userdir')), env: sim.env(), settings });
      ctx.instances.push(nr);
      replicas.push(nr);
      await nr.start({ port: ports[i] });
      // The same flows and credentials in each (bench/lib/nodered.js gives every instance the same credentialSecret).
      await nr.deploy(flows.mainFlow({ client, coreUrl: 'http://127.0.0.1:9/none', staticToken: 'none' }));
      if (i === 0) await nr.authorize(sim, 'acc1', client);
    }
    // The file store's twin: the same template, flows and load, without the setting (its own authorization).
    const file = await ctx.newInstance('file-store', template);
    const out = { redis: (await redisVersion()) || 'redis-server', perMessage: await perMessage(ctx, file.nr, replicas[0]) };
    out.storm = await storm(ctx, replicas);
    await file.nr.stop();
    return out;
  } finally {
    for (const nr of replicas) await nr.stop().catch(() => undefined);
    await redis.stop();
  }
}

function redisVersion() {
  try {
    return c.sh(process.env.REDIS_SERVER || 'redis-server', ['--version']).trim().replace(/^Redis server v=(\S+).*$/, 'Redis $1');
  } catch {
    return undefined;
  }
}

const ours = (ctx, n, concurrency) => ({ driver: flows.DRIVER, n, concurrency, targets: [{ output: flows.OUT.ours, msg: { start_date: ctx.day } }], settleMs: 50 });

function check(r, what) {
  if (r.timedOut || r.lost || r.duplicates || r.errors || r.bad || r.stray) {
    throw new Error(`${what}: ${JSON.stringify({ timedOut: r.timedOut, lost: r.lost, duplicates: r.duplicates, errors: r.errors, bad: r.bad, stray: r.stray, errorKinds: r.errorKinds })}`);
  }
  return r;
}

/** `oura sleep` per message with a valid token: the file store's Node-RED against one of the replicas. */
async function perMessage(ctx, fileNr, sharedNr) {
  const out = {};
  for (const conc of ctx.cfg.perMessage.concurrency) {
    const n = ctx.cfg.perMessage.n[conc];
    const variants = {
      file: () => fileNr.run(ours(ctx, n, conc)).then((r) => check(r, 'file store')),
      shared: () => sharedNr.run(ours(ctx, n, conc)).then((r) => check(r, 'shared store')),
    };
    const names = Object.keys(variants);
    ctx.log(`bench: shared store per message, ${n} messages, ${conc} in flight: warm-up`);
    for (const v of names) await variants[v]();
    const rounds = [];
    for (let r = 0; r < ctx.cfg.rounds; r++) {
      const round = {};
      for (let i = 0; i < names.length; i++) {
        const v = names[(i + r) % names.length];
        const res = await variants[v]();
        round[v] = { perSec: res.perSec, msPerMsg: res.ms / n, cpuUsPerMsg: res.cpuUsPerMsg, p50: res.latency.p50 };
      }
      ctx.log(`bench:   round ${r + 1}: file store ${Math.round(round.file.perSec)}/s, shared store ${Math.round(round.shared.perSec)}/s`);
      rounds.push(round);
    }
    const med = (v, k) => c.median(rounds.map((x) => x[v][k]));
    out[conc] = {
      n,
      rounds,
      file: { perSec: med('file', 'perSec'), msPerMsg: med('file', 'msPerMsg'), cpuUsPerMsg: med('file', 'cpuUsPerMsg') },
      shared: { perSec: med('shared', 'perSec'), msPerMsg: med('shared', 'msPerMsg'), cpuUsPerMsg: med('shared', 'cpuUsPerMsg') },
      ratio: c.median(rounds.map((x) => x.shared.msPerMsg / x.file.msPerMsg)),
      cpuRatio: c.median(rounds.map((x) => x.shared.cpuUsPerMsg / x.file.cpuUsPerMsg)),
    };
  }
  return out;
}

/**
 * `burst` messages in flight, split over the three replicas, started together: with the token valid, after Oura
 * expired it (every request answered 401), and when its expires_in is reached (renewed before sending).
 */
async function storm(ctx, replicas) {
  const { sim, cfg, log } = ctx;
  const burst = cfg.storm.burst;
  const shares = replicas.map((_, i) => Math.floor(burst / 3) + (i < burst % 3 ? 1 : 0));
  const all = async () => {
    const t0 = performance.now();
    const res = await Promise.all(replicas.map((nr, i) => nr.run({ ...ours(ctx, shares[i], shares[i]), settleMs: 200 })));
    const pct = (k) => Math.max(...res.map((r) => r.latency[k]));
    return {
      // The slowest replica's burst, from its first message to its last answer.
      ms: Math.max(...res.map((r) => r.ms)),
      wallMs: performance.now() - t0,
      p50: c.median(res.map((r) => r.latency.p50)),
      max: pct('max'),
      failures: res.reduce((a, r) => a + r.errors + r.lost + r.duplicates + (r.timedOut ? 1 : 0), 0),
      errorKinds: res.map((r) => r.errorKinds),
    };
  };
  const one = async (nr) => check(await nr.run({ ...ours(ctx, 1, 1), settleMs: 0 }), 'a message before the storm');
  const counted = async (fn) => {
    await sim.resetStats();
    const r = await fn();
    const s = await sim.stats();
    return { ...r, tokenRequests: s.tokenRequests, refreshReuse: s.refreshReuse, codeExchanges: s.codeExchanges, unauthorized: s.unauthorized };
  };
  log(`bench: refresh storm over three replicas, ${burst} messages in flight: warm-up`);
  await all();
  const rounds = [];
  for (let i = 0; i < cfg.storm.rounds; i++) {
    const noRefresh = await counted(all);
    await sim.expire();
    const expiredAtOura = await counted(all);
    // The token reaches its expires_in: a renewal leaves tokens that live 61 s (inside the 60 s margin a second later),
    // the other replicas take them from Redis, then the burst.
    await sim.setTtl(61);
    await sim.expire();
    for (const nr of replicas) await one(nr);
    await sim.setTtl(86400);
    await c.sleep(1100);
    const expiresInReached = await counted(all);
    const round = { noRefresh, expiredAtOura, expiresInReached };
    log(`bench:   round ${i + 1}: no refresh ${Math.round(noRefresh.ms)} ms; expired at Oura ${Math.round(expiredAtOura.ms)} ms, ${expiredAtOura.tokenRequests} token request(s), ${expiredAtOura.failures} failures; `
      + `expires_in reached ${Math.round(expiresInReached.ms)} ms, ${expiresInReached.tokenRequests} token request(s), ${expiresInReached.failures} failures`);
    rounds.push(round);
  }
  const summarize = (k) => ({
    burstMs: c.median(rounds.map((r) => r[k].ms)),
    p50Ms: c.median(rounds.map((r) => r[k].p50)),
    maxMs: c.median(rounds.map((r) => r[k].max)),
    tokenRequests: rounds.map((r) => r[k].tokenRequests),
    failures: rounds.reduce((a, r) => a + r[k].failures, 0),
    refreshReuse: rounds.reduce((a, r) => a + r[k].refreshReuse, 0),
    codeExchanges: rounds.reduce((a, r) => a + r[k].codeExchanges, 0),
    unauthorized: rounds.map((r) => r[k].unauthorized),
    added: k === 'noRefresh' ? undefined : {
      burstMs: c.median(rounds.map((r) => r[k].ms - r.noRefresh.ms)),
      p50Ms: c.median(rounds.map((r) => r[k].p50 - r.noRefresh.p50)),
    },
  });
  return {
    burst,
    shares,
    rounds,
    noRefresh: summarize('noRefresh'),
    expiredAtOura: summarize('expiredAtOura'),
    expiresInReached: summarize('expiresInReached'),
  };
}

module.exports = { sharedStore };
