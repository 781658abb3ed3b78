// Another web site a Node-RED user may visit while the editor is open: http://127.0.0.1:<port>, a different site from
// the editor's http://localhost:<port>. It serves plain HTML forms that post to the editor's admin routes, as a
// malicious page would (no script, no CORS: only what any page can make a browser send).
import * as http from 'http';
import { BrowserContext } from 'playwright-core';
import { freePort } from './http';

export interface FormSubmission {
  /** the status of the browser's request to the form's action, as the browser received it */
  status: number;
  /** the answer's body (the JSON error of the admin route) */
  text: string;
  /** the Origin header the browser sent with it */
  origin: string | null;
  /** the Content-Type the browser sent with it */
  contentType: string | null;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export class OtherSite {
  private readonly pages = new Map<string, string>();
  private nextPage = 0;

  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<OtherSite> {
    const port = await freePort();
    let site: OtherSite | undefined;
    const server = http.createServer((req, res) => {
      const html = site?.pages.get(new URL(req.url ?? '/', 'http://x').pathname);
      res.writeHead(html === undefined ? 404 : 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html ?? 'not found');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    site = new OtherSite(server, `http://127.0.0.1:${port}`);
    return site;
  }

  /**
   * Opens, in the user's browser, a page of this site holding a plain HTML form (method POST, urlencoded) with `fields`
   * aimed at `action`, clicks its button as a lured user would, and returns what the browser got back from `action`.
   */
  async submitForm(context: BrowserContext, action: string, fields: Record<string, string>): Promise<FormSubmission> {
    const path = `/form-${++this.nextPage}`;
    const inputs = Object.entries(fields)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('\n    ');
    this.pages.set(
      path,
      `<!doctype html><html><head><meta charset="utf-8"><title>You won!</title></head><body>
  <form method="POST" action="${escapeHtml(action)}">
    ${inputs}
    <button type="submit" id="claim">Claim your prize</button>
  </form>
</body></html>`,
    );
    const page = await context.newPage();
    try {
      await page.goto(`${this.origin}${path}`);
      const answered = page.waitForResponse((r) => r.url() === action && r.request().method() === 'POST', { timeout: 20000 });
      await page.locator('#claim').click();
      const response = await answered;
      const request = response.request();
      return {
        status: response.status(),
        text: await response.text().catch(() => ''),
        origin: await request.headerValue('origin'),
        contentType: await request.headerValue('content-type'),
      };
    } finally {
      await page.close();
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
