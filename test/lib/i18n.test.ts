import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { englishText, t, useTranslator } from '../../src/lib/i18n';
import { status } from '../../src/lib/status';
import type { RedNode } from '../../src/lib/red';
import { nodeRedI18n } from '../node-red-i18n';

const CATALOG = JSON.parse(fs.readFileSync(path.join(__dirname, '../../nodes/locales/en-US/oura-account.json'), 'utf8')).oura;

function keys(c: Record<string, unknown>, prefix = 'oura.'): Array<[string, string]> {
  return Object.entries(c).flatMap(([k, v]) => (typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, String(v)] as [string, string]]));
}

describe('runtime texts (lib/i18n)', () => {
  afterEach(async () => {
    useTranslator(undefined);
    await nodeRedI18n('en-US');
  });

  it('without Node-RED, the English catalog: exactly what Node-RED\'s i18next makes of it, plurals and substitutions included', async () => {
    const nodeRed = await nodeRedI18n('en-US');
    const all = new Map(keys(CATALOG));
    let checked = 0;
    for (const [key, text] of all) {
      if (key.endsWith('_plural')) continue;
      const subs: Record<string, string | number> = {};
      for (const m of text.matchAll(/__(\w+?)__/g)) subs[m[1]] = `<${m[1]}>`;
      const variants = all.has(`${key}_plural`) ? [{ ...subs, count: 1 }, { ...subs, count: 2 }] : [subs];
      for (const v of variants) {
        assert.equal(englishText(key, v), nodeRed._(key, v), key);
        checked++;
      }
    }
    assert.ok(checked > 250, `${checked} texts`);
    assert.equal(t('oura.status.documentsAt', { count: 1, time: '07:02' }), '1 document at 07:02');
    assert.equal(t('oura.status.documentsAt', { count: 12, time: '07:02' }), '12 documents at 07:02');
  });

  it('with Node-RED\'s translator, its language; a key it answers with itself (the test helper\'s stub) falls back to English', async () => {
    useTranslator((await nodeRedI18n('de'))._);
    assert.equal(t('oura.status.documentsAt', { count: 12, time: '07:02' }), '12 Dokumente um 07:02');
    assert.equal(t('oura.status.pageOfDays', { page: 3, covered: 5, total: 30 }), 'Seite 3, 5 von 30 Tagen');
    const shown: string[] = [];
    const node = { status: (s: { text?: string }) => shown.push(s.text ?? '') } as unknown as RedNode;
    status.retrying(node, t('oura.status.rateLimited'), 125_000, () => 0);
    status.clear(node);
    assert.deepEqual(shown, ['Ratenlimit erreicht: neuer Versuch in 2:05', '']);
    useTranslator((key) => key);
    assert.equal(t('oura.status.notAuthorized'), 'not authorized');
  });
});
