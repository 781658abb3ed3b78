// Root hooks (loaded with --require): what a failure leaves behind (screenshots, where the logs are, the end of
// each running Node-RED's log), and nothing left running afterwards.
import { closeBrowser, screenshotOpenPages } from './browser';
import { instances } from './nodered';
import { stopAll } from './proc';
import { stopRedisServers } from './replicas';
import { stopSimulator } from './world';

export const mochaHooks = {
  async afterEach(this: Mocha.Context) {
    const test = this.currentTest;
    if (!test || test.state !== 'failed') return;
    for (const file of await screenshotOpenPages(test.fullTitle())) console.log(`      screenshot: ${file}`);
    for (const nr of instances.filter((i) => i.running)) {
      const log = nr.logFiles[nr.logFiles.length - 1];
      console.log(`      Node-RED ${nr.name} log ${log}, last lines:\n${nr.process.tail(15).replace(/^/gm, '        | ')}`);
    }
  },
  async afterAll() {
    await closeBrowser();
    await stopSimulator().catch(() => undefined);
    await stopAll();
    await stopRedisServers();
  },
};
