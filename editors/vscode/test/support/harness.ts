// The extension activated in the fake `vscode` over the real helper and sandbox: what the command-layer
// suites share (activation in a private cache folder, the user's browser, waiting, finding helper processes).

import {
  FakeContext,
  fakeContext,
  FakeExtension,
  FakeMemento,
  FakeState,
  RegisteredProvider,
  resetFake,
} from './fakeVscode';

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import * as extension from '../../src/extension';
import {
  approve,
  approveAndFollow,
  freePort,
  helperCommand,
  isolatedEnv,
  Sandbox,
  SANDBOX_CLIENT,
  tempDir,
} from './helper';

export async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      assert.fail(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Child processes of this test process that run a helper (`ticktick_signon serve` or the bundled bootstrap). */
export function helperPids(): number[] {
  let out = '';
  try {
    // Tests may empty PATH for the extension host: find ps where it lives.
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    });
  } catch {
    return [];
  }
  return out
    .split('\n')
    .filter((line) => /ticktick[-_]signon.* serve|bundled\/tool\/bootstrap\.py/.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

export interface HarnessOptions {
  /** `ticktick.helperCommand`; null leaves it unset, so the bundled helper runs. Default: the test helper. */
  helperCommand?: string | null;
  /** More settings, e.g. `ticktick.pythonPath`. */
  settings?: Record<string, unknown>;
  /** The workspace's own settings (.vscode/settings.json), honoured as VS Code would. */
  workspaceSettings?: Record<string, unknown>;
  /** More environment for the extension host (and so the helper), e.g. PATH. */
  env?: Record<string, string>;
  /** Other installed extensions (the Python extension), by id. */
  extensions?: Record<string, FakeExtension>;
  /** The workspace is not trusted. */
  untrusted?: boolean;
  /** context.globalState carried over from an earlier activation (a VS Code restart). */
  globalState?: FakeMemento;
  /** Wait for this status-bar text after activation (default: the signed-out call to action). */
  firstStatus?: RegExp | null;
}

export class ExtensionHarness {
  /** Every secret the test used: none may reach a message or the log. */
  readonly secretsSeen: string[] = [SANDBOX_CLIENT.clientSecret];
  api!: extension.TickTickSignonApi;

  private constructor(
    readonly sandbox: Sandbox,
    readonly config: { path: string; remove(): void },
    readonly fake: FakeState,
    readonly context: FakeContext,
    private readonly savedEnv: NodeJS.ProcessEnv,
  ) {}

  /** Activate the extension with the sandbox, a private cache, client id and redirect URL set. */
  static async start(sandbox: Sandbox, options: HarnessOptions = {}): Promise<ExtensionHarness> {
    const config = tempDir('tt-commands-');
    // The extension host's environment is the helper's: point it at the sandbox and a private cache.
    const savedEnv = process.env;
    process.env = isolatedEnv(config.path, sandbox.baseUrl, options.env);
    const fake = resetFake();
    if (options.helperCommand !== null) {
      fake.config.set('ticktick.helperCommand', options.helperCommand ?? helperCommand());
    }
    fake.config.set('ticktick.clientId', SANDBOX_CLIENT.clientId);
    fake.config.set('ticktick.redirectUrl', `http://127.0.0.1:${await freePort()}/callback`);
    for (const [key, value] of Object.entries(options.settings ?? {})) {
      fake.config.set(key, value);
    }
    for (const [key, value] of Object.entries(options.workspaceSettings ?? {})) {
      fake.workspaceConfig.set(key, value);
    }
    fake.workspaceTrusted = !options.untrusted;
    for (const [id, installed] of Object.entries(options.extensions ?? {})) {
      fake.extensions.set(id, installed);
    }
    const context = fakeContext();
    if (options.globalState) {
      context.globalState = options.globalState;
    }
    const harness = new ExtensionHarness(sandbox, config, fake, context, savedEnv);
    harness.api = extension.activate(harness.context as never);
    if (options.firstStatus !== null) {
      await harness.statusText(options.firstStatus ?? /TickTick: Sign in$/);
    }
    return harness;
  }

  /** Deactivate, restore the environment, and prove no secret reached a message or the log. */
  async stop(): Promise<void> {
    await extension.deactivate();
    this.context.subscriptions.forEach((d) => d.dispose());
    process.env = this.savedEnv;
    this.config.remove();
    const shown = this.fake.allText();
    for (const secret of this.secretsSeen) {
      assert.ok(!shown.includes(secret), `a secret or token reached a message or the log: ${secret.slice(0, 4)}…`);
    }
    assert.ok(!/[?&]code=[\w-]{3,}/.test(shown), 'an authorization code reached a message or the log');
  }

  item() {
    assert.equal(this.fake.statusItems.length, 1);
    return this.fake.statusItems[0];
  }

  async statusText(pattern: RegExp, ms = 15_000): Promise<void> {
    await until(
      `status bar ${pattern} (it shows ${JSON.stringify(this.fake.statusItems.map((s) => s.text))})`,
      () => this.fake.statusItems.length === 1 && pattern.test(this.item().text),
      ms,
    );
  }

  run(command: string): Promise<unknown> {
    const registered = this.fake.commands.get(command);
    assert.ok(registered, `${command} is not registered`);
    return Promise.resolve(registered());
  }

  /** The `ticktick` authentication provider the extension registered. */
  provider(): RegisteredProvider['provider'] {
    const found = this.fake.authProviders.find((p) => p.id === 'ticktick');
    assert.ok(found, 'no ticktick authentication provider was registered');
    return found.provider;
  }

  /** The user's browser: approve on the sandbox page, then land on the helper's loopback listener. */
  browserFollowsRedirect(decision: 'allow' | 'deny' = 'allow'): Promise<{ status: number; title: string }> {
    return new Promise((resolve, reject) => {
      this.fake.openExternal = (url) => {
        approveAndFollow(url, decision).then(resolve, reject);
        return true;
      };
    });
  }

  /** The user's browser on another machine: approve, then the user copies the address. */
  browserStopsAtRedirect(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.fake.openExternal = (url) => {
        approve(url, 'allow').then(resolve, reject);
        return true;
      };
    });
  }

  answerSecret(secret = SANDBOX_CLIENT.clientSecret): void {
    this.fake.answerInput = (input) => (input.password ? secret : undefined);
  }

  /** A whole sign-in by loopback through the Sign In command; returns the token. */
  async signInByLoopback(): Promise<string> {
    this.answerSecret();
    const page = this.browserFollowsRedirect();
    await this.run('ticktick.signIn');
    assert.equal((await page).status, 200);
    const token = await this.api.getToken();
    this.secretsSeen.push(token.accessToken);
    return token.accessToken;
  }
}
