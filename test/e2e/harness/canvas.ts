// The editor beyond node dialogs, as a user works it: a package's example imported from the Import menu, inject
// buttons, node statuses and the invalid-node triangle on the canvas, the Debug sidebar, Deploy's confirmation.
// Like editor.ts, page.evaluate only reads the editor's state.
import { Locator } from 'playwright-core';
import { Editor } from './editor';
import { waitFor } from './wait';

/**
 * Menu > Import > Examples > flows > `moduleName` > `example`, imported into a new flow and placed on its canvas.
 * Returns the new flow's id (the flow shown afterwards).
 */
export async function importExample(editor: Editor, moduleName: string, example: string): Promise<string> {
  const page = editor.page;
  const before = await activeFlow(editor);
  await editor.mainMenu('menu-item-import');
  await page.locator('#red-ui-clipboard-dialog-import-tabs').getByText('Examples', { exact: true }).click();
  const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  // The dialog lists each module's folder collapsed the first time; opening it loads the module's example names.
  // Later it may still be open (a click would close it), and on a loaded machine the tree can redraw after a click on
  // an example, which then is not selected: the example is clicked until Import is enabled (it enables for a flow).
  const item = tree.getByText(example, { exact: true });
  if (!(await item.isVisible())) await tree.getByText(moduleName, { exact: true }).click();
  const ok = page.locator('#red-ui-clipboard-dialog-ok');
  for (let attempt = 1; ; attempt++) {
    await item.click();
    try {
      await waitFor(() => ok.isEnabled(), { timeoutMs: 10_000, message: `Import stayed disabled after a click on "${example}"` });
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  await page.locator('#red-ui-clipboard-dialog-import-opt-new').click();
  await ok.click();
  await editor.placeImported();
  const flow = await activeFlow(editor);
  if (!flow || flow === before) throw new Error(`importing the example "${example}" into a new flow did not show a new flow`);
  return flow;
}

export async function activeFlow(editor: Editor): Promise<string> {
  return editor.page.evaluate(() => (globalThis as any).RED.workspaces.active());
}

/** Shows a flow by clicking its tab, then Menu > Flows > Delete: deletes the flow with its nodes. */
export async function deleteFlow(editor: Editor, flow: string): Promise<void> {
  await editor.page.locator(`#red-ui-tab-${flow} a.red-ui-tab-label`).click();
  await editor.page.waitForFunction((id) => (globalThis as any).RED.workspaces.active() === id, flow);
  await editor.page.locator('#red-ui-header-button-sidemenu').click();
  await editor.page.locator('#menu-item-workspace').hover();
  await editor.page.locator('#menu-item-workspace-delete').click();
  await editor.page.waitForFunction((id) => !(globalThis as any).RED.nodes.workspace(id), flow);
}

/** What the editor holds of a node (read-only): its properties and whether the editor finds it valid. */
export async function nodeState(editor: Editor, id: string): Promise<{ type: string; z?: string; name?: string; account?: string; valid: boolean; validationErrors: string[] }> {
  const state = await editor.page.evaluate((nodeId) => {
    const n = (globalThis as any).RED.nodes.node(nodeId);
    if (!n) return undefined;
    return { type: n.type, z: n.z, name: n.name, account: n.account, valid: n.valid !== false, validationErrors: [...(n.validationErrors ?? [])] };
  }, id);
  if (!state) throw new Error(`the editor holds no node ${id}`);
  return state;
}

function nodeOnCanvas(editor: Editor, id: string): Locator {
  return editor.page.locator(`#red-ui-workspace-chart g.red-ui-flow-node[id="${id}"]`);
}

/**
 * Clicks the button left of an inject node on the canvas and waits for the editor's "Successfully injected" notice.
 * The button works only for a deployed node: it waits until the editor enables it.
 */
export async function clickInject(editor: Editor, id: string, label: string): Promise<void> {
  const button = nodeOnCanvas(editor, id).locator('g.red-ui-flow-node-button');
  await waitFor(async () => !/red-ui-flow-node-button-disabled/.test((await button.getAttribute('class')) ?? ''), {
    timeoutMs: 10000,
    message: `the button of inject node "${label}" stays disabled (not deployed?)`,
  });
  await button.locator('rect.red-ui-flow-node-button-button').click();
  await editor.page.locator('.red-ui-notification', { hasText: `Successfully injected: ${label}` }).first().waitFor({ state: 'visible' });
}

export interface NodeStatus {
  /** the status text under the node, '' when it shows none */
  text: string;
  /** e.g. "green", "yellow", "red" ('' when none) */
  fill: string;
  /** "dot" or "ring" ('' when none) */
  shape: string;
}

/** The status shown under a node of the flow on display. */
export async function statusOf(editor: Editor, id: string): Promise<NodeStatus> {
  const group = nodeOnCanvas(editor, id).locator('g.red-ui-flow-node-status-group');
  if ((await group.count()) === 0 || !(await group.isVisible())) return { text: '', fill: '', shape: '' };
  const text = ((await group.locator('text.red-ui-flow-node-status-label').textContent()) ?? '').trim();
  const cls = (await group.locator('rect.red-ui-flow-node-status').getAttribute('class')) ?? '';
  const m = /red-ui-flow-node-status-(dot|ring)-(\w+)/.exec(cls);
  return { text, shape: m ? m[1] : '', fill: m ? m[2] : '' };
}

/** Waits until the node's status matches; the error names what it showed last. */
export async function waitForStatus(editor: Editor, id: string, want: { text: RegExp; fill?: string }, timeoutMs = 45000): Promise<NodeStatus> {
  let last: NodeStatus = { text: '', fill: '', shape: '' };
  return waitFor(
    async () => {
      last = await statusOf(editor, id);
      return want.text.test(last.text) && (!want.fill || last.fill === want.fill) ? last : undefined;
    },
    { timeoutMs, intervalMs: 250, message: () => `node ${id}: status ${want.fill ?? ''} ${want.text} expected, it shows ${last.fill || '-'} "${last.text}"` },
  );
}

/** Whether the node shows the red triangle of an invalid node, and the reason its tooltip gives when hovered. */
export async function invalidMark(editor: Editor, id: string): Promise<{ shown: boolean; tooltip: string }> {
  const mark = nodeOnCanvas(editor, id).locator('g.red-ui-flow-node-error');
  const shown = !/\bhide\b/.test((await mark.getAttribute('class')) ?? 'hide');
  if (!shown) return { shown, tooltip: '' };
  await mark.locator('path').hover();
  // The canvas draws the tooltip itself, a line of SVG text per reason.
  const tip = editor.page.locator('#red-ui-workspace-chart g.red-ui-flow-port-tooltip');
  await tip.waitFor({ state: 'visible' });
  const tooltip = (await tip.locator('text').allTextContents()).join('\n');
  await editor.page.mouse.move(5, 5);
  await tip.waitFor({ state: 'detached' });
  return { shown, tooltip };
}

/** Clicks Deploy expecting Deploy's confirmation (invalid or unknown nodes); returns its text and clicks Cancel. */
export async function deployConfirmation(editor: Editor): Promise<string> {
  const page = editor.page;
  await page.locator('#red-ui-header-button-deploy').click();
  const confirm = page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
  await confirm.waitFor({ state: 'visible' });
  const notice = page.locator('.red-ui-notification', { has: confirm });
  const text = await notice.innerText();
  await notice.getByRole('button', { name: 'Cancel', exact: true }).click();
  await confirm.waitFor({ state: 'detached' });
  return text;
}

/** Shows the Debug sidebar: its tab in Node-RED 4, its button below the sidebars in Node-RED 5. */
export async function openDebugSidebar(editor: Editor): Promise<void> {
  const page = editor.page;
  const button5 = page.locator('button[data-tab-id="debug"]');
  if ((await button5.count()) > 0) {
    if (!/\bselected\b/.test((await button5.getAttribute('class')) ?? '')) await button5.click();
  } else {
    await page.locator('#red-ui-tab-debug-link-button').click();
  }
  await page.locator('.red-ui-debug-content-list').waitFor({ state: 'visible' });
}

/** The messages the Debug sidebar lists from this node (a debug node's output, or a node's errors and warnings). */
export function debugMessages(editor: Editor, sourceId: string): Locator {
  return editor.page.locator(`.red-ui-debug-content-list .red-ui-debug-msg.red-ui-debug-msg-node-${sourceId.replace(/\./g, '_')}`);
}

/** Waits for at least one message from this node in the Debug sidebar; returns the newest one. */
export async function waitForDebugMessage(editor: Editor, sourceId: string, timeoutMs = 45000): Promise<Locator> {
  const messages = debugMessages(editor, sourceId);
  await waitFor(async () => (await messages.count()) > 0, { timeoutMs, message: `the Debug sidebar shows no message from node ${sourceId}` });
  return messages.last();
}

/**
 * Unfolds a message in the Debug sidebar as a user does, a click on the first folded part at a time (the message, its
 * first property or element, a range of an array...), until its visible text shows `wanted` or nothing is folded;
 * returns the text.
 */
export async function unfoldedText(message: Locator, wanted?: RegExp, clicks = 6): Promise<string> {
  for (let i = 0; i < clicks; i++) {
    const text = await message.innerText();
    if (wanted && wanted.test(text)) return text;
    // Every foldable part has a clickable header inside a container marked "collapsed" while folded.
    const header = message.locator('.collapsed > .red-ui-debug-msg-expandable').first();
    if ((await header.count()) === 0) return text;
    const part = (await header.locator('xpath=..').elementHandle())!;
    await header.click();
    await waitFor(async () => !/\bcollapsed\b/.test((await part.getAttribute('class')) ?? ''), { timeoutMs: 5000, message: 'the debug message did not unfold' });
    await part.dispose();
  }
  return message.innerText();
}
