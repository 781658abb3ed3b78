import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { deriveKey, Envelope, open, parseEnvelope, seal } from './sealed';
import { t } from '../i18n';

/**
 * An encrypted, owner-only copy of each account's newest tokens in the Node-RED user directory.
 * Node-RED writes credentials changed at runtime only at the next deploy, and "Restart Flows" reloads
 * them from disk, so a refreshed (single-use, rotating) refresh token lives here first.
 */
export interface KeySource {
  /** Candidate secrets, preferred first: settings.credentialSecret, then Node-RED's generated one. */
  secrets(): string[];
}

/**
 * Format 2 binds each copy to its account (additional authenticated data), so a copy renamed to another
 * account's file is refused. Format 1 (no binding) is still read, once, and rewritten as format 2.
 */
const FORMAT = 2;

const DIR_NAME = '.oura-tokens';
const KEY_FILE = 'key';
const FILE_RE = /^acct-(~?[A-Za-z0-9_-]+)\.json$/;

export type ReadResult<T> = { ok: true; value: T } | { ok: false; reason: 'missing' | 'undecryptable' };

export class DurableStore<T> {
  readonly dir: string;
  private readonly keySource: KeySource;

  constructor(userDir: string, keySource: KeySource) {
    this.dir = path.join(userDir, DIR_NAME);
    this.keySource = keySource;
  }

  private fileFor(id: string): string {
    return path.join(this.dir, `acct-${encodeId(id)}.json`);
  }

  private ensureDir(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Our own random key, made on first need: used when Node-RED has no secret to offer. */
  private ownKey(create: boolean): string | undefined {
    const file = path.join(this.dir, KEY_FILE);
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      if (!create) return undefined;
      this.ensureDir();
      const key = crypto.randomBytes(32).toString('base64');
      writeAtomic(file, key);
      return key;
    }
  }

  private keys(createOwn: boolean): { kid: string; key: Buffer }[] {
    const secrets = this.keySource.secrets().filter((s) => typeof s === 'string' && s.length > 0);
    const own = this.ownKey(createOwn && secrets.length === 0);
    if (own) secrets.push(own);
    return secrets.map(deriveKey);
  }

  /** A format-1 copy that decrypts is rewritten as format 2 (best effort: it stays readable if that fails). */
  read(id: string): ReadResult<T> {
    let text: string;
    try {
      text = fs.readFileSync(this.fileFor(id), 'utf8');
    } catch {
      return { ok: false, reason: 'missing' };
    }
    const env = parseEnvelope(text);
    if (!env) return { ok: false, reason: 'undecryptable' };
    const keys = this.keys(false);
    const candidates = [...keys.filter((k) => k.kid === env.kid), ...keys.filter((k) => k.kid !== env.kid)];
    for (const { key } of candidates) {
      let value: T;
      try {
        value = JSON.parse(open(key, env, env.v === FORMAT ? accountAad(id) : undefined).toString('utf8')) as T;
      } catch {
        continue; // try the next key
      }
      if (env.v !== FORMAT) {
        try {
          this.write(id, value);
        } catch {
          // still readable as format 1: the next read tries again
        }
      }
      return { ok: true, value };
    }
    return { ok: false, reason: 'undecryptable' };
  }

  /**
   * Encrypts and writes atomically, readable by the owner only. Throws when the copy could not be saved (the
   * previous copy is then left as it was): the caller must tell the user, as new tokens then live only in memory.
   */
  write(id: string, value: T): void {
    this.ensureDir();
    const env: Envelope = { v: FORMAT, ...seal(this.keys(true)[0], JSON.stringify(value), accountAad(id)) };
    writeAtomic(this.fileFor(id), JSON.stringify(env));
  }

  remove(id: string): void {
    try {
      fs.unlinkSync(this.fileFor(id));
    } catch {
      // already gone
    }
  }

  /** The account ids that have a copy. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const ids: string[] = [];
    for (const n of names) {
      const m = FILE_RE.exec(n);
      if (m) ids.push(decodeId(m[1]));
    }
    return ids;
  }
}

/** Domain-separated, so the binding cannot be mistaken for any other use of the key. */
function accountAad(id: string): Buffer {
  return Buffer.from(`node-red-oura token copy v2\0account\0${id}`, 'utf8');
}

/** Node ids are hex, but a subflow alias or an imported id could hold anything: keep file names safe. */
function encodeId(id: string): string {
  return /^[A-Za-z0-9_-]+$/.test(id) ? id : `~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

function decodeId(enc: string): string {
  return enc.startsWith('~') ? Buffer.from(enc.slice(1), 'base64url').toString('utf8') : enc;
}

/**
 * Temp file, fsync, rename: a reader sees the old copy or the new one, never half of one. A failure on the way
 * (disk full) removes the temp file and throws an error naming the file, with the system's `code`.
 */
function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  let opened = false;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    opened = true;
    try {
      const bytes = Buffer.from(content, 'utf8');
      for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    if (opened) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
    const e = err as NodeJS.ErrnoException;
    throw Object.assign(new Error(t('oura.store.couldNotSave', { file, message: e.message }), { cause: err }), { code: e.code });
  }
  try {
    const dirFd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch {
    // directory fsync is best effort (not supported everywhere)
  }
}
