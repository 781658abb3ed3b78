import type { OuraAccountNode, RED as NodeRED } from './lib/red';
import { registerAdminRoutes } from './lib/admin/routes';
import { t, useTranslator } from './lib/i18n';
import { startSharedStore } from './lib/store/shared-setup';
import * as tokens from './lib/store/tokens';
import type { TokenRecord } from './lib/store/tokens';

interface AccountConfig {
  id: string;
  name?: string;
  scopes?: string;
  tokenUrl?: string;
  redirectUri?: string;
}

const pruneListeners = new WeakSet<object>();

export = function register(RED: NodeRED): void {
  // This node file's catalog (nodes/locales/<lang>/oura-account.json) holds the `oura` texts of the whole runtime.
  useTranslator((key, subs) => RED._(key, subs));

  tokens.configureStorage({
    userDir: RED.settings.userDir,
    keys: {
      secrets() {
        const out: string[] = [];
        const own = RED.settings.credentialSecret;
        if (typeof own === 'string' && own) out.push(own);
        try {
          const generated = RED.settings.get?.('_credentialSecret');
          if (typeof generated === 'string' && generated) out.push(generated);
        } catch {
          // runtime settings not loaded yet
        }
        return out;
      },
    },
    log: { warn: (m) => RED.log.warn(`[oura] ${m}`), error: (m) => RED.log.error(`[oura] ${m}`), debug: (m) => RED.log.debug(`[oura] ${m}`) },
    sink: (key: string, record: TokenRecord | undefined) => {
      // Only deployed accounts have credentials to mirror into; Node-RED writes them at the next deploy.
      const existing = RED.nodes.getCredentials(key);
      if (!existing) return;
      const next: Record<string, unknown> = { ...existing };
      if (record) next.tokens = JSON.stringify(record);
      else delete next.tokens;
      void Promise.resolve(RED.nodes.addCredentials(key, next)).catch(() => undefined);
    },
  });

  // Several Node-REDs sharing one authorization: settings.js `ouraAccountTokenStore` (Redis).
  startSharedStore(RED.settings.ouraAccountTokenStore, RED.settings.credentialSecret, RED.log);

  registerAdminRoutes(RED);

  // Node-RED loads a module once; the test helper loads it per test: keep one listener per emitter.
  const events = RED.events;
  if (events && !pruneListeners.has(events)) {
    pruneListeners.add(events);
    events.on('flows:started', () => {
      const keys = new Set<string>();
      RED.nodes.eachNode((n) => {
        if (n.type === 'oura-account') keys.add(n.id);
      });
      try {
        tokens.prune(keys);
      } catch (err) {
        RED.log.warn(`[oura] ${t('oura.store.pruneFailed', { message: (err as Error).message })}`);
      }
    });
  }

  function OuraAccount(this: OuraAccountNode, config: AccountConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    node.scopes = config.scopes ?? '';
    node.tokenUrl = config.tokenUrl ?? '';
    node.redirectUri = config.redirectUri ?? '';
    // Inside a subflow every instance shares the definition's authorization.
    const key = node._alias || node.id;
    node.handle = {
      key,
      credentials: () => ({
        clientId: String(node.credentials?.clientId ?? ''),
        clientSecret: String(node.credentials?.clientSecret ?? ''),
        tokenUrl: node.tokenUrl || undefined,
      }),
    };
    tokens.reconcile(key, tokens.parseCredentialTokens(node.credentials?.tokens));

    node.on('close', (removed: boolean, done: () => void) => {
      if (removed && !node._alias) {
        tokens.forget(key).then(() => done(), () => done());
      } else {
        done();
      }
    });
  }

  RED.nodes.registerType('oura-account', OuraAccount, {
    // Read from settings.js only, never sent to the editor: its URL may carry Redis' password.
    settings: {
      ouraAccountTokenStore: { value: undefined, exportable: false },
    },
    credentials: {
      clientId: { type: 'text' },
      clientSecret: { type: 'password' },
      // The `tokens` credential is deliberately not declared: Node-RED keeps and saves it, but never
      // sends it to the editor (not even as has_tokens) and a deploy never overwrites it.
    },
  });
};
