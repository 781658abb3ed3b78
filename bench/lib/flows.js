'use strict';
// The flows the benchmark deploys. Every flow node has a position (Node-RED 4 tells flow nodes from config nodes by it).

const TAB = 'bench-tab';
const DRIVER = 'bench-driver';

/** Driver outputs of the main benchmark flow. */
const OUT = { ours: 0, coreDefault: 1, coreKeepAlive: 2, heartAll: 3, heartPage: 4 };

function account(id, client) {
  return { id, type: 'oura-account', name: `account ${id}`, scopes: '', tokenUrl: '', redirectUri: '', credentials: { clientId: client.clientId, clientSecret: client.clientSecret } };
}

function sinks() {
  return [
    { id: 'bench-sink', z: TAB, type: 'bench sink', kind: 'out', x: 700, y: 100, wires: [] },
    { id: 'bench-catch', z: TAB, type: 'catch', name: '', scope: null, uncaught: false, x: 500, y: 600, wires: [['bench-sink-err']] },
    { id: 'bench-sink-err', z: TAB, type: 'bench sink', kind: 'error', x: 700, y: 600, wires: [] },
  ];
}

/**
 * inject (the driver) -> oura sleep -> sink, the same one-page request by the core `http request` node with a static
 * bearer token (as Node-RED ships it, and with "keep connection alive" ticked), and the heart rate nodes
 * (oura data, output 'all' and 'page').
 */
function mainFlow({ client, coreUrl, staticToken }) {
  const core = (id, persist, y) => ({
    id, z: TAB, type: 'http request', name: id, method: 'GET', ret: 'obj', paytoqs: 'ignore', url: coreUrl, tls: '', persist,
    proxy: '', insecureHTTPParser: false, authType: 'bearer', senderr: false, headers: [], x: 400, y, wires: [['bench-sink']],
    credentials: { user: '', password: staticToken },
  });
  const oura = (id, type, props, y) => ({
    id, z: TAB, type, name: id, account: 'acc1', range: 'custom', startDate: '', endDate: '', timezone: 'UTC', x: 400, y, wires: [['bench-sink']], ...props,
  });
  return [
    { id: TAB, type: 'tab', label: 'bench' },
    account('acc1', client),
    { id: DRIVER, z: TAB, type: 'bench driver', outputs: 5, x: 100, y: 100, wires: [['ours-sleep'], ['core-default'], ['core-keepalive'], ['heart-all'], ['heart-page']] },
    oura('ours-sleep', 'oura sleep', { collection: 'sleep' }, 100),
    core('core-default', false, 200),
    core('core-keepalive', true, 300),
    oura('heart-all', 'oura data', { collection: 'heartrate', output: 'all' }, 400),
    oura('heart-page', 'oura data', { collection: 'heartrate', output: 'page' }, 500),
    ...sinks(),
  ];
}

/** The soak: per account an `oura sleep` and an `oura data` (daily_readiness) node, all to one sink, one Catch. */
function soakFlow({ accounts }) {
  const nodes = [];
  const wires = [];
  accounts.forEach((a, i) => {
    nodes.push(account(a.id, a.client));
    nodes.push({ id: `soak-sleep-${i}`, z: TAB, type: 'oura sleep', name: '', account: a.id, collection: 'sleep', range: 'last_7_days', startDate: '', endDate: '', timezone: 'UTC', x: 400, y: 60 + i * 80, wires: [['bench-sink']] });
    nodes.push({ id: `soak-data-${i}`, z: TAB, type: 'oura data', name: '', account: a.id, collection: 'daily_readiness', range: 'last_7_days', output: 'all', startDate: '', endDate: '', timezone: 'UTC', x: 400, y: 100 + i * 80, wires: [['bench-sink']] });
    wires.push([`soak-sleep-${i}`], [`soak-data-${i}`]);
  });
  return [
    { id: TAB, type: 'tab', label: 'soak' },
    { id: DRIVER, z: TAB, type: 'bench driver', outputs: wires.length, x: 100, y: 100, wires },
    ...nodes,
    ...sinks(),
  ];
}

/** An empty flow (cold start without any node of the package). */
function emptyFlow() {
  return [{ id: TAB, type: 'tab', label: 'empty' }];
}

module.exports = { TAB, DRIVER, OUT, mainFlow, soakFlow, emptyFlow };
