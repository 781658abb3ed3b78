// One run of the unit suite (mocha over test/**/*.test.ts, as `npm run test:unit`), optionally under a wrapper
// command such as faketime, with what failed read from mocha's JSON report instead of scraped from its output.
// Shared by scripts/test-dates.js and scripts/test-load.js.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');

/**
 * Runs the suite; resolves with { ok, passes, failures: [{ title, message }], seconds, log }. `log` is the path of
 * the run's stdout/stderr, kept only when the run failed. `wrapper` is a command and arguments put in front
 * of node (e.g. ['faketime', '-f', '+3600']); `env` is added to this process's environment.
 */
function runUnitSuite({ wrapper = [], env = {}, label = 'run' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oura-unit-'));
  const report = path.join(dir, 'report.json');
  const log = path.join(dir, 'output.log');
  const out = fs.openSync(log, 'w');
  const args = [process.execPath, path.join(root, 'node_modules/mocha/bin/mocha.js'), '--reporter', 'json', '--reporter-option', `output=${report}`];
  const [cmd, ...rest] = [...wrapper, ...args];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, rest, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
    child.on('error', (err) => finish(null, err));
    child.on('exit', (code, signal) => finish(code ?? signal, undefined));
    let ended = false;
    function finish(code, spawnError) {
      if (ended) return;
      ended = true;
      fs.closeSync(out);
      const seconds = (Date.now() - started) / 1000;
      const result = { label, ok: false, passes: 0, failures: [], seconds, log, exit: code };
      if (spawnError) {
        result.failures.push({ title: `(${cmd} could not start)`, message: spawnError.message });
        return resolve(result);
      }
      let json;
      try {
        json = JSON.parse(fs.readFileSync(report, 'utf8'));
      } catch {
        result.failures.push({ title: '(no mocha report: the run crashed)', message: `exit ${code}; see ${log}` });
        return resolve(result);
      }
      result.passes = json.stats.passes;
      result.failures = json.failures.map((f) => ({ title: f.fullTitle, message: firstLine(f.err && f.err.message) }));
      if (json.stats.pending > 0) result.failures.push({ title: `(${json.stats.pending} skipped tests)`, message: 'a skipped test does not count as passing' });
      if (json.stats.tests === 0) result.failures.push({ title: '(no tests ran)', message: `see ${log}` });
      // Mocha exits non-zero for the failures it reports, and also for a crash after its report (an uncaught error).
      if (code !== 0 && result.failures.length === 0) result.failures.push({ title: '(mocha exited with an error after its report)', message: `exit ${code}; see ${log}` });
      result.ok = code === 0 && result.failures.length === 0;
      // A passing run leaves nothing behind; a failing one keeps its output for reading.
      if (result.ok) fs.rmSync(dir, { recursive: true, force: true });
      resolve(result);
    }
  });
}

function firstLine(text) {
  const line = String(text ?? '').split('\n').find((l) => l.trim()) ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

module.exports = { runUnitSuite, root };
