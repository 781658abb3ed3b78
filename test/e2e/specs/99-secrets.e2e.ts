// After every scenario: no secret the simulator ever issued, nor any client secret, in any Node-RED log or in any
// file of any user directory of this run (each scenario already checked its API answers and the export).
import { strict as assert } from 'assert';
import { variant } from '../harness/env';
import { instances } from '../harness/nodered';
import { assertNoSecrets, secretsInFiles } from '../harness/secrets';
import { clients, simulator } from '../harness/world';

describe(`${variant().name}: secrets at the end of the run`, function () {
  it('no issued token, code or client secret in any Node-RED log or user directory file', async function () {
    const sim = await simulator();
    const issued = await sim.secrets();
    assert.ok(issued.length > 0, 'GET /_sim/secrets is empty: the scenarios before this one did not run');
    const secrets = [...new Set([...issued, ...clients.map((c) => c.clientSecret)])];
    const authorized = instances.filter((nr) => nr.logFiles.length > 0);
    assert.ok(authorized.length >= 4, `expected the Node-RED instances of the scenarios before, got ${authorized.map((nr) => nr.name).join(', ')}`);
    const problems: string[] = [];
    for (const nr of authorized) {
      try {
        assertNoSecrets(`Node-RED log of ${nr.name}`, nr.allLogs(), secrets);
      } catch (err) {
        problems.push((err as Error).message);
      }
      problems.push(...secretsInFiles(nr.userDir, secrets));
    }
    assert.deepEqual(problems, []);
  });
});
