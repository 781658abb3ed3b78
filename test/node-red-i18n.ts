/**
 * Node-RED's own translator (@node-red/util's i18n, the one RED._ calls), set up the way the runtime sets it up:
 * started with settings.js `lang`, this package's catalog registered under the namespace the registry gives the
 * oura-account node set (`<package name>/oura-account`, from nodes/locales/<lang>/oura-account.json).
 */
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { i18n } = require('@node-red/util');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const pkg = require('../package.json');

export const NAMESPACE = `${pkg.name}/oura-account`;

/** Node-RED's i18n speaking `lang` (the runtime starts it once per process: later calls change its language). */
export async function nodeRedI18n(lang: string): Promise<{ _: (key: string, subs?: object) => string }> {
  i18n.init({ lang });
  await i18n.registerMessageCatalog(NAMESPACE, path.join(__dirname, '..', 'nodes', 'locales'), 'oura-account.json');
  await i18n.i.changeLanguage(lang);
  return { _: (key, subs) => i18n._(`${NAMESPACE}:${key}`, subs) };
}
