#!/usr/bin/env node
// `npm start`: Node-RED with this package (from the working tree) and the offline Oura simulator, a flow
// already deployed, nothing written outside the git-ignored .demo/ folder. Ctrl-C stops both.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const demoDir = path.join(root, '.demo');
const PORT = Number(process.env.PORT || 1880);
const SIM_PORT = Number(process.env.OURA_SIM_PORT || 8787);
const SIM_MOI_PORT = Number(process.env.OURA_SIM_MOI_PORT || SIM_PORT + 1);
const HOST = '127.0.0.1';
// What the user opens and registers: a loopback name Oura's portal accepts (see the README on redirect URIs).
const EDITOR_URL = `http://localhost:${PORT}/`;
const CLIENT_ID = 'demo-client';
const CLIENT_SECRET = 'demo-secret';
// A fixed key is fine for a throw-away demo directory; a real Node-RED should set its own.
const CREDENTIAL_SECRET = 'oura-demo-only';

function main() {
  const simModule = path.join(root, 'build/sim/server.js');
  if (!fs.existsSync(simModule) || !fs.existsSync(path.join(root, 'nodes/oura-account.js'))) {
    console.error('The package is not built: run `npm ci` (or `npm run build`) first.');
    process.exit(1);
  }
  const { startSimulator } = require(simModule);
  prepareUserDir();
  // The simulator plays today's Oura with its built-in apps: demo-client (developer portal) and
  // demo-legacy-client (old portal), both registered for http://localhost:1880/oura/auth/callback.
  startSimulator({ port: SIM_PORT, moiPort: SIM_MOI_PORT, host: HOST }).then((sim) => {
    console.log(`Oura simulator: API ${sim.url}, authorization server ${sim.moiUrl} (client id ${CLIENT_ID}, secret ${CLIENT_SECRET})`);
    const red = spawn(process.execPath, [path.join(root, 'node_modules/node-red/red.js'), '-u', demoDir, '-s', path.join(demoDir, 'settings.js')], {
      cwd: demoDir,
      stdio: 'inherit',
      // Only the two hosts: every endpoint is found under them as at Oura.
      env: { ...process.env, ...sim.env() },
    });
    console.log(`\nOpen ${EDITOR_URL} , double-click an oura node, click the pencil next to Account, click Authorize,\nAccept on the simulator's page, click Update and Done, Deploy, then click an inject button and open the Debug tab.\nCtrl-C stops the demo.\n`);
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      red.kill('SIGINT');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    red.on('exit', (code) => {
      sim.close().then(() => process.exit(stopping ? 0 : code ?? 0));
    });
  }, (err) => {
    console.error(`Could not start the Oura simulator on ports ${SIM_PORT}/${SIM_MOI_PORT}: ${err.message}`);
    process.exit(1);
  });
}

/** .demo/: settings, the package linked from the working tree, and (first run only) the demo flow. */
function prepareUserDir() {
  fs.mkdirSync(path.join(demoDir, 'node_modules', '@oura-flows'), { recursive: true });
  const link = path.join(demoDir, 'node_modules', '@oura-flows', 'node-red-oura');
  try {
    fs.lstatSync(link);
  } catch {
    fs.symlinkSync(root, link, 'dir');
  }
  fs.writeFileSync(path.join(demoDir, 'package.json'), JSON.stringify({
    name: 'oura-demo', private: true, dependencies: { '@oura-flows/node-red-oura': 'file:..' },
  }, null, 2));
  fs.writeFileSync(path.join(demoDir, 'settings.js'), `module.exports = {
    uiHost: ${JSON.stringify(HOST)},
    uiPort: ${PORT},
    flowFile: 'flows.json',
    credentialSecret: ${JSON.stringify(CREDENTIAL_SECRET)},
    editorTheme: { tours: false, projects: { enabled: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    logging: { console: { level: 'info' } },
};
`);
  const flowFile = path.join(demoDir, 'flows.json');
  if (!fs.existsSync(flowFile)) {
    fs.writeFileSync(flowFile, JSON.stringify(demoFlow(), null, 2));
    fs.writeFileSync(path.join(demoDir, 'flows_cred.json'), JSON.stringify(encryptCredentials({
      'de00000000000001': { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    })));
  }
}

/** Node-RED's credential file format: aes-256-ctr, key = sha256(credentialSecret), iv in front (hex). */
function encryptCredentials(creds) {
  const key = crypto.createHash('sha256').update(CREDENTIAL_SECRET).digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  const data = cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64');
  return { $: iv.toString('hex') + data };
}

function demoFlow() {
  const z = 'de000000000000f0';
  return [
    { id: z, type: 'tab', label: 'Oura demo', info: 'Offline demo against the Oura simulator.' },
    { id: 'de00000000000001', type: 'oura-account', name: 'My Oura (demo)', scopes: '', tokenUrl: '', redirectUri: '' },
    { id: 'de00000000000010', type: 'comment', z, name: '1. Double-click an oura node, click the pencil next to Account, Authorize, Accept, Update, Done.  2. Click an inject button.', info: '', x: 460, y: 40, wires: [] },
    { id: 'de00000000000011', type: 'inject', z, name: "Last week's sleep", props: [], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 160, y: 100, wires: [['de00000000000012']] },
    { id: 'de00000000000012', type: 'oura sleep', z, name: '', account: 'de00000000000001', collection: 'sleep', range: 'last_7_days', startDate: '', endDate: '', timezone: '', x: 370, y: 100, wires: [['de00000000000013']] },
    { id: 'de00000000000013', type: 'debug', z, name: 'Sleep periods', active: true, tosidebar: true, console: false, tostatus: true, complete: 'payload', targetType: 'msg', statusVal: 'oura.count', statusType: 'msg', x: 580, y: 100, wires: [] },
    { id: 'de00000000000014', type: 'inject', z, name: 'Sleep scores', props: [], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 150, y: 160, wires: [['de00000000000015']] },
    { id: 'de00000000000015', type: 'oura sleep', z, name: '', account: 'de00000000000001', collection: 'daily_sleep', range: 'last_7_days', startDate: '', endDate: '', timezone: '', x: 380, y: 160, wires: [['de00000000000016']] },
    { id: 'de00000000000016', type: 'debug', z, name: 'Scores', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 570, y: 160, wires: [] },
    { id: 'de00000000000017', type: 'inject', z, name: 'Readiness today', props: [], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 160, y: 220, wires: [['de00000000000018']] },
    { id: 'de00000000000018', type: 'oura data', z, name: '', account: 'de00000000000001', collection: 'daily_readiness', range: 'today', startDate: '', endDate: '', timezone: '', fields: '', latest: false, output: 'all', newOnly: false, x: 370, y: 220, wires: [['de00000000000019']] },
    { id: 'de00000000000019', type: 'debug', z, name: 'Readiness', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 570, y: 220, wires: [] },
  ];
}

main();
