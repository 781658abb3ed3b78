'use strict';
// The floor: the simulator called directly from this (plain Node.js) process, the same request and the same
// number in flight, with Node's http client (keep-alive) and JSON.parse; nothing else.
const http = require('http');
const { performance } = require('perf_hooks');

async function floor({ url, token, n, concurrency }) {
  const agent = new http.Agent({ keepAlive: true });
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  let docs = 0;
  const once = () => new Promise((resolve, reject) => {
    http.get(url, { headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`floor: ${res.statusCode}`));
        docs += JSON.parse(Buffer.concat(chunks).toString('utf8')).data.length;
        return resolve();
      });
      res.on('error', reject);
    }).on('error', reject);
  });
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      await once();
    }
  }));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { n, ms, perSec: (n / ms) * 1000, cpuUsPerMsg: (cpu.user + cpu.system) / n, docs };
}

module.exports = { floor };
