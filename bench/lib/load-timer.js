'use strict';
// Preloaded into Node-RED (node -r) by the cold-start benchmark: times the require() of each of the package's node
// files as Node-RED's loader does it (axios and lib/ included), and the call of the registration function it
// exports. One JSON line per measurement into $BENCH_LOAD_TIMES.
const fs = require('fs');
const Module = require('module');
const path = require('path');

const out = process.env.BENCH_LOAD_TIMES;
const marker = `${path.sep}node-red-oura${path.sep}`;
const original = Module._load;
const record = (r) => out && fs.appendFileSync(out, `${JSON.stringify(r)}\n`);

Module._load = function load(request, parent, isMain) {
  let file;
  if (typeof request === 'string' && request.includes('node-red-oura')) {
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {
      file = undefined;
    }
  }
  const fromInside = parent && parent.filename && parent.filename.includes(marker);
  if (!file || !file.includes(marker) || fromInside || file.endsWith('.json')) return original.apply(this, arguments);
  const t0 = process.hrtime.bigint();
  const exported = original.apply(this, arguments);
  const requireMs = Number(process.hrtime.bigint() - t0) / 1e6;
  record({ file: path.basename(file), requireMs });
  if (typeof exported !== 'function') return exported;
  return function timedRegister(...args) {
    const t1 = process.hrtime.bigint();
    const result = exported.apply(this, args);
    record({ file: path.basename(file), registerMs: Number(process.hrtime.bigint() - t1) / 1e6 });
    return result;
  };
};
