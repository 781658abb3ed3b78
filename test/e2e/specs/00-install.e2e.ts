// The packed tarball, installed with npm into a user directory, loads in Node-RED and in its editor.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Editor } from '../harness/editor';
import { expectStatus } from '../harness/http';
import { NodeRed } from '../harness/nodered';
import { repoRoot, variant } from '../harness/env';
import { stopAfterFirstFailure } from '../harness/steps';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

describe(`${variant().name}: the packed package in a user directory`, function () {
  stopAfterFirstFailure();
  let nr: NodeRed;
  let editor: Editor | undefined;

  before(async function () {
    nr = await NodeRed.create({ name: 'install' });
    await nr.start();
  });

  after(async function () {
    await editor?.close();
    await nr?.stop();
  });

  it('npm installed the tarball, with the compiled nodes and their editor files', function () {
    const dir = path.join(nr.userDir, 'node_modules', pkg.name);
    const installed = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    assert.equal(installed.version, pkg.version);
    const deps = JSON.parse(fs.readFileSync(path.join(nr.userDir, 'package.json'), 'utf8')).dependencies;
    assert.match(deps[pkg.name], /\.tgz$/, 'the user directory depends on the tarball, as `npm install <tgz>` records it');
    for (const file of Object.values<string>(pkg['node-red'].nodes)) {
      assert.ok(fs.existsSync(path.join(dir, file)), `${file} is in the tarball`);
      assert.ok(fs.existsSync(path.join(dir, file.replace(/\.js$/, '.html'))), `${file.replace(/\.js$/, '.html')} is in the tarball`);
    }
  });

  it('Node-RED registers oura-account and oura sleep from it', async function () {
    const reply = await nr.admin('nodes', { headers: { accept: 'application/json' } });
    assert.equal(reply.status, 200, reply.text);
    const sets = reply.json<any[]>().filter((s) => s.module === pkg.name);
    assert.ok(sets.length > 0, `GET /nodes lists no node set of ${pkg.name}`);
    for (const set of sets) {
      assert.equal(set.err, undefined, `node set ${set.id} failed to load: ${set.err}`);
      assert.equal(set.enabled, true, `node set ${set.id} is disabled`);
    }
    const types = sets.flatMap((s) => s.types);
    assert.ok(types.includes('oura-account') && types.includes('oura sleep'), `registered types: ${types.join(', ')}`);
  });

  it('the editor shows oura sleep in its palette and imports, deploys and exports a flow', async function () {
    editor = await Editor.open(nr);
    assert.ok(await editor.paletteHas('oura sleep'), 'the palette offers oura sleep');
    await editor.importFlow([
      { id: 'e2e00000000000a1', type: 'http in', url: '/ping', method: 'get', upload: false, swaggerDoc: '', x: 140, y: 60, wires: [['e2e00000000000a2']] },
      { id: 'e2e00000000000a2', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'pong', tot: 'str' }], x: 320, y: 60, wires: [['e2e00000000000a3']] },
      { id: 'e2e00000000000a3', type: 'http response', statusCode: '', headers: {}, x: 500, y: 60, wires: [] },
    ]);
    await editor.deploy();
    assert.equal((await expectStatus(`${nr.baseUrl}/ping`, 200)).text, 'pong');
    assert.match(await editor.exportAllFlows(), /"e2e00000000000a2"/);
    assert.equal(editor.browserErrors(), '', 'the editor raised no JavaScript errors');
  });
});
