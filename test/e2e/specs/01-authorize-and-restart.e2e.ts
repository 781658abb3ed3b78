// A new user's journey in the editor, then restart safety: a refreshed token survives SIGTERM, SIGKILL and
// Deploy > Restart Flows without a new consent and without any refresh token being used twice.
import { strict as assert } from 'assert';
import { Editor } from '../harness/editor';
import { stopAfterFirstFailure } from '../harness/steps';
import { variant } from '../harness/env';
import { assertNoLeaks, authorizeInEditor, fetchSleep, refreshThenRestart, setUp, Setup, tokenLog } from '../harness/scenario';

describe(`${variant().name}: authorize in the editor, refresh, restart`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  let accountId: string;

  before(async function () {
    s = await setUp('authorize-restart');
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it('adds an oura sleep node and an account, authorizes in the consent window and deploys', async function () {
    editor = await Editor.open(s.nr);
    const before = await s.sim.stats();
    accountId = await authorizeInEditor(editor, s.client);
    const after = await s.sim.stats();
    assert.equal(after.codeExchanges, before.codeExchanges + 1, 'one code exchange for one consent');
    assert.deepEqual(await tokenLog(s.sim, s.client), ['current authorization_code 200'], 'the code went to the current server, and only there');
  });

  it('the deployed flow answers with sleep documents', async function () {
    await fetchSleep(s.nr);
  });

  it('after a refresh, survives a SIGTERM restart', async function () {
    await refreshThenRestart(s.nr, s.sim, accountId, () => s.nr.restart('SIGTERM'));
  });

  it('after a refresh, survives a SIGKILL restart', async function () {
    await refreshThenRestart(s.nr, s.sim, accountId, () => s.nr.restart('SIGKILL'));
  });

  it('after a refresh, survives Deploy > Restart Flows in the editor (credentials reloaded from disk)', async function () {
    await editor!.reload();
    await refreshThenRestart(s.nr, s.sim, accountId, () => editor!.restartFlows());
  });

  it('keeps the client secret and every token out of the API, the export, the log and the user directory', async function () {
    const log = await tokenLog(s.sim, s.client);
    assert.ok(log.length > 4 && log.every((e) => e.startsWith('current ')), `every token request went to the current server: ${log.join(', ')}`);
    await assertNoLeaks(s.nr, editor!, accountId, s.client);
    assert.equal(editor!.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
});
