// Without credentialSecret in the settings Node-RED generates its own key (kept in .config.runtime.json);
// the tokens must still survive a refresh and a restart.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Editor } from '../harness/editor';
import { stopAfterFirstFailure } from '../harness/steps';
import { variant } from '../harness/env';
import { assertNoLeaks, authorizeInEditor, fetchSleep, refreshThenRestart, setUp, Setup } from '../harness/scenario';

describe(`${variant().name}: no credentialSecret in the settings`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  let accountId: string;

  before(async function () {
    s = await setUp('generated-credential-secret', { credentialSecret: null });
    assert.doesNotMatch(fs.readFileSync(s.nr.settingsFile, 'utf8'), /credentialSecret/);
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it('authorizes in the editor and deploys; Node-RED generates its own credential key', async function () {
    editor = await Editor.open(s.nr);
    accountId = await authorizeInEditor(editor, s.client);
    await fetchSleep(s.nr);
    const runtimeConfig = JSON.parse(fs.readFileSync(path.join(s.nr.userDir, '.config.runtime.json'), 'utf8'));
    assert.equal(typeof runtimeConfig._credentialSecret, 'string', 'Node-RED stored a generated _credentialSecret');
  });

  it('after a refresh, survives a restart and still returns data', async function () {
    await refreshThenRestart(s.nr, s.sim, accountId, () => s.nr.restart('SIGTERM'));
  });

  it('keeps the client secret and every token out of the API, the export, the log and the user directory', async function () {
    await editor!.reload();
    await assertNoLeaks(s.nr, editor!, accountId, s.client);
  });
});
