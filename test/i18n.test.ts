/**
 * The catalogs and the editor templates as a translator and a German user meet them: English and German hold the same
 * keys with the same substitutions, every key the code asks for exists, every key the catalogs hold is asked for, no
 * template shows a text that does not come from a catalog, and the German help has every section of the English one.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
/** Node set name (package.json `node-red.nodes` key) -> the node file's base name. */
const nodeSets: Array<[string, string]> = Object.entries(pkg['node-red'].nodes as Record<string, string>).map(([set, file]) => [set, path.basename(file, '.js')]);
const LANGS = ['en-US', 'de'];

type Catalog = Record<string, unknown>;

function catalog(lang: string, base: string): Catalog {
  return JSON.parse(fs.readFileSync(path.join(root, 'nodes/locales', lang, `${base}.json`), 'utf8'));
}

function flatten(c: Catalog, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(c)) {
    if (v && typeof v === 'object') for (const [kk, vv] of flatten(v as Catalog, `${prefix}${k}.`)) out.set(kk, vv);
    else out.set(`${prefix}${k}`, String(v));
  }
  return out;
}

const placeholders = (text: string) => [...new Set([...text.matchAll(/__(\w+?)__/g)].map((m) => m[1]))].sort();

function sources(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p, ext) : e.name.endsWith(ext) ? [p] : [];
  });
}

/** `<script type="text/html" data-template-name="...">` blocks of an editor file. */
function templates(html: string): Array<{ name: string; body: string }> {
  return [...html.matchAll(/<script type="text\/html" data-template-name="([^"]+)">([\s\S]*?)<\/script>/g)].map((m) => ({ name: m[1], body: m[2] }));
}

/** The keys of a data-i18n attribute (`[placeholder]a.b;c.d`) and whether one of them sets the element's content. */
function i18nAttr(value: string): { keys: string[]; content: boolean } {
  const parts = value.split(';').map((p) => /^(?:\[([\w-]+)\])?(.+)$/.exec(p.trim())!);
  return {
    keys: parts.map((m) => m[2]),
    content: parts.some((m) => !m[1] || ['html', 'text', 'prepend', 'append'].includes(m[1])),
  };
}

const VOID = new Set(['input', 'br', 'img', 'hr', 'meta', 'link', 'col', 'source']);
const TEXT_ATTRS = ['placeholder', 'title', 'alt', 'aria-label'];
const LETTERS = /\p{L}/u;

/**
 * What a template shows that no catalog gave it: text with letters outside every element whose content comes from
 * data-i18n, and placeholder/title attributes with letters. Also returns every data-i18n key it uses.
 */
function untranslated(body: string): { problems: string[]; keys: string[] } {
  const problems: string[] = [];
  const keys: string[] = [];
  const open: Array<{ tag: string; translated: boolean }> = [];
  const token = /<!--[\s\S]*?-->|<\/([a-zA-Z][\w-]*)\s*>|<([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>|([^<]+)/g;
  for (const m of body.matchAll(token)) {
    if (m[1]) {
      const at = open.map((o) => o.tag).lastIndexOf(m[1].toLowerCase());
      if (at !== -1) open.length = at;
    } else if (m[2]) {
      const tag = m[2].toLowerCase();
      const attrs = new Map([...m[3].matchAll(/([^\s=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+)))?/g)].map((a) => [a[1].toLowerCase(), a[2] ?? a[3] ?? a[4] ?? '']));
      const spec = attrs.has('data-i18n') ? i18nAttr(attrs.get('data-i18n')!) : undefined;
      if (spec) keys.push(...spec.keys);
      for (const a of TEXT_ATTRS) {
        const v = attrs.get(a);
        if (v !== undefined && LETTERS.test(v)) problems.push(`<${tag}> ${a}="${v}" (use data-i18n="[${a}]...")`);
      }
      if (!VOID.has(tag) && !m[4]) open.push({ tag, translated: !!spec?.content });
    } else if (m[5]) {
      const text = m[5].replace(/&[a-z]+;|&#\d+;/gi, ' ').trim();
      if (LETTERS.test(text) && !open.some((o) => o.translated)) problems.push(`text "${text.replace(/\s+/g, ' ').slice(0, 60)}" (wrap it in an element with data-i18n)`);
    }
  }
  return { problems, keys };
}

describe('translations (nodes/locales/en-US and de)', () => {
  it('English and German catalogs hold the same keys, with the same __substitutions__', () => {
    let total = 0;
    for (const [, base] of nodeSets) {
      const [en, de] = LANGS.map((l) => flatten(catalog(l, base)));
      assert.deepEqual([...de.keys()].filter((k) => !en.has(k)), [], `${base}: keys only in de`);
      assert.deepEqual([...en.keys()].filter((k) => !de.has(k)), [], `${base}: keys only in en-US`);
      for (const [k, text] of en) {
        assert.deepEqual(placeholders(de.get(k)!), placeholders(text), `${base}: ${k} has other substitutions in de`);
        assert.ok(de.get(k)!.trim(), `${base}: ${k} is empty in de`);
      }
      assert.deepEqual(Object.keys(catalog('en-US', base)).filter((k) => k !== 'oura'), [base], `${base}.json: one top-level key per node file (and "oura")`);
      total += en.size;
    }
    assert.ok(total > 400, `${total} keys`);
  });

  it('every key the editor and the runtime ask for exists in the catalog of its namespace, and every key is asked for', () => {
    const used = new Map<string, Set<string>>(nodeSets.map(([, base]) => [base, new Set<string>()]));
    const keyRe = /['"]((oura(?:-[a-z]+)?)\.[A-Za-z0-9_]+\.[A-Za-z0-9_.]+)['"]/g;
    for (const [set, base] of nodeSets) {
      const html = fs.readFileSync(path.join(root, 'nodes', `${base}.html`), 'utf8');
      const own = flatten(catalog('en-US', base));
      const asked = [...html.matchAll(keyRe)].map((m) => m[1]);
      for (const t of templates(html)) asked.push(...untranslated(t.body).keys);
      for (const key of asked) {
        assert.ok(key.startsWith(`${base}.`), `${base}.html asks for ${key}: its texts live under "${base}." in ${base}.json`);
        assert.ok(own.has(key) || own.has(`${key}_plural`), `${base}.html: ${key} is not in nodes/locales/en-US/${base}.json`);
        used.get(base)!.add(key);
      }
      // Where `this` is not the node, the namespace is spelled out: it must be the one Node-RED gives this node set.
      for (const m of html.matchAll(/'(@[^':]+):/g)) assert.equal(m[1], `${pkg.name}/${set}`, `${base}.html: namespace`);
    }
    const runtime = flatten(catalog('en-US', 'oura-account'));
    for (const file of sources(path.join(root, 'src'), '.ts')) {
      const code = fs.readFileSync(file, 'utf8');
      if (path.basename(file) === 'i18n.ts') continue;
      for (const m of code.matchAll(/\bt\(\s*([^)]?)/g)) assert.equal(m[1], '\'', `${path.relative(root, file)}: t() takes a literal key`);
      for (const m of code.matchAll(/\bt\('([^']+)'/g)) {
        assert.ok(m[1].startsWith('oura.'), `${path.relative(root, file)}: ${m[1]} is not in the runtime's one namespace "oura."`);
        assert.ok(runtime.has(m[1]) || runtime.has(`${m[1]}_plural`), `${path.relative(root, file)}: ${m[1]} is not in nodes/locales/en-US/oura-account.json`);
        used.get('oura-account')!.add(m[1]);
      }
    }
    for (const [, base] of nodeSets) {
      const unused = [...flatten(catalog('en-US', base)).keys()].map((k) => k.replace(/_plural$/, '')).filter((k) => !used.get(base)!.has(k));
      assert.deepEqual(unused, [], `${base}.json: keys nothing asks for`);
    }
  });

  it('the templates show no text that does not come from a catalog', () => {
    let count = 0;
    for (const [, base] of nodeSets) {
      const html = fs.readFileSync(path.join(root, 'nodes', `${base}.html`), 'utf8');
      const found = templates(html);
      assert.ok(found.length >= 1, `${base}.html has a template`);
      for (const t of found) {
        const { problems, keys } = untranslated(t.body);
        assert.deepEqual(problems, [], `${base}.html, template "${t.name}"`);
        count += keys.length;
      }
    }
    assert.ok(count > 80, `${count} data-i18n keys`);
  });

  it('the template check finds an untranslated label, placeholder, title, option and tip', () => {
    const bad = untranslated(`
      <div class="form-row">
        <label for="node-input-x"><i class="fa fa-tag"></i> Name</label>
        <input type="text" id="node-input-x" placeholder="your name">
        <button type="button" data-i18n="[title]x.title.copy">Copy</button>
        <button type="button" title="Copy it" data-i18n="x.button.copy"></button>
        <select><option value="a">Last night</option></select>
      </div>
      <div class="form-tips">A <code>msg.x</code> tip.</div>`);
    assert.deepEqual(bad.problems, [
      'text "Name" (wrap it in an element with data-i18n)',
      '<input> placeholder="your name" (use data-i18n="[placeholder]...")',
      'text "Copy" (wrap it in an element with data-i18n)',
      '<button> title="Copy it" (use data-i18n="[title]...")',
      'text "Last night" (wrap it in an element with data-i18n)',
      'text "A" (wrap it in an element with data-i18n)',
      'text "msg.x" (wrap it in an element with data-i18n)',
      'text "tip." (wrap it in an element with data-i18n)',
    ]);
    const good = untranslated(`
      <div class="form-row">
        <label for="node-input-x"><i class="fa fa-tag"></i> <span data-i18n="x.label.name"></span></label>
        <input type="text" id="node-input-x" data-i18n="[placeholder]x.placeholder.name" placeholder="10800">
        <label>&nbsp;</label><button data-i18n="[title]x.title.copy;x.button.copy"></button>
        <div class="form-tips" data-i18n="[html]x.tip.dates"><code>msg.x</code> tip</div>
      </div>`);
    assert.deepEqual(good.problems, []);
    assert.deepEqual(good.keys, ['x.label.name', 'x.placeholder.name', 'x.title.copy', 'x.button.copy', 'x.tip.dates']);
  });

  it('every node has German help with the sections, entries, code names and error codes of the English help', () => {
    const sections = (html: string) => html.split(/<h3>[^<]*<\/h3>/).map((s) => ({
      entries: (s.match(/<dt[\s>]/g) ?? []).length,
      code: [...s.matchAll(/<code>([^<]*)<\/code>/g)].map((m) => m[1]).sort(),
      errors: [...s.matchAll(/\bOURA_[A-Z_]+/g)].map((m) => m[0]),
    }));
    for (const [, base] of nodeSets) {
      const [en, de] = LANGS.map((l) => fs.readFileSync(path.join(root, 'nodes/locales', l, `${base}.html`), 'utf8'));
      assert.equal(/data-help-name="([^"]+)"/.exec(de)?.[1], /data-help-name="([^"]+)"/.exec(en)?.[1], `${base}: data-help-name`);
      assert.equal((de.match(/<h3>/g) ?? []).length, (en.match(/<h3>/g) ?? []).length, `${base}: sections`);
      assert.deepEqual(sections(de), sections(en), `${base}: the German help leaves out or adds entries or code`);
    }
  });

  it('a token error from the legacy server is still rewritten to "the legacy one" in every language', () => {
    for (const lang of LANGS) {
      const token = flatten(catalog(lang, 'oura-account'));
      const endpoint = token.get('oura.token.endpoint')!;
      for (const k of ['oura.token.answered', 'oura.token.noTokens', 'oura.token.unreachable']) {
        assert.ok(token.get(k)!.startsWith(endpoint), `${lang}: ${k} starts with oura.token.endpoint`);
      }
    }
  });
});
