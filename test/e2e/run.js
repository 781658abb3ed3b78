#!/usr/bin/env node
// End-to-end entry point (`npm run test:e2e`): packs the package, installs the tarball into a fresh Node-RED user
// directory per variant as a user's `npm install` would (and into a second one with the palettes the examples use),
// then runs the same mocha suite against
//   node-red-4: Node-RED 4.1 (devDependency `node-red`) on this Node.js (20), and
//   node-red-5: Node-RED 5.x (devDependency `node-red-5`) on Node.js 22 (devDependency `node22`).
// Usage: node test/e2e/run.js [--variant node-red-4|node-red-5] [-- <extra mocha args, e.g. --grep restart>]
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');
const e2eDir = path.join(root, '.e2e');
const chromium = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

const VARIANTS = [
  { name: 'node-red-4', node: findNode20(), nodeMajor: 20, red: path.join(root, 'node_modules/node-red/red.js') },
  { name: 'node-red-5', node: path.join(root, 'node_modules/node22/bin/node'), nodeMajor: 22, red: path.join(root, 'node_modules/node-red-5/red.js') },
];

/**
 * This machine's Node.js 20. Not simply `node`: under `npm run`, node_modules/.bin comes first in PATH and the
 * devDependency node22 puts a `node` there. npm tells which Node.js runs npm itself (npm_node_execpath).
 */
function findNode20() {
  const onPath = (process.env.PATH || '')
    .split(path.delimiter)
    .filter((dir) => dir && !dir.split(path.sep).includes('node_modules'))
    .map((dir) => path.join(dir, 'node'));
  const candidates = [process.env.npm_node_execpath, process.execPath, ...onPath].filter(Boolean);
  return candidates.find((bin) => fs.existsSync(bin) && /^v20\./.test(versionOf(bin) || '')) || candidates[0];
}

function fail(message) {
  console.error(`\ne2e: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const mochaArgs = dash === -1 ? [] : argv.slice(dash + 1);
  const wanted = [];
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--variant') wanted.push(own[++i]);
    else fail(`unknown argument ${own[i]} (usage: node test/e2e/run.js [--variant name] [-- mocha args])`);
  }
  for (const w of wanted) if (!VARIANTS.some((v) => v.name === w)) fail(`unknown variant ${w}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
  return { variants: wanted.length ? VARIANTS.filter((v) => wanted.includes(v.name)) : VARIANTS, mochaArgs };
}

/** Runs a command to completion, echoing it; fails the whole run on a non-zero exit. */
function run(cmd, args, opts = {}) {
  console.log(`e2e: $ ${[cmd, ...args].join(' ')}${opts.cwd ? `   (in ${path.relative(root, opts.cwd) || '.'})` : ''}`);
  const res = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  if (res.error) fail(`${cmd} could not be started: ${res.error.message}`);
  if (res.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${res.status}:\n${res.stdout}`);
  return res.stdout;
}

function versionOf(nodeBinary) {
  const res = spawnSync(nodeBinary, ['--version'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

function checkPrerequisites(variants) {
  if (!fs.existsSync(chromium)) {
    fail(
      `Chromium was not found at ${chromium}. The e2e suite drives the Node-RED editor in Debian's Chromium: ` +
        'install the Debian package `chromium` (sudo apt-get install -y chromium) and run again.',
    );
  }
  for (const v of variants) {
    if (!fs.existsSync(v.red)) fail(`${v.red} is missing: run \`npm ci\` first (devDependencies node-red / node-red-5).`);
    v.nodeVersion = versionOf(v.node);
    if (!v.nodeVersion) fail(`${v.node} cannot run: run \`npm ci\` first (devDependency node22 provides Node.js 22).`);
    if (!v.nodeVersion.startsWith(`v${v.nodeMajor}.`)) {
      fail(`${v.name} runs on Node.js ${v.nodeMajor}, but the Node.js found (${v.node}) is ${v.nodeVersion}; install Node.js ${v.nodeMajor}.`);
    }
    v.redVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(v.red), 'package.json'), 'utf8')).version;
  }
}

/** `npm pack` (which runs the prepare script, i.e. the build) into .e2e/pack/; returns the tarball's path. */
function pack() {
  const dest = path.join(e2eDir, 'pack');
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  const out = run('npm', ['pack', '--json', '--pack-destination', dest]);
  // npm prints the prepare script's banner before the JSON document.
  const info = JSON.parse(out.slice(out.search(/^\[\s*$/m)));
  const tarball = path.join(dest, info[0].filename);
  if (!fs.existsSync(tarball)) fail(`npm pack did not produce ${tarball}`);
  const files = info[0].files.map((f) => f.path);
  console.log(`e2e: packed ${path.relative(root, tarball)} (${files.length} files: ${files.join(', ')})`);
  return tarball;
}

/**
 * Palettes the package's examples use besides Node-RED's own nodes, installed from the npm registry at exact versions:
 * 04 needs the dashboard, 07 Home Assistant's palette (pinned in devDependencies for the unit test of example 07). The
 * dashboard is no devDependency on purpose: Node-RED also loads the palettes it finds in node_modules directories above
 * its own, i.e. this repository's, so a devDependency would be loaded into every scenario's Node-RED. Only the examples'
 * scenario starts from a user directory with these palettes.
 */
const DASHBOARD_VERSION = '1.31.0';

function examplePalettes() {
  const dev = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies || {};
  const ha = 'node-red-contrib-home-assistant-websocket';
  if (!/^\d+\.\d+\.\d+$/.test(dev[ha] || '')) fail(`package.json should pin ${ha} to an exact version in devDependencies (it has ${dev[ha]})`);
  return [`@flowfuse/node-red-dashboard@${DASHBOARD_VERSION}`, `${ha}@${dev[ha]}`];
}

/** A fresh Node-RED user directory with the tarball (and `palettes`) installed by npm, as a user would. */
function installInto(userDir, tarball, palettes = []) {
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true, dependencies: {} }, null, 2) + '\n',
  );
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...palettes], { cwd: userDir });
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const installed = path.join(userDir, 'node_modules', pkg.name, 'package.json');
  if (!fs.existsSync(installed)) fail(`npm install of ${tarball} did not install ${pkg.name} into ${userDir}`);
  for (const spec of palettes) {
    const name = spec.slice(0, spec.lastIndexOf('@'));
    if (!fs.existsSync(path.join(userDir, 'node_modules', name, 'package.json'))) fail(`npm install did not install ${spec} into ${userDir}`);
  }
}

function runMocha(v, mochaArgs) {
  const env = {
    ...process.env,
    E2E_VARIANT: v.name,
    E2E_NODE: v.node,
    E2E_RED: v.red,
    E2E_WORKDIR: v.workDir,
    E2E_TEMPLATE_USERDIR: v.template,
    E2E_PALETTES_USERDIR: v.palettesTemplate,
    E2E_CHROMIUM: chromium,
  };
  const args = [path.join(root, 'node_modules/mocha/bin/mocha.js'), '--config', path.join(__dirname, '.mocharc.json'), ...mochaArgs];
  console.log(`\ne2e: ===== ${v.name}: Node-RED ${v.redVersion} on Node.js ${v.nodeVersion} =====`);
  return new Promise((resolve) => {
    // The suite itself (and the simulator it starts) runs on Node.js 20 whichever Node-RED it drives.
    const child = spawn(VARIANTS[0].node, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      const count = (word) => Number((out.match(new RegExp(`(\\d+) ${word}`)) || [])[1] || 0);
      resolve({ code: code === null ? 1 : code, signal, passing: count('passing'), failing: count('failing'), pending: count('pending') });
    });
  });
}

function seconds(ms) {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

async function main() {
  const { variants, mochaArgs } = parseArgs(process.argv.slice(2));
  checkPrerequisites(variants);
  fs.mkdirSync(e2eDir, { recursive: true });
  fs.rmSync(path.join(e2eDir, 'screenshots'), { recursive: true, force: true });
  const started = Date.now();
  const tarball = pack();
  const results = [];
  for (const v of variants) {
    const t0 = Date.now();
    v.workDir = path.join(e2eDir, v.name);
    v.template = path.join(v.workDir, 'template-userdir');
    v.palettesTemplate = path.join(v.workDir, 'template-userdir-palettes');
    fs.rmSync(v.workDir, { recursive: true, force: true });
    installInto(v.template, tarball);
    const tp = Date.now();
    installInto(v.palettesTemplate, tarball, examplePalettes());
    console.log(`e2e: ${v.name}: the examples' palettes installed in ${seconds(Date.now() - tp)}`);
    const r = await runMocha(v, mochaArgs);
    results.push({ v, r, ms: Date.now() - t0 });
  }
  console.log('\ne2e: summary');
  let ok = true;
  for (const { v, r, ms } of results) {
    const passed = r.code === 0 && r.failing === 0 && r.passing > 0;
    ok = ok && passed;
    console.log(
      `e2e: ${passed ? 'PASS' : 'FAIL'} ${v.name} (Node-RED ${v.redVersion}, Node.js ${v.nodeVersion}): ` +
        `${r.passing} passing, ${r.failing} failing, ${r.pending} pending, mocha exit ${r.signal || r.code}, ${seconds(ms)}`,
    );
  }
  console.log(`e2e: total ${seconds(Date.now() - started)}; logs and user directories under .e2e/, failure screenshots under .e2e/screenshots/`);
  process.exit(ok ? 0 : 1);
}

main().catch((err) => fail(err.stack || String(err)));
