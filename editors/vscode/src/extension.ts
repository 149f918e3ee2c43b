// Entry point: wires the helper client, the commands and the status bar into VS Code, and returns
// the API other extensions use (`getToken`). The helper is stopped when the extension deactivates.

import * as vscode from 'vscode';

import { TickTickCommands, readSettings } from './commands';
import { HelperClient } from './helper/client';

export interface TickTickSignonApi {
  /** The token of the configured profile; rejects with a readable message (and `code`) when there is none. */
  getToken(): Promise<{ accessToken: string; expiresAt: number }>;
}

const STATUS_REFRESH_MS = 30 * 60 * 1000;

let client: HelperClient | undefined;

export function activate(context: vscode.ExtensionContext): TickTickSignonApi {
  const log = vscode.window.createOutputChannel('TickTick Sign-On', { log: true });
  context.subscriptions.push(log);
  const helper = new HelperClient({ command: readSettings().helperCommand, log });
  client = helper;
  context.subscriptions.push(helper);

  const commands = new TickTickCommands(helper, context.secrets, log);
  context.subscriptions.push(commands, ...commands.register());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('ticktick.helperCommand')) {
        log.info('The helper command changed; the next request starts the new one.');
        await helper.setCommand(readSettings().helperCommand);
      }
      if (event.affectsConfiguration('ticktick')) {
        await commands.refreshStatus();
      }
    }),
  );
  // Days left change while VS Code stays open; a token written by the CLI shows up too.
  const timer = setInterval(() => void commands.refreshStatus(), STATUS_REFRESH_MS);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });

  void commands.refreshStatus();
  log.info('TickTick Sign-On is active.');
  return { getToken: () => commands.getToken() };
}

export async function deactivate(): Promise<void> {
  const running = client;
  client = undefined;
  await running?.stop();
}
