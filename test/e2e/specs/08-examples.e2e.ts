// Every example the package ships, as a user gets it: Menu > Import > Examples > flows > @oura-flows/node-red-oura.
// With exactly one Oura account, each example gives data at the first inject after Deploy, without opening a node's
// dialog, without a Deploy warning, and without a second account. With none, the node and the Debug sidebar say what
// to do; with two, the imported node is marked invalid until the user picks one in its dialog.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Editor } from '../harness/editor';
import {
  clickInject, debugMessages, deleteFlow, deployConfirmation, importExample, invalidMark, nodeState, openDebugSidebar, statusOf,
  unfoldedText, waitForDebugMessage, waitForStatus,
} from '../harness/canvas';
import { downstream, example, examples, FlowNode, MODULE, ofTypes, OURA_TYPES } from '../harness/examples';
import { expectStatus } from '../harness/http';
import { NodeRed } from '../harness/nodered';
import { variant } from '../harness/env';
import { stopAfterFirstFailure } from '../harness/steps';
import { waitFor } from '../harness/wait';
import { assertNoLeaks, authorizeInEditor, setUp, Setup, SLEEP_NODE_ID } from '../harness/scenario';
import { SimClient } from '../harness/simulator';
import { clients } from '../harness/world';

// The simulator files its documents by UTC day ("today" is its UTC date); the examples ask for today and last night
// in Node-RED's time zone. Node-RED runs in UTC so that both mean the same day on any machine.
const SAME_DAY_AS_THE_SIMULATOR = { TZ: 'UTC' };

/**
 * What each debug node shows once the example's inject ran, by example number and debug node name: a pattern over the
 * message as the Debug sidebar shows it unfolded. Every debug node an inject reaches needs one.
 */
const SHOWS: Record<string, Record<string, RegExp>> = {
  '01': { 'Sleep periods': /bedtime_start: "\d{4}-\d\d-\d\dT/, 'Sleep scores': /score: \d+/ },
  '02': { Notify: /Good morning! Sleep score \d+ for \d{4}-\d\d-\d\d \(deep sleep \d+, REM \d+, efficiency \d+\)\./ },
  '05': { Readiness: /score: \d+/, Activity: /steps: \d+/, 'Heart rate page': /bpm: \d+/ },
};

/** What else a user sees of an example, by example number. */
const EFFECTS: Record<string, (s: Setup) => Promise<void>> = {
  // The CSV file in Node-RED's working directory: the header, then a row per night of 30 days in a row.
  '03': async ({ nr }) => {
    const file = path.join(nr.dir, 'oura-sleep-history.csv');
    const lines = await waitForLines(file);
    assert.equal(lines[0], 'day,bedtime_start,bedtime_end,total_sleep_min,deep_min,rem_min,efficiency,average_heart_rate', `${file}: the header`);
    const rows = lines.slice(1);
    assert.equal(rows.length, 30, `${file}: a row per night of 30 days`);
    assert.ok(rows.every((l) => /^\d{4}-\d\d-\d\d,\d{4}-\d\d-\d\dT[^,]+,[^,]+,\d+,\d+,\d+,\d+,[\d.]+$/.test(l)), `${file}: rows\n${rows.slice(0, 3).join('\n')}`);
    const days = rows.map((l) => Date.parse(`${l.slice(0, 10)}T00:00:00Z`));
    assert.ok(days.every((d, i) => i === 0 || d - days[i - 1] === 86400_000), `${file}: one night after the other: ${rows.map((l) => l.slice(0, 10)).join(' ')}`);
  },
  // The dashboard that the example's config nodes define is served.
  '04': async ({ nr }) => {
    await expectStatus(`${nr.baseUrl}/dashboard/oura`, 200);
  },
};

async function waitForLines(file: string): Promise<string[]> {
  return waitFor(
    () => {
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      return text.endsWith('\n') ? text.trim().split('\n') : undefined;
    },
    { timeoutMs: 20000, message: `${file} was not written` },
  );
}

describe(`${variant().name}: every example, imported from the Import menu into a Node-RED with one Oura account`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  let accountId: string;

  before(async function () {
    const template = variant().palettesUserDir;
    if (!template) throw new Error('E2E_PALETTES_USERDIR is not set: run the e2e suite through test/e2e/run.js, which installs the palettes the examples use');
    s = await setUp('examples-one-account', {}, {}, { template, env: SAME_DAY_AS_THE_SIMULATOR });
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it('has one authorized Oura account, added and deployed in the editor', async function () {
    editor = await Editor.open(s.nr);
    accountId = await authorizeInEditor(editor, s.client);
    await openDebugSidebar(editor);
  });

  /** The flow of the example whose webhook serves a path, by path. */
  const webhookFlows = new Map<string, string>();

  for (const ex of examples()) {
    it(`${ex.name}: imported, deployed without a warning, gives data at the first inject`, async function () {
      const e = editor!;
      // Webhook examples serve the same path, which only one node can: the earlier one goes, as when a user moves on.
      const paths = ofTypes(ex, ['oura webhook']).map((n) => String(n.path));
      for (const p of paths) {
        const earlier = webhookFlows.get(p);
        if (earlier) await deleteFlow(e, earlier);
      }
      const flow = await importExample(e, MODULE, ex.name);
      for (const p of paths) webhookFlows.set(p, flow);
      assert.deepEqual(await e.nodeIds('oura-account'), [accountId], 'the import added no Oura account');

      const oura = ofTypes(ex, OURA_TYPES);
      assert.ok(oura.length > 0, 'the example has oura nodes');
      for (const n of oura) {
        const state = await nodeState(e, n.id);
        assert.equal(state.account, accountId, `${n.type} ${n.id}: the editor set its Account to the only account`);
      }
      for (const n of ex.nodes.filter((x) => x.wires)) {
        const state = await nodeState(e, n.id);
        assert.ok(state.valid, `${n.type} ${n.id} is valid in the editor: ${state.validationErrors.join('; ')}`);
      }

      const notice = await e.deploy();
      assert.doesNotMatch(notice, /unused/i, `Deploy's notice: ${notice}`);
      const deployed = (await s.nr.flows()).json<{ flows: FlowNode[] }>().flows;
      assert.equal(deployed.filter((n) => n.type === 'oura-account').length, 1, 'one Oura account deployed');

      const injects = ofTypes(ex, ['inject']);
      for (const inject of injects) {
        assert.ok(inject.name, `inject ${inject.id} has a name (its notice names it)`);
        await clickInject(e, inject.id, inject.name!);
      }
      const reached = downstream(ex, injects.map((n) => n.id));

      for (const n of oura) {
        if (n.type === 'oura webhook') {
          // Without a public base URL the node subscribes to nothing and waits for Oura's calls.
          await waitForStatus(e, n.id, { text: /^listening$/, fill: 'green' });
        } else {
          assert.ok(reached.has(n.id), `${n.type} ${n.id} is reached by an inject of the example`);
          await waitForStatus(e, n.id, { text: /^[1-9]\d* documents?\b.* at \d\d:\d\d$/, fill: 'green' });
        }
      }

      const debugs = ofTypes(ex, ['debug']).filter((n) => n.tosidebar && reached.has(n.id));
      for (const d of debugs) {
        const pattern = SHOWS[ex.number]?.[d.name ?? ''];
        assert.ok(pattern, `SHOWS has no pattern for debug node "${d.name}" of ${ex.name}`);
        const text = await unfoldedText(await waitForDebugMessage(e, d.id), pattern);
        assert.match(text, pattern, `the Debug sidebar's message from "${d.name}":\n${text}`);
      }
      for (const n of oura) {
        const errors = await debugMessages(e, n.id).count();
        assert.equal(errors, 0, `${n.type} ${n.id} reported ${errors} error(s) in the Debug sidebar`);
      }
      await EFFECTS[ex.number]?.(s);
    });
  }

  it('keeps the client secret and every token out of the API, the export, the log and the user directory', async function () {
    await assertNoLeaks(s.nr, editor!, accountId, s.client);
    assert.equal(editor!.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
});

describe(`${variant().name}: an example imported into a Node-RED without an Oura account`, function () {
  stopAfterFirstFailure();
  let nr: NodeRed;
  let editor: Editor | undefined;
  const ex = example('01');
  const ouraIds = ofTypes(ex, OURA_TYPES).map((n) => n.id);
  const inject = ofTypes(ex, ['inject'])[0];
  const reached = downstream(ex, [inject.id]);
  const ouraOfInject = ouraIds.find((id) => reached.has(id))!;

  before(async function () {
    nr = (await setUp('examples-no-account', {}, {}, { env: SAME_DAY_AS_THE_SIMULATOR })).nr;
    await nr.start();
  });

  after(async function () {
    await editor?.close();
    await nr?.stop();
  });

  it(`${ex.name}: imports and deploys without adding an account; the node's status and the Debug sidebar say what to do`, async function () {
    editor = await Editor.open(nr);
    await importExample(editor, MODULE, ex.name);
    assert.deepEqual(await editor.nodeIds('oura-account'), [], 'the import added no (unauthorized) Oura account');
    for (const id of ouraIds) {
      const state = await nodeState(editor, id);
      assert.equal(state.account, '', `${id}: no account to pick`);
      assert.ok(state.valid, `${id} is valid: ${state.validationErrors.join('; ')}`);
    }
    const notice = await editor.deploy();
    assert.doesNotMatch(notice, /unused/i, `Deploy's notice: ${notice}`);
    const deployed = (await nr.flows()).json<{ flows: FlowNode[] }>().flows;
    assert.equal(deployed.filter((n) => n.type === 'oura-account').length, 0, 'no Oura account deployed');
    for (const id of ouraIds) await waitForStatus(editor, id, { text: /^no account$/, fill: 'yellow' });

    await openDebugSidebar(editor);
    await clickInject(editor, inject.id, inject.name!);
    const message = await waitForDebugMessage(editor, ouraOfInject);
    assert.match((await message.getAttribute('class')) ?? '', /red-ui-debug-msg-level-20\b/, 'shown as an error');
    assert.match(await message.locator('.red-ui-debug-msg-topic').innerText(), /^msg : string\[\d+\]$/, 'the error is a sentence, not an object');
    const lines = (await unfoldedText(message, /then Update and Deploy$/m)).split('\n').map((l) => l.trim());
    assert.ok(
      lines.includes('There is no Oura account yet: open this node, click the pencil next to Account to add one, Authorize, then Update and Deploy'),
      `the Debug sidebar shows the whole sentence:\n${lines.join('\n')}`,
    );
    assert.deepEqual(await statusOf(editor, ouraOfInject), { text: 'no account', fill: 'yellow', shape: 'ring' });
    assert.deepEqual(await editor.nodeIds('oura-account'), [], 'still no Oura account');
    assert.equal(editor.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
});

describe(`${variant().name}: an example imported into a Node-RED with two Oura accounts`, function () {
  stopAfterFirstFailure();
  let s: Setup;
  let editor: Editor | undefined;
  const ex = example('02');
  const [oura] = ofTypes(ex, OURA_TYPES);
  const [inject] = ofTypes(ex, ['inject']);
  const [debug] = ofTypes(ex, ['debug']);

  before(async function () {
    s = await setUp('examples-two-accounts', {}, {}, { env: SAME_DAY_AS_THE_SIMULATOR });
    await s.nr.start();
  });

  after(async function () {
    await editor?.close();
    await s?.nr.stop();
  });

  it(`${ex.name}: marked invalid until an account is picked in its node, then deploys and gives data`, async function () {
    editor = await Editor.open(s.nr);
    const first = await authorizeInEditor(editor, s.client);
    // A second account, of another Oura application, added from the test flow's node as a user adds one.
    const second: SimClient = { ...s.client, clientId: `${s.client.clientId}-2`, clientSecret: `${s.client.clientSecret}2` };
    await s.sim.addClient(second);
    clients.push(second);
    await editor.openNode(SLEEP_NODE_ID);
    await editor.addAccountViaDialog({ name: 'second account', clientId: second.clientId, clientSecret: second.clientSecret });
    await editor.authorize();
    await editor.closeConfigDialog();
    await editor.closeNodeDialog();
    await editor.deploy();
    assert.equal((await editor.nodeIds('oura-account')).length, 2);

    await importExample(editor, MODULE, ex.name);
    assert.equal((await editor.nodeIds('oura-account')).length, 2, 'the import added no account');
    const state = await nodeState(editor, oura.id);
    assert.equal(state.account, '', 'no account picked by itself');
    assert.ok(!state.valid, 'the node is invalid');
    const mark = await invalidMark(editor, oura.id);
    assert.ok(mark.shown, 'the node shows the red triangle');
    assert.match(mark.tooltip, /several Oura accounts exist: pick one/, 'the triangle says why');
    const confirmation = await deployConfirmation(editor);
    assert.match(confirmation, /not properly configured/, `Deploy's confirmation: ${confirmation}`);
    assert.ok(confirmation.includes(`${oura.name} (${oura.type})`), `Deploy's confirmation names the node: ${confirmation}`);

    await editor.openNode(oura.id);
    await editor.selectAccount(first);
    await editor.closeNodeDialog();
    assert.equal((await invalidMark(editor, oura.id)).shown, false, 'the red triangle is gone');
    const notice = await editor.deploy();
    assert.doesNotMatch(notice, /unused/i, `Deploy's notice: ${notice}`);

    await openDebugSidebar(editor);
    await clickInject(editor, inject.id, inject.name!);
    await waitForStatus(editor, oura.id, { text: /^1 document\b.* at \d\d:\d\d$/, fill: 'green' });
    const text = await unfoldedText(await waitForDebugMessage(editor, debug.id), SHOWS['02'].Notify);
    assert.match(text, SHOWS['02'].Notify, `the Debug sidebar's message from "${debug.name}":\n${text}`);
    assert.equal(editor.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
});
