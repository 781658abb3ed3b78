// The Node-RED editor, driven the way a user drives it: menus, dialogs, buttons, the consent popup.
// page.evaluate is used only to read the editor's state (ids, readiness), never to change it.
import * as fs from 'fs';
import * as path from 'path';
import { BrowserContext, Page } from 'playwright-core';
import { newContext } from './browser';
import { NodeRed } from './nodered';
import { waitFor } from './wait';

export interface AccountFields {
  name?: string;
  clientId: string;
  clientSecret: string;
}

export interface AuthorizeResult {
  /** the address the consent popup ended on (the package's callback page) */
  callbackUrl: string;
  callbackStatus: number;
  callbackText: string;
  /** what the dialog's #oura-auth-status says afterwards */
  statusText: string;
  /** whether the consent window closed itself after the success page */
  closedItself: boolean;
}

export class Editor {
  private constructor(
    readonly nr: NodeRed,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly browserLog: string,
  ) {}

  /** Opens the editor in a fresh browser context; logs in through the login form when adminAuth is on. */
  static async open(nr: NodeRed): Promise<Editor> {
    const context = await newContext();
    const browserLog = path.join(nr.dir, 'logs', 'browser.log');
    fs.mkdirSync(path.dirname(browserLog), { recursive: true });
    const note = (line: string) => fs.appendFileSync(browserLog, `${new Date().toISOString()} ${line.replace(/\n/g, ' | ')}\n`);
    context.on('page', (p) => {
      p.on('pageerror', (err) => note(`[pageerror] ${p.url()} ${err.stack ?? err.message}`));
      p.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') note(`[console.${msg.type()}] ${p.url()} ${msg.text()}`);
      });
    });
    const page = await context.newPage();
    const editor = new Editor(nr, context, page, browserLog);
    await page.goto(nr.editorUrl);
    await editor.waitUntilLoaded();
    return editor;
  }

  /** Reloads the editor (e.g. after Node-RED restarted) and waits until it is usable again. */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.waitUntilLoaded();
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  /**
   * Uncaught JavaScript errors the editor pages raised so far (an empty string when none). Console messages
   * (e.g. the websocket reconnecting while Node-RED restarts) are logged beside them but do not count.
   */
  browserErrors(): string {
    if (!fs.existsSync(this.browserLog)) return '';
    return fs
      .readFileSync(this.browserLog, 'utf8')
      .split('\n')
      .filter((line) => line.includes('[pageerror]'))
      .join('\n');
  }

  async login(): Promise<void> {
    const user = this.nr.adminUser!;
    await this.page.locator('#node-dialog-login-username').fill(user.username);
    await this.page.locator('#node-dialog-login-password').fill(user.password);
    await this.page.locator('#node-dialog-login-submit').click();
    await this.page.locator('#node-dialog-login-username').waitFor({ state: 'hidden' });
  }

  /** Waits until the editor has loaded its flows and palette; logs in through the login form when it asks. */
  async waitUntilLoaded(): Promise<void> {
    const state = () =>
      this.page.waitForFunction(
        () => {
          const w = globalThis as any;
          const RED = w.RED;
          const $ = w.$;
          if (!$ || !RED) return false;
          if ($('#node-dialog-login-username').is(':visible')) return 'login';
          const ready =
            RED.nodes &&
            RED.workspaces &&
            RED.workspaces.active() &&
            $('#red-ui-loading-progress').is(':hidden') &&
            $('.red-ui-header-toolbar').is(':visible') &&
            $('#red-ui-palette-container .red-ui-palette-node').length > 0;
          return ready ? 'ready' : false;
        },
        undefined,
        { timeout: 60000, polling: 100 },
      );
    if ((await (await state()).jsonValue()) === 'login') {
      if (!this.nr.adminUser) throw new Error('the editor asks for a login but adminAuth is off');
      await this.login();
      if ((await (await state()).jsonValue()) !== 'ready') throw new Error('the editor still asks for a login after logging in');
    }
  }

  /** Whether the palette offers `type` (i.e. the installed package registered it with the editor). */
  async paletteHas(type: string): Promise<boolean> {
    return (await this.page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count()) > 0;
  }

  /** Opens the main menu (top right) and clicks the item with this id, e.g. menu-item-import. */
  async mainMenu(itemId: string): Promise<void> {
    await this.page.locator('#red-ui-header-button-sidemenu').click();
    await this.page.locator(`#${itemId}`).click();
  }

  /** Menu > Import, pastes `flow` into the text box, imports into the current flow and drops the nodes onto the canvas. */
  async importFlow(flow: object[]): Promise<void> {
    await this.mainMenu('menu-item-import');
    const text = this.page.locator('#red-ui-clipboard-dialog-import-text');
    await text.fill(JSON.stringify(flow));
    await text.press('End'); // the dialog validates the text on keyup
    await this.page.locator('#red-ui-clipboard-dialog-ok').click();
    await this.placeImported();
  }

  /** Imported nodes stick to the mouse until a click on the workspace places them. */
  async placeImported(): Promise<void> {
    await this.page.waitForFunction(() => {
      const RED = (globalThis as any).RED;
      return RED.view.state() === RED.state.IMPORT_DRAGGING;
    });
    const chart = this.page.locator('#red-ui-workspace-chart');
    const box = (await chart.boundingBox())!;
    await this.page.mouse.move(box.x + 150, box.y + 100);
    await this.page.mouse.click(box.x + 150, box.y + 100);
    await this.page.waitForFunction(() => {
      const RED = (globalThis as any).RED;
      return RED.view.state() === RED.state.DEFAULT;
    });
  }

  /** Opens a node's edit tray by double-clicking it on the canvas. */
  async openNode(id: string): Promise<void> {
    await this.page.locator(`g[id="${id}"] rect.red-ui-flow-node`).first().dblclick();
    await this.page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  }

  /** Clicks Done in the node's edit tray. */
  async closeNodeDialog(): Promise<void> {
    await this.page.locator('#node-dialog-ok').click();
    await this.page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
  }

  /**
   * In an open node dialog: the "+" beside the `property` config select opens a new oura-account dialog,
   * where the Client ID and Secret are typed. The account dialog is left open (Authorize comes next).
   */
  async addAccountViaDialog(fields: AccountFields, property = 'account'): Promise<void> {
    await this.page.locator(`#node-input-btn-${property}-add`).click();
    await this.page.locator('#node-config-input-clientId').waitFor({ state: 'visible' });
    if (fields.name !== undefined) await this.page.locator('#node-config-input-name').fill(fields.name);
    await this.page.locator('#node-config-input-clientId').fill(fields.clientId);
    await this.page.locator('#node-config-input-clientSecret').fill(fields.clientSecret);
  }

  /** Opens the config dialog of the account selected in the open node dialog (the pencil button). */
  async editSelectedAccount(property = 'account'): Promise<void> {
    await this.page.locator(`#node-input-btn-${property}-edit`).click();
    await this.page.locator('#node-config-input-clientId').waitFor({ state: 'visible' });
  }

  async redirectUriShown(): Promise<string> {
    return this.page.locator('#node-config-input-redirectUri').inputValue();
  }

  /** Waits until the account dialog's status has settled on authorized, error or reauth. */
  private async settledAuthStatus(): Promise<void> {
    await this.page.waitForFunction(
      () => {
        const state = (globalThis as any).document.querySelector('#oura-auth-status')?.getAttribute('data-state');
        return state === 'authorized' || state === 'error' || state === 'reauth';
      },
      undefined,
      { timeout: 20000, polling: 100 },
    );
  }

  async authStatus(): Promise<{ state: string | null; text: string }> {
    const box = this.page.locator('#oura-auth-status');
    return { state: await box.getAttribute('data-state'), text: (await box.innerText()).trim() };
  }

  /**
   * Clicks Authorize, accepts in the consent popup, waits for the package's callback page and for the dialog's
   * status to turn "authorized" without a reload.
   */
  async authorize(): Promise<AuthorizeResult> {
    const popupEvent = this.context.waitForEvent('page', { timeout: 20000 });
    await this.page.locator('#oura-authorize').click();
    const popup = await popupEvent;
    const closed = new Promise<boolean>((resolve) => popup.once('close', () => resolve(true)));
    // The current authorization server's consent page (moi.ouraring.com's path, played by the simulator).
    await popup.waitForURL((u) => u.pathname.endsWith('/oauth/v2/ext/oauth-authorize'), { timeout: 20000 });
    const callback = popup.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/oura/auth/callback'), { timeout: 20000 });
    await popup.getByRole('button', { name: 'Accept', exact: true }).click();
    const response = await callback;
    const result: AuthorizeResult = {
      callbackUrl: response.url(),
      callbackStatus: response.status(),
      callbackText: await response.text().catch(() => ''),
      statusText: '',
      closedItself: false,
    };
    if (!popup.isClosed()) {
      const visible = await popup.locator('body').innerText({ timeout: 5000 }).catch(() => '');
      if (visible) result.callbackText = visible;
    }
    if (result.callbackStatus !== 200) {
      throw new Error(`callback page ${result.callbackUrl} answered ${result.callbackStatus}: ${result.callbackText.slice(0, 500)}`);
    }
    await this.settledAuthStatus();
    const status = await this.authStatus();
    if (status.state !== 'authorized') {
      throw new Error(`#oura-auth-status is data-state="${status.state}" after consent: ${status.text}`);
    }
    result.statusText = status.text;
    // The success page closes its window after a moment and a half.
    result.closedItself = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 10000))]);
    if (!popup.isClosed()) await popup.close();
    return result;
  }

  /** In an open node dialog: picks an existing account in the `property` config select. */
  async selectAccount(accountId: string, property = 'account'): Promise<void> {
    await this.page.locator(`#node-input-${property}`).selectOption(accountId);
  }

  /**
   * Authorizes with a Redirect URI that cannot be reached (registered only because Oura's portal accepts it): types it
   * into the open account dialog, clicks Authorize and Accept, reads the address the consent window ends on (what the
   * user copies from its address bar), closes the window and pastes that address into Finish by hand.
   */
  async authorizeByHand(redirectUri: string): Promise<{ pasted: string; statusText: string }> {
    await this.page.locator('#node-config-input-redirectUri').fill(redirectUri);
    const popupEvent = this.context.waitForEvent('page', { timeout: 20000 });
    await this.page.locator('#oura-authorize').click();
    const popup = await popupEvent;
    await popup.waitForURL((u) => u.pathname.endsWith('/oauth/v2/ext/oauth-authorize'), { timeout: 20000 });
    const landed = popup.waitForRequest((r) => r.url().startsWith(redirectUri), { timeout: 20000 });
    await popup.getByRole('button', { name: 'Accept', exact: true }).click();
    const pasted = (await landed).url();
    await popup.close();
    await this.page.locator('#oura-paste-url').fill(pasted);
    await this.page.locator('#oura-paste-submit').click();
    await this.settledAuthStatus();
    const status = await this.authStatus();
    if (status.state !== 'authorized') throw new Error(`#oura-auth-status is data-state="${status.state}" after Finish: ${status.text}`);
    return { pasted, statusText: status.text };
  }

  /**
   * In an open account dialog that shows the account authorized: clicks Disconnect and waits for the dialog's answer.
   * (Waiting for "authorized" first keeps the dialog's own status request from landing after the disconnect's.)
   */
  async disconnect(): Promise<{ state: string | null; text: string }> {
    await this.page.locator('#oura-auth-status[data-state="authorized"]').waitFor({ state: 'attached' });
    await this.page.locator('#oura-disconnect').click();
    await this.page.locator('#oura-auth-status:not([data-state="authorized"])').waitFor({ state: 'attached' });
    return this.authStatus();
  }

  /** Types `uri` into the open account dialog's Redirect URI field (where Oura is to send the browser back). */
  async typeRedirectUri(uri: string): Promise<void> {
    await this.page.locator('#node-config-input-redirectUri').fill(uri);
  }

  /** Clicks Cancel in the config node dialog, then in the node's edit tray: the flow stays as deployed. */
  async cancelDialogs(): Promise<void> {
    await this.page.locator('#node-config-dialog-cancel').click();
    await this.page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
    await this.page.locator('#node-dialog-cancel').click();
    await this.page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
  }

  /** Clicks Add/Update in the config node dialog. */
  async closeConfigDialog(): Promise<void> {
    await this.page.locator('#node-config-dialog-ok').click();
    await this.page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
  }

  /**
   * Clicks Deploy and waits for the editor's confirmation and for the runtime to restart the flows. Fails when Deploy
   * asks for confirmation (unknown or invalid nodes); returns the success notice, which also names unused config nodes.
   */
  async deploy(): Promise<string> {
    const success = this.page.locator('.red-ui-notification', { hasText: 'Successfully deployed' });
    // The notice of an earlier deploy would pass for this one's: wait until it has faded (a few seconds at most).
    await waitFor(async () => (await success.count()) === 0, { timeoutMs: 15000, message: 'the notice of an earlier deploy did not fade' });
    const mark = this.nr.process.mark();
    await this.page.locator('#red-ui-header-button-deploy').click();
    const warning = this.page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
    await success.or(warning).first().waitFor({ state: 'visible', timeout: 30000 });
    if (await warning.isVisible()) {
      const text = await this.page.locator('.red-ui-notification').last().innerText();
      throw new Error(`Deploy asked for confirmation instead of deploying: ${text}`);
    }
    const notice = await success.last().innerText();
    await this.page.waitForFunction(() => (globalThis as any).$('#red-ui-header-button-deploy').hasClass('disabled'));
    await this.nr.process.waitForLine(/\] Started (flows|modified flows|modified nodes)/, 30000, mark);
    return notice;
  }

  /** Deploy menu > Restart Flows: the runtime stops the flows and reloads them (and their credentials) from disk. */
  async restartFlows(): Promise<void> {
    const mark = this.nr.process.mark();
    await this.page.locator('#red-ui-header-button-deploy-options').click();
    await this.page.locator('#deploymenu-item-reload').click();
    await this.page.locator('.red-ui-notification', { hasText: 'Successfully restarted flows' }).waitFor({ state: 'visible', timeout: 30000 });
    await this.nr.process.waitForLine(/\] Started flows/, 30000, mark);
  }

  /** Menu > Export > "all flows": the JSON the export dialog offers to copy. */
  async exportAllFlows(): Promise<string> {
    await this.mainMenu('menu-item-export');
    await this.page.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    const text = this.page.locator('#red-ui-clipboard-dialog-export-text');
    await this.page.waitForFunction(() => /"type"\s*:/.test((globalThis as any).$('#red-ui-clipboard-dialog-export-text').val() || ''));
    const json = await text.inputValue();
    await this.page.locator('#red-ui-clipboard-dialog-cancel').click();
    return json;
  }

  /** Ids of the nodes of `type` the editor currently holds. */
  async nodeIds(type: string): Promise<string[]> {
    return this.page.evaluate(
      (t) => {
        const RED = (globalThis as any).RED;
        const ids: string[] = [];
        RED.nodes.eachConfig((n: any) => {
          if (n.type === t) ids.push(n.id);
        });
        RED.nodes.eachNode((n: any) => {
          if (n.type === t) ids.push(n.id);
        });
        return ids;
      },
      type,
    );
  }
}
