// Oura as it is today, with only the two hosts pointed at the simulator: an app of the old portal authorizes in the
// editor and keeps working through a forced refresh; 90 days of heart rate arrive sample by sample once; and an
// authorization is finished by hand from an address that cannot be reached.
import { strict as assert } from 'assert';
import { Editor } from '../harness/editor';
import { expectStatus } from '../harness/http';
import { stopAfterFirstFailure } from '../harness/steps';
import { variant } from '../harness/env';
import { authorizeInEditor, fetchSleep, setUp, Setup, SLEEP_NODE_ID, tokenLog } from '../harness/scenario';

const HEART_NODE_ID = 'e2e0000000000012';

/** GET /heartrate?start_date&end_date -> oura data (heart rate, UTC days) -> the samples. */
function heartRateFlow(): object[] {
  return [
    { id: 'e2e0000000000011', type: 'http in', name: 'GET /heartrate', url: '/heartrate', method: 'get', upload: false, swaggerDoc: '', x: 140, y: 240, wires: [['e2e0000000000013']] },
    {
      id: 'e2e0000000000013', type: 'change', name: 'days from the query', rules: [
        { t: 'set', p: 'start_date', pt: 'msg', to: 'req.query.start_date', tot: 'msg' },
        { t: 'set', p: 'end_date', pt: 'msg', to: 'req.query.end_date', tot: 'msg' },
      ], x: 330, y: 240, wires: [[HEART_NODE_ID]],
    },
    {
      id: HEART_NODE_ID, type: 'oura data', name: '', account: '', collection: 'heartrate', range: 'custom', startDate: '', endDate: '', timezone: 'UTC',
      fields: '', latest: false, output: 'all', newOnly: false, x: 540, y: 240, wires: [['e2e0000000000014']],
    },
    { id: 'e2e0000000000014', type: 'http response', name: '', statusCode: '', headers: {}, x: 720, y: 240, wires: [] },
  ];
}

function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

describe(`${variant().name}: Oura as it is today (old-portal app, 30-day windows, finish by hand)`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;

  before(async function () {
    s = await setUp('old-portal', {}, { portal: 'old' });
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it('an app of the old portal authorizes in the editor with no setting changed: the current server first, then the legacy one', async function () {
    editor = await Editor.open(s.nr);
    await authorizeInEditor(editor, s.client);
    assert.deepEqual(await tokenLog(s.sim, s.client), ['current authorization_code 401', 'legacy authorization_code 200']);
    await fetchSleep(s.nr);
  });

  it('survives a forced refresh: at the legacy URL directly, no refresh token reused', async function () {
    const before = await s.sim.stats();
    await s.sim.expireAccessTokens();
    await fetchSleep(s.nr);
    const log = await tokenLog(s.sim, s.client);
    assert.deepEqual(log.slice(2), ['legacy refresh_token 200']);
    assert.equal((await s.sim.stats()).refreshReuse, before.refreshReuse);
  });

  it('reads 90 days of heart rate in windows of at most 30 days, every sample once', async function () {
    const [accountId] = await editor!.nodeIds('oura-account');
    await editor!.importFlow(heartRateFlow());
    await editor!.openNode(HEART_NODE_ID);
    await editor!.selectAccount(accountId);
    await editor!.closeNodeDialog();
    await editor!.deploy();
    // Whole UTC days before the simulator's last day: 1,200 samples each (one every 72 s).
    const end = addDays(await s.sim.today(), -1);
    const start = addDays(end, -89);
    const reply = await expectStatus(`${s.nr.baseUrl}/heartrate?start_date=${start}&end_date=${end}`, 200, { timeoutMs: 120000 });
    const samples = reply.json<Array<{ timestamp: string; bpm: number }>>();
    const times = samples.map((x) => Date.parse(x.timestamp));
    assert.equal(samples.length, 90 * 1200, `90 days of samples: got ${samples.length}`);
    assert.equal(new Set(times).size, samples.length, 'no sample twice');
    assert.equal(times[0], Date.parse(`${start}T00:00:00Z`));
    assert.equal(times.at(-1), Date.parse(`${addDays(end, 1)}T00:00:00Z`) - 72_000);
  });

  it('finishes an authorization by hand from a registered address that cannot be reached', async function () {
    const unreachable = 'http://localhost:9/oura/auth/callback';
    await s.sim.addClient({ ...s.client, redirectUris: [...s.client.redirectUris, unreachable] });
    await editor!.openNode(SLEEP_NODE_ID);
    await editor!.editSelectedAccount();
    const logBefore = (await tokenLog(s.sim, s.client)).length;
    const { pasted } = await editor!.authorizeByHand(unreachable);
    assert.ok(pasted.startsWith(`${unreachable}?`) && /[?&]code=/.test(pasted) && /[?&]state=/.test(pasted), pasted);
    assert.deepEqual((await tokenLog(s.sim, s.client)).slice(logBefore), ['current authorization_code 401', 'legacy authorization_code 200']);
    await editor!.closeConfigDialog();
    await editor!.closeNodeDialog();
    await editor!.deploy();
    await fetchSleep(s.nr);
    assert.equal(editor!.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
});
