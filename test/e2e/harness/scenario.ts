// Building blocks the scenarios share: a Node-RED wired to the simulator, the test flow, the authorize journey,
// the restart rounds and the leak checks.
import { strict as assert } from 'assert';
import { randomBytes } from 'crypto';
import { Editor } from './editor';
import { expectStatus } from './http';
import { NodeRed } from './nodered';
import { SettingsOptions } from './settings';
import { SimClient, Simulator } from './simulator';
import { assertNoSecrets, assertNoSecretsInFiles } from './secrets';
import { clients, simulator } from './world';

export const SLEEP_NODE_ID = 'e2e0000000000002';

/** http in GET /sleep -> oura sleep -> http response, and any error of the flow answered as 502 with its message. */
export function sleepFlow(): object[] {
  return [
    { id: 'e2e0000000000001', type: 'http in', name: 'GET /sleep', url: '/sleep', method: 'get', upload: false, swaggerDoc: '', x: 140, y: 80, wires: [[SLEEP_NODE_ID]] },
    {
      id: SLEEP_NODE_ID,
      type: 'oura sleep',
      name: '',
      account: '',
      collection: 'sleep',
      range: 'last_7_days',
      startDate: '',
      endDate: '',
      timezone: '',
      x: 340,
      y: 80,
      wires: [['e2e0000000000003']],
    },
    { id: 'e2e0000000000003', type: 'http response', name: '', statusCode: '', headers: {}, x: 540, y: 80, wires: [] },
    { id: 'e2e0000000000004', type: 'catch', name: 'errors', scope: null, uncaught: false, x: 140, y: 160, wires: [['e2e0000000000005']] },
    {
      id: 'e2e0000000000005',
      type: 'function',
      name: 'as 502',
      func: 'msg.statusCode = 502;\nmsg.payload = { error: msg.error && msg.error.message, source: msg.error && msg.error.source };\nreturn msg;',
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      x: 340,
      y: 160,
      wires: [['e2e0000000000003']],
    },
  ];
}

export interface Setup {
  sim: Simulator;
  nr: NodeRed;
  client: SimClient;
}

/**
 * A Node-RED instance pointed at the simulator (its two hosts only), and an Oura application registered there for its
 * callback: of the developer portal (default) or of the old portal, which only the legacy token URL accepts.
 * `instance` adds to Node-RED's environment or names another user directory to start from.
 */
export async function setUp(
  name: string,
  settings: SettingsOptions = {},
  app: { portal?: 'new' | 'old'; redirectUris?: string[] } = {},
  instance: { env?: Record<string, string>; template?: string } = {},
): Promise<Setup> {
  const sim = await simulator();
  const nr = await NodeRed.create({ name, settings, env: { ...sim.env(), ...instance.env }, template: instance.template });
  const client: SimClient = {
    clientId: `e2e-${name}-${randomBytes(4).toString('hex')}`,
    clientSecret: `cs-${randomBytes(24).toString('base64url')}`,
    redirectUris: app.redirectUris ?? [nr.adminUrl('oura/auth/callback')],
    portal: app.portal ?? 'new',
  };
  await sim.addClient(client);
  clients.push(client);
  return { sim, nr, client };
}

/** This application's token requests in order, as `server grant status` (e.g. `current authorization_code 200`). */
export async function tokenLog(sim: Simulator, client: SimClient): Promise<string[]> {
  return (await sim.stats()).tokenLog.filter((e) => e.clientId === client.clientId).map((e) => `${e.server} ${e.grant} ${e.status}`);
}

/** GET /sleep on the flow: must answer 200 with a non-empty array of sleep documents. */
export async function fetchSleep(nr: NodeRed): Promise<any[]> {
  const reply = await expectStatus(`${nr.baseUrl}/sleep`, 200, { timeoutMs: 45000 });
  const docs = reply.json();
  assert.ok(Array.isArray(docs), `GET /sleep: expected an array of documents, got ${reply.text.slice(0, 300)}`);
  assert.ok(docs.length > 0, 'GET /sleep: expected sleep documents, got an empty array');
  assert.ok(docs.every((d: any) => d && typeof d.id === 'string' && typeof d.day === 'string'), `GET /sleep: not sleep documents: ${reply.text.slice(0, 300)}`);
  return docs;
}

/**
 * The journey of a new user: imports the test flow, opens the oura sleep node, adds an account with the client's
 * ID and secret, authorizes in the consent window, closes the dialogs and deploys. Returns the account's id.
 */
export async function authorizeInEditor(editor: Editor, client: SimClient): Promise<string> {
  await editor.importFlow(sleepFlow());
  await editor.openNode(SLEEP_NODE_ID);
  await editor.addAccountViaDialog({ name: 'e2e account', clientId: client.clientId, clientSecret: client.clientSecret });
  assert.equal(await editor.redirectUriShown(), client.redirectUris[0], 'the Redirect URI shown in the account dialog');
  const result = await editor.authorize();
  assert.match(result.callbackText, /succe|authori[sz]ed/i, `the callback page should say that authorization succeeded: ${result.callbackText.slice(0, 300)}`);
  assert.match(result.statusText, /authori[sz]ed|succe/i, `the dialog should report the authorization: ${result.statusText}`);
  assert.match(result.statusText, /Next: click Update \(or Add\), then Deploy\./, 'the dialog says what comes next');
  assert.ok(result.closedItself, 'the consent window closed itself after success');
  await editor.closeConfigDialog();
  const [accountId] = await editor.nodeIds('oura-account');
  assert.ok(accountId, 'the editor holds the new oura-account');
  await editor.closeNodeDialog();
  await editor.deploy();
  return accountId;
}

/** GET oura/auth/status/:id as the editor sees it. */
export async function authStatus(nr: NodeRed, accountId: string): Promise<any> {
  const reply = await nr.admin(`oura/auth/status/${encodeURIComponent(accountId)}`);
  assert.equal(reply.status, 200, `GET ${nr.adminUrl(`oura/auth/status/${accountId}`)}: ${reply.text}`);
  return reply.json();
}

/**
 * One restart-safety round: every access token expires, the flow is asked for data (so the node refreshes, and the
 * answer is produced with the new token), then `restart` runs. Afterwards the flow still answers with the stored
 * token; once more the tokens expire and the flow answers with a token refreshed from the stored refresh token.
 * No new consent (code exchange) and no refresh token used twice.
 */
export async function refreshThenRestart(nr: NodeRed, sim: Simulator, accountId: string, restart: () => Promise<void>): Promise<void> {
  const start = await sim.stats();
  await sim.expireAccessTokens();
  await fetchSleep(nr);
  const refreshed = await sim.stats();
  assert.ok(refreshed.refreshes > start.refreshes, `the node should have refreshed its token after /_sim/expire (refreshes ${start.refreshes} -> ${refreshed.refreshes})`);

  await restart();

  await fetchSleep(nr);
  await sim.expireAccessTokens();
  await fetchSleep(nr);
  const end = await sim.stats();
  assert.ok(end.refreshes > refreshed.refreshes, `after the restart the node should refresh with its stored refresh token (refreshes ${refreshed.refreshes} -> ${end.refreshes})`);
  assert.equal(end.refreshReuse, 0, 'the simulator saw a refresh token used twice (stats.refreshReuse)');
  assert.equal(end.codeExchanges, start.codeExchanges, 'a new consent (code exchange) happened');
  const status = await authStatus(nr, accountId);
  assert.equal(status.authorized, true, `GET oura/auth/status after the restart: ${JSON.stringify(status)}`);
}

/**
 * Neither the client secret nor any token or code the simulator issued appears in GET /flows,
 * GET /credentials/oura-account/:id, the editor's export, Node-RED's log or any file of the user directory.
 */
export async function assertNoLeaks(nr: NodeRed, editor: Editor, accountId: string, client: SimClient): Promise<void> {
  const sim = await simulator();
  const secrets = [...new Set([...(await sim.secrets()), client.clientSecret])];
  assert.ok(secrets.length > 2, `GET /_sim/secrets should list the issued tokens, got ${secrets.length} entries`);

  const flows = await nr.flows();
  assertNoSecrets(`GET ${nr.adminUrl('flows')}`, flows.text, secrets);

  const creds = await nr.admin(`credentials/oura-account/${accountId}`);
  assert.equal(creds.status, 200, `GET credentials/oura-account/${accountId}: ${creds.text}`);
  assertNoSecrets(`GET ${nr.adminUrl(`credentials/oura-account/${accountId}`)}`, creds.text, secrets);
  assert.equal(creds.json().has_clientSecret, true, `GET credentials/oura-account/${accountId} should report has_clientSecret: ${creds.text}`);

  const exported = await editor.exportAllFlows();
  assert.match(exported, /"oura-account"/, 'the export holds the account');
  assertNoSecrets('the flow exported in the editor (Menu > Export)', exported, secrets);

  assertNoSecrets(`Node-RED's log (${nr.logFiles.join(', ')})`, nr.allLogs(), secrets);
  assertNoSecretsInFiles(nr.userDir, secrets);
}
