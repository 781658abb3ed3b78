/**
 * How the package seals what it keeps outside Node-RED's credentials (the durable copy on disk, the shared store in
 * Redis): AES-256-GCM with a key derived from a secret, the whole 16-byte tag required, and additional authenticated
 * data that binds each sealed value to what it is (which account, which kind), so values swapped between keys are
 * refused.
 */
import * as crypto from 'crypto';

export interface Key {
  /** Short id of the key, so a reader tries the right one first. */
  kid: string;
  key: Buffer;
}

export interface Envelope {
  v: number;
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

/** GCM checks only as many tag bytes as it is given: insist on the full 16. */
const TAG_BYTES = 16;
const IV_BYTES = 12;

export function deriveKey(secret: string): Key {
  const key = crypto.createHash('sha256').update(`node-red-oura tokens\0${secret}`).digest();
  return { kid: crypto.createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}

export function seal(k: Key, plain: string, aad: Buffer): Omit<Envelope, 'v'> {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return { kid: k.kid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** Throws unless the tag is whole and matches (`aad` undefined: the durable copy's format 1, which had none). */
export function open(key: Buffer, env: Envelope, aad: Buffer | undefined): Buffer {
  const iv = Buffer.from(env.iv, 'base64');
  const tag = Buffer.from(env.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('malformed envelope');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]);
}

/** An envelope of one of `versions`, or undefined when the text is not one. */
export function parseEnvelope(text: string, versions: number[] = [1, 2]): Envelope | undefined {
  try {
    const env = JSON.parse(text) as Envelope;
    const ok = env && versions.includes(env.v) && typeof env.kid === 'string'
      && typeof env.iv === 'string' && typeof env.tag === 'string' && typeof env.data === 'string';
    return ok ? env : undefined;
  } catch {
    return undefined;
  }
}
