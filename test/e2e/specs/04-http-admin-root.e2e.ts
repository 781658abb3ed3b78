// With httpAdminRoot '/admin' the dialog proposes the callback under /admin, and the callback works there.
import { strict as assert } from 'assert';
import { Editor } from '../harness/editor';
import { stopAfterFirstFailure } from '../harness/steps';
import { variant } from '../harness/env';
import { assertNoLeaks, authorizeInEditor, fetchSleep, setUp, Setup } from '../harness/scenario';

describe(`${variant().name}: httpAdminRoot '/admin'`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  let accountId: string;

  before(async function () {
    s = await setUp('http-admin-root', { httpAdminRoot: '/admin' });
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it('the dialog shows http://localhost:<port>/admin/oura/auth/callback and the authorization completes there', async function () {
    assert.equal(s.client.redirectUris[0], `http://localhost:${s.nr.port}/admin/oura/auth/callback`);
    editor = await Editor.open(s.nr);
    // authorizeInEditor checks #node-config-input-redirectUri against the registered redirect URI
    accountId = await authorizeInEditor(editor, s.client);
    await fetchSleep(s.nr);
  });

  it('keeps the client secret and every token out of the API, the export, the log and the user directory', async function () {
    await assertNoLeaks(s.nr, editor!, accountId, s.client);
  });
});
