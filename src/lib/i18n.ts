/**
 * Every text the runtime shows a user (errors, statuses, the admin routes' answers and the callback page, webhook
 * rejections, log lines) is a key of the `oura` object in nodes/locales/<lang>/oura-account.json. Registering the
 * oura-account node installs Node-RED's `RED._` for that catalog, which speaks settings.js `lang` (or the system's
 * language); without it (the lib alone, the test helper's stub) the English catalog is read from disk, so the
 * English texts are exactly the catalog's in either case.
 */
import * as fs from 'fs';
import * as path from 'path';

export type Substitutions = Record<string, string | number>;
export type Translator = (key: string, substitutions?: Substitutions) => string;

const CATALOG = path.join('locales', 'en-US', 'oura-account.json');

let translator: Translator | undefined;
let english: Record<string, unknown> | undefined;

/**
 * Texts already made by the translator. Node-RED's i18next is costly per call (its plural rules alone: a tenth of a
 * message's CPU in bench/profile.js), and a flow asks for the same few statuses message after message; the language
 * does not change while Node-RED runs. Bounded; emptied when the translator changes.
 */
const made = new Map<string, string>();
const MADE_MAX = 1000;

/** Node-RED's translator for the oura-account catalog; `undefined` goes back to the English one. */
export function useTranslator(tr: Translator | undefined): void {
  translator = tr;
  made.clear();
}

/** nodes/locales/en-US/oura-account.json, from nodes/lib (compiled) or src/lib (ts-node). */
function findCatalog(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const file of [path.join(dir, CATALOG), path.join(dir, 'nodes', CATALOG)]) {
      if (fs.existsSync(file)) return file;
    }
    if (path.dirname(dir) === dir) throw new Error(`${CATALOG} not found above ${__dirname}`);
  }
}

function lookup(catalog: Record<string, unknown>, key: string): string | undefined {
  let v: unknown = catalog;
  for (const part of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** The English text of `key`, as Node-RED's i18next would build it: `__name__` substitutions, `_plural` for a count other than 1. */
export function englishText(key: string, subs?: Substitutions): string {
  english ??= JSON.parse(fs.readFileSync(findCatalog(), 'utf8')) as Record<string, unknown>;
  const plural = subs && typeof subs.count === 'number' && subs.count !== 1 ? lookup(english, `${key}_plural`) : undefined;
  const template = plural ?? lookup(english, key);
  if (template === undefined) return key;
  return template.replace(/__(\w+?)__/g, (_m, name: string) => (subs && subs[name] !== undefined ? String(subs[name]) : ''));
}

/** The text of `key` in Node-RED's language; English where the translator has none (it answers with the key). */
export function t(key: string, subs?: Substitutions): string {
  const id = subs ? `${key}\u0000${JSON.stringify(subs)}` : key;
  const known = made.get(id);
  if (known !== undefined) return known;
  let text: string | undefined;
  if (translator) {
    const out = translator(key, subs);
    if (typeof out === 'string' && out !== key && !out.endsWith(`:${key}`)) text = out;
  }
  text ??= englishText(key, subs);
  if (made.size >= MADE_MAX) made.clear();
  made.set(id, text);
  return text;
}
