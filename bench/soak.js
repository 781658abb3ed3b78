#!/usr/bin/env node
'use strict';
/**
 * `npm run soak`: 10,000 messages over several accounts through a real Node-RED (the packed package installed in a
 * user directory, as test/e2e does) while the simulator injects about 5% faults (429 with Retry-After 0 or 1, 500,
 * 503, dropped connections, garbage JSON, slow answers) and expires the access tokens at random.
 *
 * Checks: every message ends in exactly one output or one Catch; no refresh token is used twice; no unhandled
 * rejection; heap (after GC) and open sockets back to their baseline at the end. Exit code 1 when a check fails.
 *
 *   node bench/soak.js [--messages 10000] [--accounts 4] [--concurrency 40] [--fast]
 *
 * --fast shrinks the package's retry waits (timing.sleep scaled by 1/100) instead of really waiting.
 * A short version of the same checks runs in `npm run test:unit` (test/soak.test.ts).
 */
const fs = require('fs');
const path = require('path');
const c = require('./lib/common');
const { SimProcess } = require('./lib/sim');
const { BenchNodeRed } = require('./lib/nodered');
const flows = require('./lib/flows');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt('messages', 10000);
const ACCOUNTS = opt('accounts', 4);
const CONCURRENCY = opt('concurrency', 40);
const FAST = args.includes('--fast');
const DEADLINE_MS = opt('deadline', 300) * 1000;
const FAULT_RATE = 0.05;

const WORK = path.join(c.TMP, 'soak');
const MiB = 2 ** 20;
const log = (...a) => console.log(...a);

const today = new Date().toISOString().slice(0, 10);
const addDays = (d, n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400_000).toISOString().slice(0, 10);

/** Seven fault kinds sharing FAULT_RATE of the data requests; a few token requests fail too. */
function faults() {
  const each = 1 - (1 - FAULT_RATE) ** (1 / 7);
  return [
    { kind: '429', target: 'data', rate: each, seed: 11, retryAfter: '1' },
    { kind: '429', target: 'data', rate: each, seed: 12, retryAfter: '0' },
    { kind: '500', target: 'data', rate: each, seed: 13 },
    { kind: '503', target: 'data', rate: each, seed: 14 },
    { kind: 'drop', target: 'data', rate: each, seed: 15 },
    { kind: 'garbage', target: 'data', rate: each, seed: 16 },
    { kind: 'slow', target: 'data', rate: each, seed: 17, delayMs: 300 },
    { kind: '503', target: 'token', rate: 0.03, seed: 21 },
    { kind: 'drop', target: 'token', rate: 0.03, seed: 22 },
    { kind: 'slow', target: 'token', rate: 0.05, seed: 23, delayMs: 200 },
  ];
}

/** Message shapes per node: the node's default (last 7 days), one day, three days, one day a month ago. */
function targets(accounts) {
  const out = [];
  const shapes = [{}, { start_date: addDays(today, -1) }, { start_date: addDays(today, -4), end_date: addDays(today, -2) }, { start_date: addDays(today, -30) }];
  for (let i = 0; i < accounts * 2; i++) for (const s of shapes) out.push({ output: i, msg: { ...s } });
  // Interleave, so that consecutive messages go to different accounts.
  return out.sort((a, b) => (a.msg.start_date || '').localeCompare(b.msg.start_date || '') || a.output - b.output);
}

async function main() {
  const started = Date.now();
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const machine = c.machine();
  log(`soak: ${N} messages, ${ACCOUNTS} accounts, ${CONCURRENCY} in flight, ~${FAULT_RATE * 100}% faults, ${FAST ? 'retry waits / 100' : 'real retry waits'}; ${machine.nproc} cores, ${machine.cpu}, Node.js ${machine.node}`);
  const pkg = c.packAndInstall(log);
  const sim = await SimProcess.start({ pageSize: 5, today }, WORK);
  let nr;
  let stopExpiring = false;
  let expiring;
  const checks = [];
  const check = (name, ok, detail) => {
    checks.push({ name, ok: !!ok, detail });
    log(`soak: ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  };
  try {
    const port = await c.freePort();
    const accounts = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      // Two applications, each authorized by several accounts (as a household would).
      const client = { clientId: `soak-app-${i % 2}`, clientSecret: `soak-secret-${i % 2}-0123456789`, redirectUris: [`http://127.0.0.1:${port}/oura/auth/callback`] };
      accounts.push({ id: `soak-acc-${i}`, client });
    }
    for (const a of accounts.slice(0, 2)) await sim.addClient(a.client);
    const dir = path.join(WORK, 'nodered');
    const userDir = c.copyUserDir(pkg.template, path.join(dir, 'userdir'));
    nr = new BenchNodeRed({ name: 'soak', dir, userDir, env: sim.env() });
    await nr.start({ port });
    await nr.deploy(flows.soakFlow({ accounts }));
    for (const a of accounts) await nr.authorize(sim, a.id, a.client);
    if (FAST) await nr.admin('bench/timing', { method: 'POST', body: { sleepScale: 0.01 } });
    const tg = targets(ACCOUNTS);

    // Warm-up without faults, then the baseline: heap after GC, sockets to the simulator once idle ones closed.
    const warm = await nr.run({ driver: flows.DRIVER, n: 1000, concurrency: CONCURRENCY, targets: tg, settleMs: 200 });
    if (warm.errors || warm.lost) throw new Error(`warm-up failed: ${JSON.stringify(warm.errorKinds)}`);
    await c.sleep(6000); // Node's keep-alive agent closes sockets idle for 5 s
    const base = await nr.state();
    const baseSockets = (await nr.admin(`bench/state?port=${sim.port}`)).socketsTo;
    log(`soak: baseline heap ${(base.memory.heapUsed / MiB).toFixed(1)} MiB, RSS ${(base.memory.rss / MiB).toFixed(0)} MiB, ${baseSockets} socket(s) to the simulator`);

    await sim.resetStats();
    await sim.setFaults(faults());
    // Expire every access token at random moments (0.5 to 3 s apart) while the messages run.
    let expiries = 0;
    expiring = (async () => {
      while (!stopExpiring) {
        await c.sleep(500 + Math.random() * 2500);
        if (stopExpiring) break;
        await sim.expire();
        expiries++;
      }
    })();
    const t0 = Date.now();
    const r = await nr.run({ driver: flows.DRIVER, n: N, concurrency: CONCURRENCY, targets: tg, settleMs: 3000, timeoutMs: DEADLINE_MS });
    stopExpiring = true;
    await expiring;
    await sim.setFaults([]);
    const seconds = (Date.now() - t0) / 1000;
    const stats = await sim.stats();
    log(`soak: ${N} messages in ${seconds.toFixed(1)} s: ${r.outputs} outputs, ${r.errors} caught, ${expiries} expiries, `
      + `${stats.dataRequests} data requests (${stats.unauthorized} answered 401), ${stats.tokenRequests} token requests (${stats.refreshes} refreshes)`);
    if (Object.keys(r.errorKinds).length) log(`soak: what reached Catch: ${JSON.stringify(r.errorKinds, null, 1)}`);

    check('every message ended', !r.timedOut && r.lost === 0, `${r.lost} without an output or a Catch${r.timedOut ? ' (deadline reached)' : ''}`);
    check('no message answered twice', r.duplicates === 0 && r.late === 0, `${r.duplicates} with more than one output/Catch (${r.answeredAndCaught} both answered and caught), ${r.late} late arrivals`);
    check('outputs + Catches = messages', r.outputs + r.errors === N, `${r.outputs} + ${r.errors} = ${r.outputs + r.errors}`);
    check('no stray messages', r.stray === 0, `${r.stray}`);
    check('no refresh token used twice', stats.refreshReuse === 0, `simulator refreshReuse ${stats.refreshReuse}`);

    // The end: idle keep-alive sockets close after 5 s; give them up to 20 s.
    let end;
    let endSockets;
    const deadline = Date.now() + 20000;
    do {
      await c.sleep(1000);
      end = await nr.admin(`bench/state?gc=1&port=${sim.port}`);
      endSockets = end.socketsTo;
    } while (endSockets > baseSockets && Date.now() < deadline);
    const unhandledInLog = (nr.log().match(/Unhandled|Uncaught Exception/g) || []).length;
    check('no unhandled rejection', end.unhandled === 0 && unhandledInLog === 0, `${end.unhandled} seen by the process, ${unhandledInLog} in Node-RED's log${end.unhandledSamples.length ? `: ${end.unhandledSamples.join(' | ')}` : ''}`);
    check('sockets to the simulator back to baseline', endSockets <= baseSockets, `${baseSockets} before, ${endSockets} after (all TCP handles: ${base.resources.TCPSocketWrap || 0} -> ${end.resources.TCPSocketWrap || 0})`);
    const growth = end.memory.heapUsed - base.memory.heapUsed;
    const allowed = Math.max(4 * MiB, 0.1 * base.memory.heapUsed);
    check('heap back to baseline', growth <= allowed, `${(base.memory.heapUsed / MiB).toFixed(1)} -> ${(end.memory.heapUsed / MiB).toFixed(1)} MiB after GC (${growth >= 0 ? '+' : ''}${(growth / MiB).toFixed(1)} MiB, allowed +${(allowed / MiB).toFixed(1)}); peak RSS ${(end.maxRSS / MiB).toFixed(0)} MiB`);

    const out = {
      machine,
      config: { messages: N, accounts: ACCOUNTS, concurrency: CONCURRENCY, faultRate: FAULT_RATE, faults: faults(), fast: FAST },
      seconds,
      result: { ...r, memory: undefined },
      expiries,
      simulator: { dataRequests: stats.dataRequests, unauthorized: stats.unauthorized, tokenRequests: stats.tokenRequests, refreshes: stats.refreshes, refreshReuse: stats.refreshReuse },
      baseline: { heapUsed: base.memory.heapUsed, rss: base.memory.rss, socketsToSimulator: baseSockets },
      end: { heapUsed: end.memory.heapUsed, rss: end.memory.rss, maxRSS: end.maxRSS, socketsToSimulator: endSockets, unhandled: end.unhandled },
      checks,
      durationS: Math.round((Date.now() - started) / 1000),
    };
    fs.writeFileSync(path.join(__dirname, 'soak-results.json'), `${JSON.stringify(out, null, 2)}\n`);
    log(`soak: wrote bench/soak-results.json (${out.durationS} s)`);
  } finally {
    stopExpiring = true;
    if (expiring) await expiring.catch(() => undefined);
    if (nr) await nr.stop().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    await c.stopAll();
  }
  const failed = checks.filter((x) => !x.ok);
  if (failed.length) {
    console.error(`soak: ${failed.length} check(s) failed: ${failed.map((x) => x.name).join('; ')}`);
    process.exitCode = 1;
  } else {
    log('soak: all checks passed');
  }
}

main().catch(async (err) => {
  console.error(`soak: ${err.stack || err}`);
  await c.stopAll();
  process.exitCode = 1;
});
