// The `oura webhook` node's dialog, driven as a user drives it: its Subscriptions part lists, creates, renews and
// deletes the Oura application's webhook subscriptions through the package's admin routes.
import { Editor } from './editor';

export interface ListedSubscription {
  id: string;
  dataType: string;
  eventType: string;
  /** "this node" for the deployed node's own callback URL, else the URL */
  callback: string;
}

/** An `oura webhook` node with no account and no public base URL yet: the dialog sets them. */
export function webhookFlow(id: string): object[] {
  return [
    {
      id,
      type: 'oura webhook',
      name: '',
      account: '',
      path: '/oura/webhook',
      baseUrl: '',
      fetch: false,
      maxAge: '',
      subscribe: false,
      eventTypes: ['create', 'update'],
      dataTypes: ['daily_sleep', 'daily_readiness', 'daily_activity'],
      x: 140,
      y: 320,
      wires: [[]],
    },
  ];
}

const TRANSIENT = /^(Loading|Working|Creating)/;

export class WebhookDialog {
  constructor(private readonly editor: Editor) {}

  private get page() {
    return this.editor.page;
  }

  /** Imports the node, picks the account and types the public base URL in its dialog, then deploys. */
  async addAndDeploy(nodeId: string, accountId: string, baseUrl: string): Promise<void> {
    await this.editor.importFlow(webhookFlow(nodeId));
    await this.editor.openNode(nodeId);
    await this.editor.selectAccount(accountId);
    await this.page.locator('#node-input-baseUrl').fill(baseUrl);
    await this.editor.closeNodeDialog();
    await this.editor.deploy();
  }

  /**
   * Opens the deployed node's dialog and waits until it has asked the runtime what the node serves ("Create now" is
   * enabled, and titled with the deployed callback URL, only then) and has listed the subscriptions.
   */
  async open(nodeId: string): Promise<string> {
    await this.editor.openNode(nodeId);
    await this.page.locator('#oura-webhook-create[title^="Create the ticked subscriptions for "]:enabled').waitFor({ state: 'visible' });
    return this.settledStatus();
  }

  /** The callback URL the dialog shows. */
  async callbackUrl(): Promise<string> {
    return this.page.locator('#oura-webhook-url').inputValue();
  }

  /** Ticks exactly these event and data types. */
  async tick(eventTypes: string[], dataTypes: string[]): Promise<void> {
    for (const [cls, wanted] of [['oura-webhook-event', eventTypes], ['oura-webhook-data', dataTypes]] as const) {
      const boxes = this.page.locator(`input.${cls}`);
      for (let i = 0; i < (await boxes.count()); i++) {
        const box = boxes.nth(i);
        await box.setChecked(wanted.includes((await box.getAttribute('value')) ?? ''));
      }
    }
  }

  /** Clicks "Create now"; returns the status line once the dialog has listed the subscriptions again. */
  async create(): Promise<string> {
    await this.page.locator('#oura-webhook-create').click();
    return this.settledStatus();
  }

  async renew(id: string): Promise<string> {
    await this.page.locator(`#oura-webhook-subs tr[data-id="${id}"] .oura-webhook-renew`).click();
    return this.settledStatus();
  }

  async delete(id: string): Promise<string> {
    await this.page.locator(`#oura-webhook-subs tr[data-id="${id}"] .oura-webhook-delete`).click();
    return this.settledStatus();
  }

  /** The table's rows. */
  async listed(): Promise<ListedSubscription[]> {
    const rows = this.page.locator('#oura-webhook-subs tr[data-id]');
    const out: ListedSubscription[] = [];
    for (let i = 0; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      const cells = await row.locator('td').allInnerTexts();
      out.push({ id: (await row.getAttribute('data-id')) ?? '', dataType: cells[0].trim(), eventType: cells[1].trim(), callback: cells[2].trim() });
    }
    return out;
  }

  /**
   * The status line under the buttons once no request of the dialog is under way: a click sets "Creating…" or
   * "Working…" at once, and every answer either lists again ("Loading…") or shows the outcome.
   */
  private async settledStatus(): Promise<string> {
    const status = this.page.locator('#oura-webhook-subs-status');
    await this.page.waitForFunction(
      (re) => {
        const text = ((globalThis as any).document.querySelector('#oura-webhook-subs-status')?.textContent ?? '').trim();
        return text !== '' && !new RegExp(re).test(text);
      },
      TRANSIENT.source,
      { timeout: 30000, polling: 100 },
    );
    return (await status.innerText()).trim();
  }
}
