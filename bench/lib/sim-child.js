'use strict';
// The project's simulator (sim/server.ts, loaded with ts-node like the tests do) in a process of its own, so
// that it has a core to itself. Options come as JSON in argv[2]; prints one line with the URL when ready.
const path = require('path');

require('ts-node').register({ transpileOnly: true, project: path.resolve(__dirname, '../../tsconfig.json') });
const { startSimulator } = require('../../sim/server');

const opts = JSON.parse(process.argv[2] || '{}');
startSimulator(opts).then((sim) => {
  console.log(`bench simulator listening on ${sim.url} (authorization server ${sim.moiUrl})`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sim.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}, (err) => {
  console.error(`bench simulator could not start: ${err.stack || err.message}`);
  process.exit(1);
});
