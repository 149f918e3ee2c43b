// Test-side tools: find the real Python helper, run its sandbox provider over loopback,
// give each test a private cache folder, and play the browser on the sandbox's pages
// (through the Python suite's fake browser, the one every suite uses).

import { ChildProcess, execFile, spawn } from 'child_process';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { createServer, Server, Socket } from 'net';
import { tmpdir } from 'os';
import { delimiter, join, resolve } from 'path';
import { parseArgsStringToArgv } from 'string-argv';

import { HelperClient, Logger } from '../../src/helper/client';

const REPO = resolve(__dirname, '..', '..', '..', '..', '..');
// Read once: the command-layer tests replace process.env with the extension host's.
const HELPER_COMMAND_ENV = process.env.TICKTICK_SIGNON_HELPER_COMMAND?.trim();

/**
 * The helper command line: $TICKTICK_SIGNON_HELPER_COMMAND (the pytest wrapper passes
 * `sys.executable -m ticktick_signon serve`), else the repository's .venv, else `ticktick-signon serve` on PATH.
 */
export function helperCommand(): string {
  if (HELPER_COMMAND_ENV) {
    return HELPER_COMMAND_ENV;
  }
  const venvPython = join(REPO, '.venv', 'bin', 'python');
  if (existsSync(venvPython)) {
    return `"${venvPython}" -m ticktick_signon serve`;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'ticktick-signon'))) {
      return 'ticktick-signon serve';
    }
  }
  throw new Error(
    'The ticktick-signon helper was not found. Set TICKTICK_SIGNON_HELPER_COMMAND, e.g. "/path/to/python -m ticktick_signon serve", ' +
      `or create ${join(REPO, '.venv')} with the package installed.`,
  );
}

/** The same CLI as the helper command, with another subcommand instead of `serve`. */
export function cliArgv(subcommand: string[]): string[] {
  const argv = parseArgsStringToArgv(helperCommand());
  if (argv[argv.length - 1] !== 'serve') {
    throw new Error(
      'TICKTICK_SIGNON_HELPER_COMMAND must end with "serve" so the tests can run the sandbox with the same CLI.',
    );
  }
  return [...argv.slice(0, -1), ...subcommand];
}

/** An environment for the helper with nothing of the developer's own account or cache in it. */
export function isolatedEnv(
  configDir: string,
  authUrl?: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      !name.startsWith('PYTICKTICK_') &&
      !name.startsWith('TICKTICK_SIGNON_') &&
      !/^(https?|all)_proxy$/i.test(name)
    ) {
      env[name] = value;
    }
  }
  env.TICKTICK_SIGNON_CONFIG_DIR = configDir;
  env.NO_PROXY = '*';
  env.no_proxy = '*';
  if (authUrl) {
    env.TICKTICK_SIGNON_AUTH_URL = authUrl;
  }
  return { ...env, ...extra };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A logger that keeps every line, so tests can prove nothing secret was logged. */
export class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
  debug(message: string): void {
    this.lines.push(`debug ${message}`);
  }
}

export function newClient(
  env: NodeJS.ProcessEnv,
  log: Logger = new CapturingLogger(),
  command = helperCommand(),
): HelperClient {
  return new HelperClient({ command, env, log });
}

/** `ticktick-signon sandbox` on a free loopback port, as its own process. */
export class Sandbox {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    private readonly dir: { remove(): void },
  ) {}

  /** `host`: a loopback address other than 127.0.0.1 makes the provider look remote to code-server. */
  static async start(options: { autoApprove?: boolean; expiresIn?: number; host?: string } = {}): Promise<Sandbox> {
    const argv = cliArgv([
      'sandbox',
      '--port',
      '0',
      ...(options.host ? ['--host', options.host] : []),
      ...(options.autoApprove ? ['--auto-approve'] : []),
      ...(options.expiresIn ? ['--expires-in', String(options.expiresIn)] : []),
    ]);
    const dir = tempDir('tt-sandbox-');
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: isolatedEnv(dir.path) });
    const baseUrl = await new Promise<string>((resolvePromise, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`the sandbox did not start: ${seen}`)), 20_000);
      child.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /Sandbox TickTick on (http:\/\/\S+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolvePromise(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`the sandbox exited (${code}): ${seen}`)));
    });
    return new Sandbox(child, baseUrl, dir);
  }

  /** True if the sandbox accepts this bearer token on its API (the token is real). */
  async acceptsToken(accessToken: string): Promise<boolean> {
    const answer = await fetch(`${this.baseUrl}/open/v1/project`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    return answer.status === 200;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolvePromise) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolvePromise();
        return;
      }
      this.child.once('exit', () => resolvePromise());
      this.child.kill('SIGTERM');
    });
    this.dir.remove();
  }
}

/** The one stand-in browser of every suite (the CLI's and each editor's): tests/support/fake_browser.py. */
const FAKE_BROWSER = join(REPO, 'tests', 'support', 'fake_browser.py');
// Read once, like the helper command: the command-layer tests replace process.env.
const ENV_AT_LOAD = { ...process.env };

/** The Python that runs the fake browser: the helper command's own (it has httpx), else the repository's .venv. */
function fakeBrowserPython(): string {
  const argv = parseArgsStringToArgv(helperCommand());
  if (argv.length >= 3 && argv[1] === '-m') {
    return argv[0];
  }
  const venvPython = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venvPython) ? venvPython : 'python3';
}

/** Run the fake browser with `args`; resolve with what it printed, reject with its stderr when it fails. */
function runFakeBrowser(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      fakeBrowserPython(),
      [FAKE_BROWSER, ...args],
      { timeout: 60_000, env: { ...ENV_AT_LOAD, NO_PROXY: '*', no_proxy: '*' } },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`the fake browser failed (${FAKE_BROWSER} ${args.join(' ')}): ${stderr || error.message}`));
        } else {
          resolvePromise({ stdout, stderr });
        }
      },
    );
  });
}

/**
 * Play the browser on the sandbox: open the authorize URL, click Allow or Deny,
 * and return where the provider redirects (without following it).
 */
export async function approve(authorizeUrl: string, decision: 'allow' | 'deny' = 'allow'): Promise<string> {
  const { stdout } = await runFakeBrowser([authorizeUrl, '--decision', decision]);
  return stdout.trim();
}

/**
 * Play the browser all the way: click Allow or Deny, then follow the redirect to the helper's
 * loopback listener; resolve with the status and the title of the page the listener showed.
 */
export async function approveAndFollow(
  authorizeUrl: string,
  decision: 'allow' | 'deny' = 'allow',
): Promise<{ status: number; title: string }> {
  const { stderr } = await runFakeBrowser([authorizeUrl, '--decision', decision, '--follow']);
  // fake_browser.py's last stderr line, after following: "STATUS TITLE".
  const seen = /^(\d{3}) ?(.*)$/m.exec(stderr.trim().split('\n').pop() ?? '');
  if (!seen) {
    throw new Error(`the fake browser did not say what the listener showed: ${stderr}`);
  }
  return { status: Number(seen[1]), title: seen[2] };
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

/** A TCP server that accepts connections and never answers: a token endpoint that hangs. */
export async function hangingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolvePromise());
      }),
  };
}

export const SANDBOX_CLIENT = { clientId: 'sandbox-client', clientSecret: 'sandbox-secret' };
