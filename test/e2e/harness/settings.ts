// Writes the minimal Node-RED settings file each scenario starts with.
import * as fs from 'fs';
import * as path from 'path';

export interface AdminUser {
  username: string;
  password: string;
}

export interface SettingsOptions {
  /** a fixed key (default), or null to leave it out so that Node-RED generates its own */
  credentialSecret?: string | null;
  /** e.g. '/admin'; the default leaves Node-RED's '/' */
  httpAdminRoot?: string;
  /** enables adminAuth with this single full-permission user */
  adminUser?: AdminUser;
  /** the shared token store on Redis (several Node-REDs, one authorization); needs an explicit credentialSecret */
  ouraAccountTokenStore?: { url: string; prefix?: string; refreshDeadlineSeconds?: number };
}

export const FIXED_CREDENTIAL_SECRET = 'e2e-fixed-credential-secret-3b0f6c1d';
/** What every replica sharing one Redis has in its settings.js (the one Node-RED generates differs per user directory). */
export const SHARED_CREDENTIAL_SECRET = 'e2e-shared-credential-secret-9d2e4a7c';

export function writeSettings(file: string, opts: SettingsOptions, redJs: string): void {
  const settings: Record<string, unknown> = {
    flowFile: 'flows.json',
    uiHost: '127.0.0.1',
    // The runtime's texts in English whatever the machine's LANG: the specs read them.
    lang: 'en-US',
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // A clean editor: no welcome tour, no telemetry question, no update notifications.
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
  };
  const credentialSecret = opts.credentialSecret === undefined ? FIXED_CREDENTIAL_SECRET : opts.credentialSecret;
  if (credentialSecret !== null) settings.credentialSecret = credentialSecret;
  if (opts.httpAdminRoot) settings.httpAdminRoot = opts.httpAdminRoot;
  if (opts.ouraAccountTokenStore) settings.ouraAccountTokenStore = opts.ouraAccountTokenStore;
  if (opts.adminUser) {
    settings.adminAuth = {
      type: 'credentials',
      users: [{ username: opts.adminUser.username, password: bcryptHash(opts.adminUser.password, redJs), permissions: '*' }],
    };
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `// written by test/e2e/harness/settings.ts\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`);
}

/** Hashes with the bcryptjs that Node-RED itself ships, as `node-red admin hash-pw` would. */
function bcryptHash(password: string, redJs: string): string {
  const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(redJs)] }));
  return bcrypt.hashSync(password, 8);
}
