// The variant this mocha run exercises, as test/e2e/run.js describes it in the environment.
import * as fs from 'fs';
import * as path from 'path';

export const repoRoot = path.resolve(__dirname, '../../..');
export const e2eRoot = path.join(repoRoot, '.e2e');
export const screenshotDir = path.join(e2eRoot, 'screenshots');

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the e2e suite through \`npm run test:e2e\` (test/e2e/run.js), which prepares the variants`);
  }
  return value;
}

export interface Variant {
  /** short name used in titles, directories and screenshots, e.g. "node-red-4" */
  name: string;
  /** the Node.js binary that runs this Node-RED */
  node: string;
  /** node-red's red.js */
  redJs: string;
  /** scratch directory of this variant under .e2e/ */
  workDir: string;
  /** a user directory into which the packed tarball was installed; every Node-RED instance starts from a copy */
  templateUserDir: string;
  /** the same, with the palettes the examples use besides Node-RED's own nodes (dashboard, Home Assistant) */
  palettesUserDir?: string;
  chromium: string;
}

let cached: Variant | undefined;

export function variant(): Variant {
  if (!cached) {
    cached = {
      name: required('E2E_VARIANT'),
      node: required('E2E_NODE'),
      redJs: required('E2E_RED'),
      workDir: required('E2E_WORKDIR'),
      templateUserDir: required('E2E_TEMPLATE_USERDIR'),
      palettesUserDir: process.env.E2E_PALETTES_USERDIR || undefined,
      chromium: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    };
    for (const file of [cached.node, cached.redJs, cached.templateUserDir]) {
      if (!fs.existsSync(file)) throw new Error(`e2e variant ${cached.name}: ${file} does not exist`);
    }
  }
  return cached;
}
