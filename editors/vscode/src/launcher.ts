// How the extension starts its helper: `ticktick.helperCommand` when set; else the helper bundled in the
// .vsix, run by the first Python >= 3.10 among `ticktick.pythonPath`, the Python extension's interpreter
// (opted in, and only when that extension is already active) and PATH. The probing itself is plain Node (helper/python.ts); this layer reads VS Code's side of it.

import type { PythonExtension } from '@vscode/python-extension';
import { readFileSync } from 'fs';
import { join } from 'path';
import * as vscode from 'vscode';

import { commandLauncher, HelperLaunch, Logger } from './helper/client';
import { HelperUnavailableError } from './helper/errors';
import { bundledHelperArgv, Candidate, describeTried, findPython, pathCandidates, probePython } from './helper/python';

const PYTHON_EXTENSION_ID = 'ms-python.python';

export interface LaunchSettings {
  helperCommand: string;
  pythonPath: string;
  usePythonExtension: boolean;
}

export function readLaunchSettings(): LaunchSettings {
  const config = vscode.workspace.getConfiguration('ticktick');
  return {
    helperCommand: config.get<string>('helperCommand', '').trim(),
    pythonPath: config.get<string>('pythonPath', '').trim(),
    usePythonExtension: config.get<boolean>('usePythonExtension', false),
  };
}

function isBundle(value: unknown): value is { helperVersion: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { helperVersion?: unknown }).helperVersion === 'string'
  );
}

/** What is in the .vsix: bundled/bundle.json, written by scripts/bundle.mjs. */
export function readBundle(extensionPath: string): { helperVersion: string } | undefined {
  try {
    const bundle = JSON.parse(readFileSync(join(extensionPath, 'bundled', 'bundle.json'), 'utf8')) as unknown;
    return isBundle(bundle) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

export class HelperLauncher implements vscode.Disposable {
  /** The last launch found, reused until a setting or the Python extension's interpreter changes. */
  private cached: Promise<HelperLaunch> | undefined;
  private watchingPythonExtension = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionPath: string,
    private readonly log: Logger,
    /** Called when the interpreter to use may have changed: the extension restarts its helper. */
    private readonly onDidChange: () => void,
    /** Where this extension runs (extensionKind ui first: on the user's machine, next to the browser). */
    private readonly ownKind?: vscode.ExtensionKind,
  ) {}

  /** The HelperClient's launcher: asked each time a helper starts. */
  readonly launch = (): Promise<HelperLaunch> => {
    if (!this.cached) {
      const attempt = this.find();
      this.cached = attempt;
      // A failed search is not kept: the next start looks again (Python may have been installed since).
      attempt.catch(() => {
        if (this.cached === attempt) {
          this.cached = undefined;
        }
      });
    }
    return this.cached;
  };

  /** Forget the interpreter found, so that the next start looks again. */
  reset(): void {
    this.cached = undefined;
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  private async find(): Promise<HelperLaunch> {
    const settings = readLaunchSettings();
    if (settings.helperCommand) {
      this.log.info('Using the helper command of the "ticktick.helperCommand" setting.');
      return commandLauncher(settings.helperCommand)();
    }
    const bundle = readBundle(this.extensionPath);
    if (!bundle) {
      throw new HelperUnavailableError(
        'bundled helper',
        'spawnFailed',
        'bundled/bundle.json is missing from the extension',
        null,
        true,
      );
    }
    const { found, tried } = await findPython(this.candidates(settings), (argv) => probePython(argv));
    for (const { candidate, result } of tried) {
      this.log.info(`Not using ${candidate.label}: ${result.ok ? result.version : result.detail}.`);
    }
    if (!found) {
      throw new HelperUnavailableError('bundled helper', 'noPython', describeTried(tried), null, true);
    }
    this.log.info(
      `Python ${found.version} (${found.executable}, from ${found.candidate.label}) runs the bundled helper ticktick-signon ${bundle.helperVersion}.`,
    );
    const argv = bundledHelperArgv(found.executable, this.extensionPath);
    return { argv, display: `${found.executable} -I -B bundled/tool/bootstrap.py`, bundled: true };
  }

  /**
   * The order: the setting; the Python extension's interpreter only when the user opted in
   * (`ticktick.usePythonExtension`: a repository's .venv should not run a credential helper by default) and
   * that extension is already active (it is never activated or waited for); then PATH.
   */
  private async *candidates(settings: LaunchSettings): AsyncGenerator<Candidate> {
    if (settings.pythonPath) {
      yield { source: 'setting', label: `ticktick.pythonPath "${settings.pythonPath}"`, argv: [settings.pythonPath] };
    }
    if (settings.usePythonExtension) {
      const fromExtension = await this.pythonExtensionCandidate();
      if (fromExtension) {
        yield fromExtension;
      }
    }
    yield* pathCandidates();
  }

  /** The interpreter selected in the Python extension, when that extension is installed (never required). */
  private async pythonExtensionCandidate(): Promise<Candidate | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtension>(PYTHON_EXTENSION_ID);
    if (!extension) {
      return undefined;
    }
    if (this.ownKind !== undefined && extension.extensionKind !== this.ownKind) {
      // In a remote window the Python extension runs in the other extension host: its API is not ours to
      // call, and waiting for it would only delay the helper.
      this.log.info('The Python extension runs in the other extension host; not waiting for it.');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      // A workspace's own settings can choose that interpreter: not in a workspace the user has not trusted.
      this.log.info("The workspace is not trusted: the Python extension's interpreter is not used.");
      return undefined;
    }
    if (!extension.isActive) {
      // Activating it would start its whole environment discovery, for seconds, before our first session.
      this.log.info('The Python extension is not active (yet); not activating it, looking on PATH.');
      return undefined;
    }
    try {
      const api = extension.exports;
      if (!api) {
        this.log.warn('The Python extension is active but offers no API; looking on PATH.');
        return undefined;
      }
      this.watchPythonExtension(api);
      const active = api.environments.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
      const executable = (await api.environments.resolveEnvironment(active))?.executable.uri?.fsPath;
      if (!executable) {
        this.log.info(`The Python extension's environment (${active.path}) has no interpreter to run.`);
        return undefined;
      }
      return {
        source: 'pythonExtension',
        label: `the Python extension's interpreter "${executable}"`,
        argv: [executable],
      };
    } catch (error) {
      this.log.warn(`The Python extension's API failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  private watchPythonExtension(api: PythonExtension): void {
    if (this.watchingPythonExtension) {
      return;
    }
    this.watchingPythonExtension = true;
    this.disposables.push(
      api.environments.onDidChangeActiveEnvironmentPath(() => {
        const settings = readLaunchSettings();
        if (!settings.helperCommand && !settings.pythonPath && settings.usePythonExtension) {
          this.log.info("The Python extension's interpreter changed; the helper restarts with it.");
          this.reset();
          this.onDidChange();
        }
      }),
    );
  }
}
