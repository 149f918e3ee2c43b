// The helper client: spawns `ticktick-signon serve`, speaks JSON-RPC to it through vscode-jsonrpc,
// restarts it after a crash, and turns failures into typed errors. Plain Node: it never imports `vscode`.

import { ChildProcess, spawn } from 'child_process';
import { createInterface } from 'readline';
import { Writable } from 'stream';
import { parseArgsStringToArgv } from 'string-argv';
import {
  CancellationToken,
  createMessageConnection,
  Disposable,
  Emitter,
  Event,
  MessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';

import { HelperError, HelperExitedError, HelperUnavailableError, UnavailableReason } from './errors';
import {
  CompleteSignonParams,
  GetTokenParams,
  ProfileParams,
  SignOutParams,
  SignOutResult,
  SignonCompletedParams,
  SignonFailedParams,
  StartSignonParams,
  StartSignonResult,
  StatusResult,
  TokenChangedParams,
  TokenExpiringParams,
  TokenResult,
  WireError,
} from './protocol';

/** Where the client reports what it does. VS Code's LogOutputChannel fits as it is. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** How to start the helper: its argv, and how to name it in messages. */
export interface HelperLaunch {
  argv: string[];
  display: string;
  /** The helper bundled in the extension (errors then point at the log, not at a setting). */
  bundled?: boolean;
}

/** Decides how to start the helper, each time one is started; may throw HelperUnavailableError. */
export type Launcher = () => Promise<HelperLaunch>;

export interface HelperClientOptions {
  /** The helper command line, e.g. `ticktick-signon serve` or `/path/python -m ticktick_signon serve`. */
  command?: string;
  /** Or a launcher, asked on every start (the extension's bundled helper with the Python it finds). */
  launch?: Launcher;
  /** Environment of the helper (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: Logger;
  /** How long stop() waits for a clean exit after closing stdin before it kills the helper. */
  stopTimeoutMs?: number;
  /**
   * Start a new helper by itself after an unexpected exit, waiting `initialDelayMs`, doubled after each
   * crash that follows closely (up to `maxDelayMs`), and giving up after `maxAttempts` in a row.
   * Off by default: the next request then starts one.
   */
  restart?: RestartPolicy;
}

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  /** A helper that ran this long before it died counts as healthy: the delay starts over. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  maxAttempts: 8,
  stableAfterMs: 60_000,
};

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** A sign-on finished, by the loopback listener or by a pasted redirect URL. */
export interface SignedIn {
  profile: string;
  expiresAt: number;
  via: 'loopback' | 'paste';
}

/** A profile's token may have changed: told by the helper (any process's change) or by our own request. */
export interface TokenChange {
  profile: string;
  source: 'helper' | 'request';
}

interface Running {
  child: ChildProcess;
  startedAt: number;
  display: string;
  bundled: boolean;
  connection: MessageConnection;
  closed: Promise<ExitInfo>;
  exit?: ExitInfo;
  /** It has answered a request: an exit from now on is a crash, not a failure to start. */
  answered: boolean;
  stopping: boolean;
  stderrTail: string[];
}

// vscode-jsonrpc's own codes for a connection that went away under a request.
const CONNECTION_CODES = new Set([-32099, -32098, -32097, -32096, -32095]);
const STDERR_TAIL_LINES = 20;

export class HelperClient implements Disposable {
  private launcher: Launcher;
  private commandLaunch: Launcher | undefined;
  private command: string;
  private readonly options: HelperClientOptions;
  private readonly log: Logger;
  private running: Running | undefined;
  private starting: Promise<Running> | undefined;
  /** Bumped by stop(), so a helper whose start was under way when stop() came is not kept. */
  private generation = 0;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Unexpected exits in a row, each within `stableAfterMs` of its start: the backoff's exponent. */
  private crashesInARow = 0;
  private readonly restartEmitter = new Emitter<void>();
  private readonly signedInEmitter = new Emitter<SignedIn>();
  private readonly failedEmitter = new Emitter<SignonFailedParams>();
  private readonly exitEmitter = new Emitter<ExitInfo>();
  private readonly tokenEmitter = new Emitter<TokenChange>();
  private readonly expiringEmitter = new Emitter<TokenExpiringParams>();

  /** A sign-on completed (loopback notification or completeSignon). */
  readonly onDidSignIn: Event<SignedIn> = this.signedInEmitter.event;
  /** The loopback listener finished a sign-on with an error, or it expired unused. */
  readonly onDidFailSignon: Event<SignonFailedParams> = this.failedEmitter.event;
  /** The helper exited without being asked to; the next request starts a new one. */
  readonly onDidExitUnexpectedly: Event<ExitInfo> = this.exitEmitter.event;
  /**
   * A new helper runs after an unexpected exit (the `restart` option). What happened while none ran was not
   * watched: listeners re-read what they show.
   */
  readonly onDidRestart: Event<void> = this.restartEmitter.event;
  /** A token was added, replaced or removed: `tokenChanged` from the helper, or a sign-in or sign-out of ours. */
  readonly onDidChangeToken: Event<TokenChange> = this.tokenEmitter.event;
  /** `tokenExpiring`: fewer than 7 days (and again under 24 hours) are left. */
  readonly onTokenExpiring: Event<TokenExpiringParams> = this.expiringEmitter.event;

  constructor(options: HelperClientOptions) {
    this.options = options;
    this.command = options.command ?? '';
    this.commandLaunch = options.launch ? undefined : commandLauncher(this.command);
    this.launcher = options.launch ?? this.commandLaunch!;
    this.log = options.log ?? silentLogger;
  }

  /** Process id of the running helper, if one runs. */
  get pid(): number | undefined {
    return this.running?.child.pid;
  }

  /** How the running (or last) helper was named: its command line. */
  get helperCommand(): string {
    return this.running?.display ?? this.command;
  }

  /** Use another command from the next request on (stops the running helper). */
  async setCommand(command: string): Promise<void> {
    if (command === this.command && this.launcher === this.commandLaunch) {
      return;
    }
    this.command = command;
    this.launcher = this.commandLaunch = commandLauncher(command);
    await this.stop();
  }

  /** Use another launcher from the next request on (stops the running helper). */
  async setLauncher(launch: Launcher): Promise<void> {
    this.launcher = launch;
    await this.stop();
  }

  startSignon(params: StartSignonParams, token?: CancellationToken): Promise<StartSignonResult> {
    return this.request<StartSignonResult>('startSignon', params, token);
  }

  async completeSignon(params: CompleteSignonParams, token?: CancellationToken): Promise<TokenResult> {
    const result = await this.request<TokenResult>('completeSignon', params, token);
    this.signedInEmitter.fire({ profile: result.profile, expiresAt: result.expiresAt, via: 'paste' });
    this.tokenEmitter.fire({ profile: result.profile, source: 'request' });
    return result;
  }

  getToken(params: GetTokenParams = {}, token?: CancellationToken): Promise<TokenResult> {
    return this.request<TokenResult>('getToken', params, token);
  }

  getStatus(params: ProfileParams = {}, token?: CancellationToken): Promise<StatusResult> {
    return this.request<StatusResult>('getStatus', params, token);
  }

  async signOut(params: SignOutParams = {}, token?: CancellationToken): Promise<SignOutResult> {
    const result = await this.request<SignOutResult>('signOut', params, token);
    if (result.signedOut) {
      this.tokenEmitter.fire({ profile: params.profile ?? 'default', source: 'request' });
    }
    return result;
  }

  /**
   * Send any request; params are sent by name, or left out when undefined.
   * Rejects with HelperError (the helper's answer), HelperUnavailableError or HelperExitedError.
   */
  async request<R>(method: string, params?: object, token?: CancellationToken): Promise<R> {
    const running = await this.ensureRunning();
    const args: unknown[] = params === undefined ? [] : [params];
    if (token) {
      args.push(token);
    }
    let sent: Promise<R>;
    try {
      sent = running.connection.sendRequest<R>(method, ...args);
    } catch (error) {
      throw await this.failure(error, running);
    }
    try {
      const result = await sent;
      running.answered = true;
      return result;
    } catch (error) {
      throw await this.failure(error, running);
    }
  }

  /** Close the helper's stdin (it exits 0), and kill it if it does not go in time. */
  async stop(): Promise<void> {
    this.generation++;
    this.cancelRestart();
    const running = this.running;
    this.running = undefined;
    this.starting = undefined;
    if (!running || running.exit) {
      return;
    }
    running.stopping = true;
    running.connection.dispose();
    running.child.stdin?.end();
    const timeout = this.options.stopTimeoutMs ?? 3000;
    if (await exitsWithin(running.closed, timeout)) {
      return;
    }
    this.log.warn('The helper did not exit after stdin closed; terminating it.');
    running.child.kill('SIGTERM');
    if (!(await exitsWithin(running.closed, 2000))) {
      running.child.kill('SIGKILL');
      await running.closed;
    }
  }

  /** Stop the helper for good: later requests fail instead of starting another (the extension is going away). */
  close(): Promise<void> {
    this.closed = true;
    return this.stop();
  }

  dispose(): void {
    void this.close();
    this.signedInEmitter.dispose();
    this.failedEmitter.dispose();
    this.exitEmitter.dispose();
    this.tokenEmitter.dispose();
    this.expiringEmitter.dispose();
    this.restartEmitter.dispose();
  }

  private cancelRestart(): void {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
  }

  /** After an unexpected exit: start a helper again after the backoff's delay, if the options ask for it. */
  private scheduleRestart(running: Running): void {
    const policy = this.options.restart;
    if (!policy || this.closed || this.restartTimer) {
      return;
    }
    if (Date.now() - running.startedAt >= policy.stableAfterMs) {
      this.crashesInARow = 0;
    }
    this.crashesInARow++;
    this.scheduleAttempt(policy);
  }

  private scheduleAttempt(policy: RestartPolicy): void {
    if (this.crashesInARow > policy.maxAttempts) {
      this.log.error(
        `The helper failed ${policy.maxAttempts} times in a row; it is not restarted until the next request.`,
      );
      this.crashesInARow = 0;
      return;
    }
    const delayMs = Math.min(policy.initialDelayMs * 2 ** (this.crashesInARow - 1), policy.maxDelayMs);
    this.log.info(`Restarting the helper in ${Math.round(delayMs / 100) / 10} s.`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.ensureRunning().then(
        () => {
          this.restartEmitter.fire();
        },
        (error: unknown) => {
          this.log.warn(`The helper could not be restarted: ${error instanceof Error ? error.message : String(error)}`);
          this.crashesInARow++;
          this.scheduleAttempt(policy);
        },
      );
    }, delayMs);
    this.restartTimer.unref?.();
  }

  private async ensureRunning(): Promise<Running> {
    if (this.running && !this.running.exit) {
      return this.running;
    }
    if (this.closed) {
      throw new HelperUnavailableError(this.helperCommand, 'spawnFailed', 'the extension is shutting down');
    }
    if (!this.starting) {
      this.starting = this.spawnHelper().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async spawnHelper(): Promise<Running> {
    const generation = this.generation;
    const { argv, display: command, bundled = false } = await this.launcher();
    if (generation !== this.generation) {
      throw new HelperUnavailableError(command, 'spawnFailed', 'the helper was stopped while it was starting');
    }
    this.log.info(`Starting the helper: ${command}`);
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: this.options.env ?? process.env,
      cwd: this.options.cwd,
      windowsHide: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason: UnavailableReason =
        code === 'ENOENT' ? 'notFound' : code === 'EACCES' ? 'notExecutable' : 'spawnFailed';
      this.log.error(`The helper could not be started: ${code ?? String(error)}`);
      throw new HelperUnavailableError(command, reason, code ?? 'spawn failed', null, bundled);
    }
    // Errors after the start (e.g. EPIPE on a dead helper's stdin) arrive through 'close'.
    child.on('error', (error) => this.log.warn(`Helper process error: ${error.message}`));
    child.stdin.on('error', (error) => this.log.debug(`Helper stdin: ${error.message}`));
    if (generation !== this.generation) {
      child.stdin.end(); // stdin closed: the helper exits 0
      throw new HelperUnavailableError(command, 'spawnFailed', 'the helper was stopped while it was starting');
    }

    const stderrTail: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      // The helper's log holds no secret (its contract); keep it for diagnosing failed starts.
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) {
        stderrTail.shift();
      }
      this.log.debug(`[helper] ${line}`);
    });

    const writer = new StreamMessageWriter(new DeadEndSafeStream(child.stdin));
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), writer, {
      error: (message) => this.log.error(`JSON-RPC: ${message}`),
      warn: (message) => this.log.warn(`JSON-RPC: ${message}`),
      info: (message) => this.log.debug(`JSON-RPC: ${message}`),
      log: (message) => this.log.debug(`JSON-RPC: ${message}`),
    });
    let markClosed!: (info: ExitInfo) => void;
    const running: Running = {
      child,
      startedAt: Date.now(),
      display: command,
      bundled,
      connection,
      closed: new Promise<ExitInfo>((resolve) => (markClosed = resolve)),
      answered: false,
      stopping: false,
      stderrTail,
    };
    connection.onNotification('signonCompleted', (params: SignonCompletedParams) => {
      this.log.info(`Sign-on completed in the browser (profile ${params.profile}).`);
      this.signedInEmitter.fire({ profile: params.profile, expiresAt: params.expiresAt, via: 'loopback' });
      this.tokenEmitter.fire({ profile: params.profile, source: 'request' });
    });
    connection.onNotification('tokenChanged', (params: TokenChangedParams) => {
      this.log.info(`The token of profile ${params.profile} changed (signed in: ${params.signedIn}).`);
      this.tokenEmitter.fire({ profile: params.profile, source: 'helper' });
    });
    connection.onNotification('tokenExpiring', (params: TokenExpiringParams) => {
      this.log.info(`The token of profile ${params.profile} expires in ${Math.round(params.expiresIn / 3600)} h.`);
      this.expiringEmitter.fire(params);
    });
    connection.onNotification('signonFailed', (params: SignonFailedParams) => {
      this.log.warn(`Sign-on failed (profile ${params.profile}): ${params.error.data?.kind ?? params.error.code}`);
      this.failedEmitter.fire(params);
    });
    // 'close' comes after stdout is drained, so every reply the helper wrote has been read by then.
    child.on('close', (code, signal) => {
      const info: ExitInfo = { code, signal };
      running.exit = info;
      connection.dispose();
      if (this.running === running) {
        this.running = undefined;
      }
      if (running.stopping) {
        this.log.info(`The helper stopped (exit code ${code}).`);
      } else {
        this.log.warn(`The helper exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}).`);
        for (const line of stderrTail) {
          this.log.warn(`[helper] ${line}`);
        }
        this.exitEmitter.fire(info);
        this.scheduleRestart(running);
      }
      markClosed(info);
    });
    connection.listen();
    this.running = running;
    return running;
  }

  private async failure(error: unknown, running: Running): Promise<Error> {
    if (error instanceof ResponseError && !CONNECTION_CODES.has(error.code)) {
      const helperError = new HelperError({
        code: error.code,
        message: error.message,
        data: error.data as WireError['data'],
      });
      running.answered = true;
      this.log.info(`The helper answered with an error: ${helperError.kind} (${helperError.code}).`);
      return helperError;
    }
    // The connection went away: wait for the process to be gone to tell a crash from a failed start.
    const exit = running.exit ?? (await Promise.race([running.closed, delay(5000).then(() => undefined)]));
    if (!exit) {
      return error instanceof Error ? error : new Error(String(error));
    }
    if (!running.answered && !running.stopping) {
      const last = running.stderrTail[running.stderrTail.length - 1] ?? 'no output';
      return new HelperUnavailableError(running.display, 'exitedAtStart', last, exit.code, running.bundled);
    }
    return new HelperExitedError(exit.code, exit.signal);
  }
}

/**
 * The helper's stdin, minus write errors: vscode-jsonrpc 8 turns a failed request write into an
 * unhandled rejection, and a helper that just died or was stopped makes writes fail. A write that
 * cannot reach the helper is dropped; its request then fails when 'close' disposes the connection.
 */
class DeadEndSafeStream extends Writable {
  constructor(private readonly target: Writable) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.target.writableEnded || this.target.destroyed) {
      callback();
      return;
    }
    this.target.write(chunk, () => callback());
  }
}

/** A launcher for a fixed command line (the `ticktick.helperCommand` setting, the tests). */
export function commandLauncher(command: string): Launcher {
  return async () => {
    const argv = parseArgsStringToArgv(command.trim());
    if (argv.length === 0) {
      throw new HelperUnavailableError(command, 'badCommand', 'the helper command is empty');
    }
    return { argv, display: command };
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

function exitsWithin(closed: Promise<ExitInfo>, ms: number): Promise<boolean> {
  return Promise.race([closed.then(() => true), delay(ms).then(() => false)]);
}
