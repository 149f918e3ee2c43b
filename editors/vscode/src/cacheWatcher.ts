// Interim source of cross-process changes, until the helper's `tokenChanged` notification is on main:
// watches the helper's cache file, so a sign-in or sign-out by the CLI, another window or Neovim reaches
// the status bar and the sessions. (The issue allows it until then; remove it with that change.)

import { basename, dirname } from 'path';
import * as vscode from 'vscode';

const SETTLE_MS = 150;

export class CacheWatcher implements vscode.Disposable {
  private path: string | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onDidChange: () => void) {}

  /** Watch this cache file (from getStatus's configPath); the same path again is a no-op. */
  watch(configPath: string): void {
    if (configPath === this.path) {
      return;
    }
    this.watcher?.dispose();
    this.path = configPath;
    this.watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(dirname(configPath)), basename(configPath)),
    );
    const changed = () => {
      // An atomic write is a create and a change (or a delete and a create): tell once.
      clearTimeout(this.timer);
      this.timer = setTimeout(this.onDidChange, SETTLE_MS);
    };
    this.watcher.onDidCreate(changed);
    this.watcher.onDidChange(changed);
    this.watcher.onDidDelete(changed);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.watcher?.dispose();
  }
}
