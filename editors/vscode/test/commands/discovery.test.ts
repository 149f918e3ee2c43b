// Which Python runs the bundled helper: the `ticktick.pythonPath` setting, the Python extension's API,
// PATH, a Python that is too old, and none at all; with no `ticktick.helperCommand`, so the helper that
// runs is the one in bundled/ (scripts/bundle.mjs), over the real sandbox.

import { ExtensionHarness, helperPids, until } from '../support/harness';
import { Emitter, EXTENSION_PATH } from '../support/fakeVscode';

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { findPython, isSupported, pathCandidates, probePython } from '../../src/helper/python';
import {
  approve,
  cliArgv,
  helperCommand,
  isolatedEnv,
  newClient,
  Sandbox,
  SANDBOX_CLIENT,
  tempDir,
} from '../support/helper';

const bundle = JSON.parse(readFileSync(join(EXTENSION_PATH, 'bundled', 'bundle.json'), 'utf8')) as {
  helperVersion: string;
};

/** The interpreter of the test helper (the repository's venv, or the one pytest passes). */
function venvPython(): string {
  const quoted = /^"([^"]+)"/.exec(helperCommand());
  const first = quoted ? quoted[1] : helperCommand().split(' ')[0];
  assert.ok(/python/.test(first), `the test helper command does not start with a Python: ${helperCommand()}`);
  return first;
}

/**
 * A Python without the helper's dependencies (Debian's python3), so a working helper proves the bundle
 * carries them; else the first python3 on PATH, resolved to its real executable (PATH may hold shims).
 */
function bareSystemPython(): string {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      return execFileSync(candidate, ['-I', '-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    } catch {
      // not there
    }
  }
  return venvPython();
}

function processArgs(pid: number): string {
  return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
  }).trim();
}

describe('interpreter discovery for the bundled helper', () => {
  let sandbox: Sandbox;
  let h: ExtensionHarness | undefined;
  let bin: { path: string; remove(): void };

  before(async () => {
    sandbox = await Sandbox.start();
  });
  after(async () => {
    await sandbox.stop();
  });
  beforeEach(() => {
    bin = tempDir('tt-path-');
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    bin.remove();
  });

  /** Put an executable named `name` on the test PATH. */
  function onPath(name: string, target: string): void {
    symlinkSync(target, join(bin.path, name));
  }

  /** A `python3` that answers the probe as an old Python would. */
  function oldPythonOnPath(name: string, version: number[]): void {
    const script = join(bin.path, name);
    writeFileSync(script, `#!/bin/sh\necho '[${JSON.stringify(version)}, "/opt/old/bin/${name}"]'\n`);
    chmodSync(script, 0o755);
  }

  async function start(settings: Record<string, unknown> = {}, firstStatus?: RegExp | null): Promise<ExtensionHarness> {
    h = await ExtensionHarness.start(sandbox, { helperCommand: null, settings, env: { PATH: bin.path }, firstStatus });
    return h;
  }

  function runningHelperArgs(): string {
    const pids = helperPids();
    assert.equal(pids.length, 1, `one helper should run: ${pids.join(', ')}`);
    return processArgs(pids[0]);
  }

  it('finds python3 on PATH, runs the bundled helper with it (no bytecode written), and says which in the log', async () => {
    const python = bareSystemPython();
    const bundledDir = join(EXTENSION_PATH, 'bundled');
    const bytecode = () =>
      (readdirSync(bundledDir, { recursive: true }) as string[]).filter(
        (f) => f.includes('__pycache__') || f.endsWith('.pyc'),
      );
    for (const dir of bytecode().filter((f) => f.endsWith('__pycache__'))) {
      rmSync(join(bundledDir, dir), { recursive: true, force: true });
    }
    onPath('python3', python);
    const harness = await start();
    const args = runningHelperArgs();
    assert.ok(args.includes(join(EXTENSION_PATH, 'bundled', 'tool', 'bootstrap.py')), args);
    assert.ok(args.includes(' -I -B '), args);
    const line = harness.fake.logLines.find((l) => l.includes('runs the bundled helper'));
    assert.match(
      line ?? '',
      new RegExp(
        `^info Python 3\\.\\d+\\.\\d+ \\(.*python3, from python3 on PATH\\) runs the bundled helper ticktick-signon ${bundle.helperVersion.replace(/\./g, '\\.')}\\.$`,
      ),
    );
    // The bundled helper signs in for real.
    await harness.signInByLoopback();
    await harness.statusText(/days left$/);
    assert.deepEqual(bytecode(), [], 'the bundled helper wrote bytecode into the extension');
  });

  it('takes ticktick.pythonPath first, and passes over one that does not exist', async () => {
    const python = venvPython();
    let harness = await start({ 'ticktick.pythonPath': python });
    assert.ok(
      harness.fake.logLines.some((l) => l.includes(`from ticktick.pythonPath "${python}") runs the bundled helper`)),
      harness.fake.logLines.join('\n'),
    );
    assert.ok(runningHelperArgs().includes('bootstrap.py'));
    await harness.stop();

    onPath('python3', python);
    h = harness = await start({ 'ticktick.pythonPath': join(bin.path, 'no-such-python') });
    assert.ok(
      harness.fake.logLines.some((l) => /Not using ticktick\.pythonPath ".*no-such-python": not found\./.test(l)),
    );
    assert.ok(harness.fake.logLines.some((l) => l.includes('from python3 on PATH) runs the bundled helper')));
  });

  it("uses the Python extension's selected interpreter, and restarts the helper when it changes", async () => {
    const first = venvPython();
    const second = bareSystemPython();
    const changed = new Emitter<unknown>();
    let active = first;
    let activated = false;
    const exports = {
      environments: {
        getActiveEnvironmentPath: () => ({ id: active, path: active }),
        resolveEnvironment: async (env: { path: string }) => ({ executable: { uri: { fsPath: env.path } } }),
        onDidChangeActiveEnvironmentPath: changed.event,
      },
    };
    // Opted in, and already active: its interpreter is used (it is never a hard dependency, never activated).
    const pythonExtension = {
      id: 'ms-python.python',
      isActive: true,
      exports,
      activate: async () => {
        activated = true;
        return exports;
      },
    };
    const harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      extensions: { 'ms-python.python': pythonExtension },
      settings: { 'ticktick.usePythonExtension': true },
    });
    h = harness;
    assert.ok(!activated, 'the Python extension was activated');
    assert.ok(
      harness.fake.logLines.some((l) =>
        l.includes(`from the Python extension's interpreter "${first}") runs the bundled helper`),
      ),
      harness.fake.logLines.join('\n'),
    );
    const [before] = helperPids();

    active = second;
    changed.fire({ id: second, path: second });
    const startedWith = (python: string) =>
      harness.fake.logLines.some((l) =>
        l.includes(`from the Python extension's interpreter "${python}") runs the bundled helper`),
      );
    await until('the newly selected interpreter', () => startedWith(second));
    await harness.statusText(/TickTick: Sign in$/);
    await until('one helper, a new one', () => helperPids().length === 1 && helperPids()[0] !== before);
  });

  it("without the opt-in, never uses the Python extension's interpreter; with it, never activates or waits for that extension", async () => {
    const exports = {
      environments: {
        getActiveEnvironmentPath: () => ({ id: 'x', path: venvPython() }),
        resolveEnvironment: async (env: { path: string }) => ({ executable: { uri: { fsPath: env.path } } }),
        onDidChangeActiveEnvironmentPath: new Emitter<unknown>().event,
      },
    };
    onPath('python3', bareSystemPython());
    let harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      extensions: {
        'ms-python.python': { id: 'ms-python.python', isActive: true, exports, activate: async () => exports },
      },
    });
    assert.ok(harness.fake.logLines.some((l) => l.includes('from python3 on PATH) runs the bundled helper')));
    await harness.stop();

    let activated = false;
    h = harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      settings: { 'ticktick.usePythonExtension': true },
      extensions: {
        'ms-python.python': {
          id: 'ms-python.python',
          isActive: false,
          exports: undefined,
          activate: () => {
            activated = true;
            return new Promise(() => undefined);
          },
        },
      },
    });
    assert.ok(!activated, 'an inactive Python extension was activated');
    assert.ok(harness.fake.logLines.some((l) => l.includes('The Python extension is not active (yet)')));
    assert.ok(harness.fake.logLines.some((l) => l.includes('from python3 on PATH) runs the bundled helper')));
  });

  it('does not wait for a Python extension that runs in the other extension host (a remote window)', async () => {
    let asked = false;
    onPath('python3', bareSystemPython());
    const started = Date.now();
    const harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      settings: { 'ticktick.usePythonExtension': true },
      extensions: {
        'ms-python.python': {
          id: 'ms-python.python',
          isActive: false,
          extensionKind: 2,
          exports: undefined,
          activate: () => {
            asked = true;
            return new Promise(() => undefined); // never activates here
          },
        },
      },
    });
    h = harness;
    assert.ok(!asked, "the other host's Python extension was activated");
    assert.ok(Date.now() - started < 14_000, 'the launcher waited for it');
    assert.ok(harness.fake.logLines.some((l) => l.includes('runs in the other extension host')));
    assert.ok(harness.fake.logLines.some((l) => l.includes('from python3 on PATH) runs the bundled helper')));
  });

  it("does not use the Python extension's interpreter in a workspace the user has not trusted", async () => {
    const exports = {
      environments: {
        getActiveEnvironmentPath: () => ({ id: 'x', path: venvPython() }),
        resolveEnvironment: async (env: { path: string }) => ({ executable: { uri: { fsPath: env.path } } }),
        onDidChangeActiveEnvironmentPath: new Emitter<unknown>().event,
      },
    };
    onPath('python3', bareSystemPython());
    const harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      extensions: {
        'ms-python.python': { id: 'ms-python.python', isActive: true, exports, activate: async () => exports },
      },
      firstStatus: null,
      untrusted: true,
      settings: { 'ticktick.usePythonExtension': true },
    });
    h = harness;
    await harness.statusText(/TickTick: Sign in$/);
    assert.ok(
      harness.fake.logLines.some((l) => l.includes('from python3 on PATH) runs the bundled helper')),
      harness.fake.logLines.join('\n'),
    );
    assert.ok(!harness.fake.logLines.some((l) => l.includes("from the Python extension's interpreter")));
  });

  it('a Python older than 3.10 is passed over; with none left, one notification lists what was tried', async () => {
    oldPythonOnPath('python3', [3, 8, 18]);
    const harness = await start({}, null);
    harness.fake.answerMessage = (m) => (m.items.includes('Install Python') ? 'Install Python' : undefined);
    await harness.statusText(/helper missing$/);
    await until('the notification', () => harness.fake.messages.some((m) => m.level === 'error'));
    const [error] = harness.fake.messages.filter((m) => m.level === 'error');
    assert.equal(
      error.text,
      'TickTick Sign-On needs Python 3.10 or later to run its helper, and found none. Tried: python3 on PATH: Python 3.8.18, too old; python on PATH: not found.',
    );
    assert.deepEqual(error.items, ['Install Python', 'Set Python Path', "Don't Show Again"]);
    await until('the install page', () => harness.fake.opened.includes('https://www.python.org/downloads/'));
    // Said once, not on every status refresh.
    await harness.run('ticktick.showStatus').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(
      harness.fake.messages.filter((m) => m.text.startsWith('TickTick Sign-On needs Python')).length,
      2,
      'the notification, then the Show Status error',
    );
    assert.equal(harness.item().command, 'ticktick.showStatus');
  });

  it("the no-Python notification's Don't Show Again keeps it from the next start-ups", async () => {
    let harness = await start({}, /helper missing$/);
    await until('the notification', () => harness.fake.messages.some((m) => m.level === 'error'));
    // A changed setting says it again (still no Python); this time the user mutes it.
    harness.fake.answerMessage = (m) => (m.items.includes("Don't Show Again") ? "Don't Show Again" : undefined);
    harness.fake.setConfig('ticktick.pythonPath', join(bin.path, 'no-such-python'));
    await until(
      'the choice kept',
      () => harness.context.globalState.get('ticktick.noPythonNotification.muted') === true,
    );
    const remembered = harness.context.globalState;
    await harness.stop();
    h = harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      firstStatus: /helper missing$/,
      globalState: remembered,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      harness.fake.messages.filter((m) => m.level === 'error'),
      [],
    );
  });

  it('with no Python at all, says so; setting ticktick.pythonPath then starts the helper', async () => {
    const harness = await start({}, /helper missing$/);
    await until('the notification', () => harness.fake.messages.some((m) => m.level === 'error'));
    const error = harness.fake.messages.find((m) => m.level === 'error')!;
    assert.match(error.text, /Tried: python3 on PATH: not found; python on PATH: not found\.$/);
    harness.fake.setConfig('ticktick.pythonPath', venvPython());
    await harness.statusText(/TickTick: Sign in$/);
    assert.ok(runningHelperArgs().includes('bootstrap.py'));
  });
});

describe('interpreter discovery over time', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start();
  });
  after(async () => {
    await sandbox.stop();
  });

  it('Python installed after activation: the next getSessions finds it and the session', async () => {
    const bin = tempDir('tt-path-');
    const harness = await ExtensionHarness.start(sandbox, {
      helperCommand: null,
      env: { PATH: bin.path },
      firstStatus: /helper missing$/,
    });
    try {
      assert.deepEqual(await harness.provider().getSessions(), []);
      // Meanwhile another program signs in at the provider VS Code is configured for, and the user installs
      // Python. (A `login --sandbox` token, from an embedded sandbox of its own, is never offered to VS Code.)
      const other = newClient(process.env);
      try {
        const started = await other.startSignon({
          ...SANDBOX_CLIENT,
          redirectUrl: harness.fake.config.get('ticktick.redirectUrl') as string,
          profile: 'default',
          listen: false,
        });
        await other.completeSignon({ redirectUrl: await approve(started.authorizeUrl) });
      } finally {
        await other.close();
      }
      symlinkSync(bareSystemPython(), join(bin.path, 'python3'));
      const sessions = await harness.provider().getSessions(['tasks:read']);
      assert.deepEqual(
        sessions.map((s) => s.id),
        ['default'],
      );
      harness.secretsSeen.push(sessions[0].accessToken);
    } finally {
      await harness.stop();
      bin.remove();
    }
  });
});

describe('interpreter discovery, the parts', () => {
  it('the bundled helper and an installed ticktick-signon share one cache file (the same platformdirs folder)', async () => {
    const home = tempDir('tt-xdg-');
    try {
      // No TICKTICK_SIGNON_CONFIG_DIR: each finds the folder by itself, under the same XDG_CONFIG_HOME.
      const env: NodeJS.ProcessEnv = { ...isolatedEnv(home.path), XDG_CONFIG_HOME: home.path, APPDATA: home.path };
      delete env.TICKTICK_SIGNON_CONFIG_DIR;
      const bundled = newClient(
        env,
        undefined,
        `"${bareSystemPython()}" -I -B "${join(EXTENSION_PATH, 'bundled', 'tool', 'bootstrap.py')}"`,
      );
      try {
        const fromBundle = (await bundled.getStatus()).configPath;
        const argv = cliArgv(['status', '--json']);
        // Not signed in: `status` exits 3, and still prints the JSON.
        const installed = (
          JSON.parse(spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' }).stdout) as { configPath: string }
        ).configPath;
        assert.equal(fromBundle, installed);
        assert.ok(fromBundle.startsWith(home.path), fromBundle);
      } finally {
        await bundled.stop();
      }
    } finally {
      home.remove();
    }
  });

  it('the bundle holds the protocol docs the bundled helper points at, and none of the test tools it never loads', () => {
    const libs = join(EXTENSION_PATH, 'bundled', 'libs');
    for (const doc of ['protocol.md', 'protocol.schema.json']) {
      assert.ok(existsSync(join(libs, 'ticktick_signon', 'docs', doc)), `${doc} is not in the bundle`);
    }
    for (const unused of [
      'click/testing.py',
      'anyio/pytest_plugin.py',
      'platformdirs/pytest_plugin.py',
      'certifi/tests',
    ]) {
      assert.ok(!existsSync(join(libs, unused)), `${unused} is in the bundle`);
    }
    assert.ok(existsSync(join(libs, 'click', 'core.py')), 'the bundle is there at all');
  });

  it('orders PATH candidates python3, python; on Windows the py launcher first', () => {
    assert.deepEqual(
      pathCandidates('linux').map((c) => c.argv.join(' ')),
      ['python3', 'python'],
    );
    assert.deepEqual(
      pathCandidates('darwin').map((c) => c.label),
      ['python3 on PATH', 'python on PATH'],
    );
    assert.deepEqual(
      pathCandidates('win32').map((c) => c.argv.join(' ')),
      ['py -3', 'python3', 'python'],
    );
  });

  it('accepts 3.10 and later only', () => {
    assert.ok(isSupported('3.10.0') && isSupported('3.13.1') && isSupported('4.0.0'));
    assert.ok(!isSupported('3.9.18') && !isSupported('2.7.18'));
  });

  it('probes a real interpreter, a missing one, and something that is not Python', async () => {
    const found = await probePython([process.execPath.replace(/node$/, 'no-such-node')]);
    assert.deepEqual(found, { ok: false, problem: 'notFound', detail: 'not found' });
    const notPython = await probePython(['/bin/sh']);
    assert.equal(notPython.ok, false);
    assert.equal(!notPython.ok && notPython.problem, 'failed');
    const python = await probePython([venvPython()]);
    assert.ok(python.ok && isSupported(python.version), JSON.stringify(python));
  });

  it('stops at the first fit, asking later candidates only when needed', async () => {
    const asked: string[] = [];
    async function* candidates() {
      asked.push('setting');
      yield { source: 'setting' as const, label: 'setting', argv: ['old'] };
      asked.push('extension');
      yield { source: 'pythonExtension' as const, label: 'extension', argv: ['good'] };
      asked.push('path');
      yield { source: 'path' as const, label: 'path', argv: ['never'] };
    }
    const result = await findPython(candidates(), async ([name]) =>
      name === 'good'
        ? { ok: true, version: '3.12.1', executable: '/good' }
        : { ok: false, problem: 'tooOld', detail: 'Python 3.8.1, too old' },
    );
    assert.equal(result.found?.executable, '/good');
    assert.deepEqual(
      result.tried.map((t) => t.candidate.label),
      ['setting'],
    );
    assert.deepEqual(asked, ['setting', 'extension']);
  });
});
