/**
 * Runtime texts follow Node-RED's language (settings.js `lang`, else the system's). The test helper stubs RED._, so
 * the oura-account node here gets the RED._ Node-RED's registry builds for its node set, over Node-RED's i18n
 * started as the runtime starts it: what a German Node-RED shows, and what the same runtime shows in English.
 */
import { strict as assert } from 'assert';
import { accountConfig, ask, askError, authorize, creds, Env, helper, placed, setUp, tearDown } from '../support';
import { day } from '../clock';
import { useTranslator } from '../../src/lib/i18n';
import { NAMESPACE, nodeRedI18n } from '../node-red-i18n';

const dataNode = require('../../src/oura-data');
const accountNode = require('../../src/oura-account');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

type Shown = { fill?: string; shape?: string; text?: string };

/** The oura-account node module as Node-RED loads it: its RED._ is namespaced to its own catalog. */
function asLoadedByNodeRed(register: (RED: unknown) => void) {
  return (RED: Record<string, unknown>) => register({ ...RED, _: helper._registryUtil.createNodeApi({ id: NAMESPACE, namespace: NAMESPACE })._ });
}

const FLOW = placed([
  { id: 'tab', type: 'tab', label: 'test' },
  accountConfig('acc1'),
  { id: 'data1', z: 'tab', type: 'oura data', account: 'acc1', collection: 'daily_readiness', range: 'last_7_days', output: 'all', wires: [['out']] },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
]);

function load(): Promise<void> {
  return helper.load([asLoadedByNodeRed(accountNode), dataNode, catchNode], FLOW, { acc1: creds() });
}

function lastStatus(): Shown | undefined {
  const spy = helper._NodePrototype.status as { getCalls(): Array<{ thisValue: { id: string }; args: Shown[] }> };
  return spy.getCalls().filter((c) => c.thisValue?.id === 'data1').map((c) => c.args[0]).filter((s) => s && s.text).at(-1);
}

describe('runtime texts follow Node-RED\'s language', function () {
  let env: Env | undefined;
  afterEach(async function () {
    await tearDown(env);
    env = undefined;
    useTranslator(undefined);
    await nodeRedI18n('en-US');
  });

  it('lang: \'de\': German statuses, error sentences and callback page; msg.error.code stays the same', async function () {
    env = await setUp();
    await nodeRedI18n('de');
    await load();
    assert.deepEqual(lastStatus(), { fill: 'yellow', shape: 'ring', text: 'nicht autorisiert' });
    const none = await askError({}, 'data1');
    assert.equal(none.msg.error.message, 'Dieses Oura-Konto ist noch nicht autorisiert: öffnen Sie den Oura-Konto-Node, klicken Sie auf '
      + 'Autorisieren und stimmen Sie auf der Seite von Oura zu, dann Aktualisieren und Übernahme (deploy).');
    assert.equal(none.msg.error.code, 'OURA_NOT_AUTHORIZED');
    assert.deepEqual(none.msg.ouraError, { code: 'OURA_NOT_AUTHORIZED' });

    const page = await authorize(env);
    assert.match(page.text, /<h1 id="oura-result" data-ok="true">Autorisierung erfolgreich<\/h1><p>Node-RED kann jetzt Ihre Oura-Daten lesen\./);
    const docs = (await ask({ start_date: day(-6), end_date: day(0) }, 'data1')).payload;
    assert.ok(docs.length > 1);
    assert.equal(lastStatus()?.fill, 'green');
    assert.match(lastStatus()?.text ?? '', new RegExp(`^${docs.length} Dokumente um \\d\\d:\\d\\d$`));

    const bad = await askError({ start_date: 'gestern' }, 'data1');
    assert.equal(bad.msg.error.message, 'msg.start_date muss ein Datum im Format YYYY-MM-DD sein, z. B. 2026-11-23 (erhalten: "gestern")');
    assert.equal(bad.msg.error.code, 'OURA_INVALID_INPUT');
    assert.deepEqual(lastStatus(), { fill: 'red', shape: 'ring', text: 'ungültige Eingabe' });
  });

  it('the same runtime speaks English when Node-RED\'s language is en-US', async function () {
    env = await setUp();
    await nodeRedI18n('en-US');
    await load();
    assert.deepEqual(lastStatus(), { fill: 'yellow', shape: 'ring', text: 'not authorized' });
    const none = await askError({}, 'data1');
    assert.match(none.msg.error.message, /^This Oura account is not authorized yet: /);
    assert.equal(none.msg.error.code, 'OURA_NOT_AUTHORIZED');
  });
});
