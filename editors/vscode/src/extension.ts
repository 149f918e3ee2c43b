// Entry point: wires the helper client, the commands, the status bar and the `ticktick` authentication
// provider into VS Code, and returns the API older extensions use (`getToken`, superseded by
// vscode.authentication.getSession). The helper is stopped when the extension deactivates.

import * as vscode from 'vscode';

import { PROVIDER_ID, PROVIDER_LABEL, TickTickAuthProvider } from './authProvider';
import { readSettings, TickTickCommands } from './commands';
import { DEFAULT_RESTART, HelperClient } from './helper/client';
import { HelperLauncher } from './launcher';

export interface TickTickSignonApi {
  /**
   * The token of the configured profile; rejects with a readable message (and `code`) when there is none.
   * @deprecated Superseded by `vscode.authentication.getSession('ticktick', ['tasks:read', 'tasks:write'])`.
   */
  getToken(): Promise<{ accessToken: string; expiresAt: number }>;
}

const STATUS_REFRESH_MS = 30 * 60 * 1000;

let client: HelperClient | undefined;

export function activate(context: vscode.ExtensionContext): TickTickSignonApi {
  const log = vscode.window.createOutputChannel('TickTick Sign-On', { log: true });
  context.subscriptions.push(log);
  const launcher = new HelperLauncher(
    context.extensionPath,
    log,
    () => void restart(),
    context.extension?.extensionKind,
  );
  // A helper that dies is started again (with backoff), so that changes made by the CLI or other editors
  // while none ran are seen: onDidRestart re-reads the sessions and the status bar.
  const helper = new HelperClient({ launch: launcher.launch, log, restart: DEFAULT_RESTART });
  client = helper;
  context.subscriptions.push(launcher, helper);

  const commands = new TickTickCommands(helper, context.secrets, log, context.globalState);
  context.subscriptions.push(commands, ...commands.register());
  const sessions = new TickTickAuthProvider(helper, commands, log, context.globalState, () => readSettings().profile);
  context.subscriptions.push(
    sessions,
    vscode.authentication.registerAuthenticationProvider(PROVIDER_ID, PROVIDER_LABEL, sessions, {
      supportsMultipleAccounts: true,
    }),
  );

  context.subscriptions.push(
    helper.onDidRestart(async () => {
      log.info('The helper runs again; re-reading the sessions and the status.');
      await commands.refreshStatus();
      await sessions.refresh().catch(() => undefined);
    }),
  );

  async function restart(): Promise<void> {
    await helper.stop();
    commands.resetProblems();
    await commands.refreshStatus();
    await sessions.refresh().catch(() => undefined);
  }

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('ticktick.helperCommand') || event.affectsConfiguration('ticktick.pythonPath')) {
        log.info('The helper settings changed; the helper restarts with them.');
        launcher.reset();
        await restart();
      } else if (event.affectsConfiguration('ticktick')) {
        await commands.refreshStatus();
        await sessions.refresh().catch(() => undefined);
      }
    }),
  );
  // Days left change while VS Code stays open.
  const timer = setInterval(() => void commands.refreshStatus(), STATUS_REFRESH_MS);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });

  void commands.refreshStatus();
  log.info('TickTick Sign-On is active.');
  return { getToken: () => commands.getToken() };
}

export async function deactivate(): Promise<void> {
  const running = client;
  client = undefined;
  await running?.close();
}
