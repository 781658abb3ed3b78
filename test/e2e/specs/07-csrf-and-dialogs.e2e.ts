// Behind httpAdminRoot '/admin', with adminAuth off and on: every button of the account and webhook dialogs still
// works now that the package's state-changing admin routes take JSON only and refuse cross-site requests (Authorize,
// Finish by hand, the webhook subscriptions, Disconnect); and, with adminAuth off, a plain HTML form on another web
// site that the user is lured into submitting changes nothing.
import { strict as assert } from 'assert';
import { Editor } from '../harness/editor';
import { stopAfterFirstFailure } from '../harness/steps';
import { variant } from '../harness/env';
import { OtherSite } from '../harness/other-site';
import { AdminUser } from '../harness/settings';
import { authStatus, authorizeInEditor, fetchSleep, setUp, Setup, SLEEP_NODE_ID, tokenLog } from '../harness/scenario';
import { WebhookDialog } from '../harness/webhook-dialog';

const WEBHOOK_NODE_ID = 'e2e0000000000021';
const ADMIN: AdminUser = { username: 'admin', password: 'e2e-Admin-Passw0rd' };

/** The steps both describes share; without adminAuth also the forged form submissions (with it, Node-RED's own token check answers first). */
function editorJourney(name: string, adminUser: AdminUser | undefined): void {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  let site: OtherSite | undefined;
  let accountId: string;
  let callbackUrl: string;

  before(async function () {
    s = await setUp(name, { httpAdminRoot: '/admin', adminUser });
    await s.nr.start();
  });

  after(async function () {
    await site?.stop();
    await editor?.close();
    await s?.nr.stop();
  });

  /** The simulator's subscriptions that call this Node-RED's webhook node. */
  async function simSubscriptions(): Promise<string[]> {
    return (await s.sim.webhooks())
      .filter((x) => x.callback_url === callbackUrl)
      .map((x) => `${x.event_type} ${x.data_type}`)
      .sort();
  }

  it('authorizes in the consent window, with the callback under /admin, and deploys', async function () {
    assert.equal(s.client.redirectUris[0], `http://localhost:${s.nr.port}/admin/oura/auth/callback`);
    editor = await Editor.open(s.nr);
    accountId = await authorizeInEditor(editor, s.client);
    await fetchSleep(s.nr);
  });

  it('finishes an authorization by hand (Finish by hand posts the pasted address as JSON)', async function () {
    const unreachable = 'http://localhost:9/oura/auth/callback';
    await s.sim.addClient({ ...s.client, redirectUris: [...s.client.redirectUris, unreachable] });
    await editor!.openNode(SLEEP_NODE_ID);
    await editor!.editSelectedAccount();
    const logBefore = (await tokenLog(s.sim, s.client)).length;
    const { pasted, statusText } = await editor!.authorizeByHand(unreachable);
    assert.ok(pasted.startsWith(`${unreachable}?`) && /[?&]code=/.test(pasted), `the address the consent window ended on: ${pasted}`);
    assert.match(statusText, /succe/i, `the dialog should report the finished authorization: ${statusText}`);
    assert.deepEqual((await tokenLog(s.sim, s.client)).slice(logBefore), ['current authorization_code 200'], 'the pasted code was exchanged once');
    await editor!.closeConfigDialog();
    await editor!.closeNodeDialog();
    await editor!.deploy();
    await fetchSleep(s.nr);
  });

  it('the oura webhook dialog creates, lists, renews and deletes subscriptions at the simulator', async function () {
    const dialog = new WebhookDialog(editor!);
    // Node-RED listens on 127.0.0.1; the simulator verifies the callback by calling it there.
    await dialog.addAndDeploy(WEBHOOK_NODE_ID, accountId, `http://127.0.0.1:${s.nr.port}`);
    const opened = await dialog.open(WEBHOOK_NODE_ID);
    assert.match(opened, /No subscriptions/, `the dialog's first listing: ${opened}`);
    callbackUrl = await dialog.callbackUrl();
    assert.equal(callbackUrl, `http://127.0.0.1:${s.nr.port}/oura/webhook`, 'the callback URL the dialog shows');

    await dialog.tick(['create'], ['sleep', 'workout']);
    const created = await dialog.create();
    assert.match(created, /^Created 2\. 2 subscriptions for this application\.$/, `the dialog's answer to Create now: ${created}`);
    assert.deepEqual(await simSubscriptions(), ['create sleep', 'create workout'], 'the simulator holds the two new subscriptions');
    const listed = await dialog.listed();
    assert.deepEqual(
      listed.map((l) => `${l.eventType} ${l.dataType} ${l.callback}`),
      ['create sleep this node', 'create workout this node'],
      'the dialog lists both, as calling this node',
    );

    const renewed = await dialog.renew(listed[0].id);
    assert.match(renewed, /^Renewed\. 2 subscriptions/, `the dialog's answer to Renew: ${renewed}`);

    const deleted = await dialog.delete(listed[0].id);
    assert.match(deleted, /^Deleted\. 1 subscription for this application\.$/, `the dialog's answer to Delete: ${deleted}`);
    assert.deepEqual(await simSubscriptions(), ['create workout'], 'the simulator no longer holds the deleted subscription');
    assert.deepEqual((await dialog.listed()).map((l) => l.id), [listed[1].id], 'the dialog lists the one left');

    const deletedLast = await dialog.delete(listed[1].id);
    assert.match(deletedLast, /^Deleted\. No subscriptions/, `the dialog's answer to the second Delete: ${deletedLast}`);
    assert.deepEqual(await simSubscriptions(), [], 'the simulator holds no subscription for this node any more');
    await editor!.closeNodeDialog();
  });

  if (!adminUser) {
    it('a plain HTML form on another web site can neither disconnect, start an authorization nor subscribe (403)', async function () {
      site = await OtherSite.start();
      const statsBefore = await s.sim.stats();
      const statusBefore = await authStatus(s.nr, accountId);
      assert.equal(statusBefore.authorized, true, `the account is authorized before: ${JSON.stringify(statusBefore)}`);
      const forms: Array<{ route: string; fields: Record<string, string> }> = [
        { route: `oura/auth/disconnect/${accountId}`, fields: { confirm: 'yes' } },
        // Everything a start needs: without the guard this would answer the attacker a consent link for this account.
        {
          route: 'oura/auth/start',
          fields: { id: accountId, clientId: s.client.clientId, clientSecret: 'attacker-secret', redirectUri: `${site.origin}/steal`, scopes: '', tokenUrl: '' },
        },
        { route: 'oura/webhook/subscriptions', fields: { node: WEBHOOK_NODE_ID, eventTypes: 'create', dataTypes: 'daily_sleep' } },
      ];
      const problems: string[] = [];
      for (const form of forms) {
        const action = s.nr.adminUrl(form.route);
        const sent = await site.submitForm(editor!.context, action, form.fields);
        // The browser really sent it, from the other site, as a form.
        assert.equal(sent.origin, site.origin, `the Origin the browser sent with the form to ${action}`);
        assert.match(sent.contentType ?? '', /^application\/x-www-form-urlencoded/, `the Content-Type the browser sent to ${action}`);
        if (sent.status !== 403 || !/Refused/.test(sent.text)) problems.push(`POST ${action} from ${site.origin}: expected 403 Refused, got ${sent.status} ${sent.text.slice(0, 200)}`);
      }
      assert.deepEqual(problems, []);

      const statusAfter = await authStatus(s.nr, accountId);
      assert.equal(statusAfter.authorized, true, `the account is still authorized: ${JSON.stringify(statusAfter)}`);
      assert.equal(statusAfter.authorizedAt, statusBefore.authorizedAt, 'the authorization is the same one');
      const statsAfter = await s.sim.stats();
      assert.equal(statsAfter.revocations, statsBefore.revocations, 'the simulator saw a revocation');
      assert.deepEqual(await simSubscriptions(), [], 'the simulator holds a subscription the form asked for');
      await fetchSleep(s.nr);
    });
  }

  it('Disconnect in the account dialog forgets the tokens and revokes them at Oura', async function () {
    const before = await s.sim.stats();
    await editor!.openNode(SLEEP_NODE_ID);
    await editor!.editSelectedAccount();
    const status = await editor!.disconnect();
    assert.equal(status.state, 'unauthorized', `#oura-auth-status after Disconnect: ${status.text}`);
    assert.match(status.text, /revoked at Oura/, `the dialog should say the tokens were revoked: ${status.text}`);
    const after = await s.sim.stats();
    assert.ok(after.revocations > before.revocations, `the simulator saw no revocation (revocations ${before.revocations} -> ${after.revocations})`);
    assert.equal((await authStatus(s.nr, accountId)).authorized, false, 'GET oura/auth/status after Disconnect');
    await editor!.closeConfigDialog();
    await editor!.closeNodeDialog();
    assert.equal(editor!.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
}

describe(`${variant().name}: httpAdminRoot '/admin', adminAuth off: the dialogs work, another site's forms change nothing`, function () {
  editorJourney('csrf-admin-root', undefined);
});

describe(`${variant().name}: httpAdminRoot '/admin', adminAuth on: the dialogs work`, function () {
  editorJourney('dialogs-admin-auth', ADMIN);
});
