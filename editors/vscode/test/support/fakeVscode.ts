// A stand-in for the `vscode` module, installed in Node's module loader so the real extension code
// runs outside VS Code: prompts are answered by the test, messages, progress and the status bar recorded.

import { readFileSync } from 'fs';
import Module from 'module';
import { resolve } from 'path';

type Listener<T> = (value: T) => unknown;

/** The extension's folder (out/test/support is three levels below it): where bundled/ is. */
export const EXTENSION_PATH = resolve(__dirname, '..', '..', '..');

export class Emitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    [...this.listeners].forEach((l) => l(value));
  }
  dispose(): void {
    this.listeners = [];
  }
}

/** What the extension registered with vscode.authentication. */
export interface RegisteredProvider {
  id: string;
  label: string;
  options: { supportsMultipleAccounts?: boolean } | undefined;
  provider: {
    getSessions(scopes?: readonly string[], options?: { account?: AccountInfo }): Promise<readonly FakeSession[]>;
    createSession(scopes: readonly string[], options?: { account?: AccountInfo }): Promise<FakeSession>;
    removeSession(id: string): Promise<void>;
    onDidChangeSessions: (listener: (e: SessionsChange) => unknown) => { dispose(): unknown };
  };
}

export interface AccountInfo {
  id: string;
  label: string;
}

/** vscode.AuthenticationGetSessionOptions, the members the fake's getSession honours. */
export interface GetSessionOptions {
  createIfNone?: boolean;
  forceNewSession?: boolean;
  silent?: boolean;
  clearSessionPreference?: boolean;
  account?: AccountInfo;
}

export interface FakeSession {
  id: string;
  accessToken: string;
  account: { id: string; label: string };
  scopes: readonly string[];
}

export interface SessionsChange {
  added?: readonly FakeSession[];
  removed?: readonly FakeSession[];
  changed?: readonly FakeSession[];
}

/** An installed extension as vscode.extensions.getExtension returns it (the Python extension in tests). */
export interface FakeExtension {
  id: string;
  isActive: boolean;
  /** vscode.ExtensionKind: 1 UI (the local host), 2 Workspace (a remote one); default UI. */
  extensionKind?: number;
  exports: unknown;
  activate(): Promise<unknown>;
}

class CancellationTokenSource {
  private readonly emitter = new Emitter<void>();
  token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: () => void) => this.emitter.event(listener),
  };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
  }
}

export interface MessageRecord {
  level: 'info' | 'warning' | 'error';
  text: string;
  items: string[];
  modal: boolean;
  detail?: string;
}

export interface InputRecord {
  /** The buttons of a createInputBox box, and pressing one (as the user would, before answering). */
  buttons?: { tooltip?: string }[];
  pressButton?(index: number): void;
  title?: string;
  prompt?: string;
  value?: string;
  password?: boolean;
  placeHolder?: string;
  validateInput?: (value: string) => string | undefined | null | Thenable<string | undefined | null>;
}

export interface ProgressRecord {
  title?: string;
  cancellable: boolean;
  done: boolean;
  cancel(): void;
}

export class FakeStatusBarItem {
  text = '';
  tooltip: string | undefined;
  command: string | undefined;
  backgroundColor: { id: string } | undefined;
  name: string | undefined;
  accessibilityInformation: { label: string; role?: string } | undefined;
  visible = false;
  disposed = false;
  constructor(
    readonly id: string,
    readonly alignment: number,
    readonly priority: number,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
    this.visible = false;
  }
}

/** The state of the fake editor; tests read it and script the answers. */
export class FakeState {
  messages: MessageRecord[] = [];
  inputs: InputRecord[] = [];
  progress: ProgressRecord[] = [];
  opened: string[] = [];
  clipboard = '';
  logLines: string[] = [];
  logShown = false;
  statusItems: FakeStatusBarItem[] = [];
  commands = new Map<string, (...args: unknown[]) => unknown>();
  authProviders: RegisteredProvider[] = [];
  workspaceTrusted = true;
  extensions = new Map<string, FakeExtension>();
  /** What env.asExternalUri answers: the same address (a local window) unless a test forwards it elsewhere. */
  asExternalUri: (url: string) => string = (url) => url;
  executed: string[] = [];
  /** Context keys set with the setContext command (menus' `when` clauses read them). */
  contextKeys = new Map<string, unknown>();
  /** User settings (settings.json of the user). */
  config = new Map<string, unknown>();
  /** The workspace's .vscode/settings.json: VS Code honours a value only as the manifest allows (see below). */
  workspaceConfig = new Map<string, unknown>();
  readonly configChanged = new Emitter<{ affectsConfiguration(section: string): boolean }>();
  /** Answers an input box; undefined means the user pressed Escape. */
  answerInput: (input: InputRecord) => string | undefined | Promise<string | undefined> = () => undefined;
  /** Picks a message item; undefined means the message was dismissed. */
  answerMessage: (message: MessageRecord) => string | undefined | Promise<string | undefined> = () => undefined;
  /** Consent, as VS Code keeps it: per provider and account *label*, the extensions allowed. */
  readonly consents = new Map<string, Set<string>>();
  /** The account each extension chose, per provider and scope set (VS Code's session preference). */
  readonly sessionPreferences = new Map<string, string>();
  /** VS Code's "The extension X wants to sign in using TickTick" dialog: true is Allow. */
  answerLoginPrompt: (extensionId: string, providerLabel: string) => boolean | Promise<boolean> = () => true;
  /** VS Code's account picker for a multi-account provider: a session, 'new' (another account), or undefined. */
  answerAccountPick: (sessions: readonly FakeSession[]) => FakeSession | 'new' | undefined = (sessions) => sessions[0];
  /** Every prompt VS Code showed a consumer: login prompts and account picks. */
  readonly authPrompts: string[] = [];
  /** What the "browser" does with a URL opened through env.openExternal. */
  openExternal: (url: string) => boolean | Promise<boolean> = () => true;

  /** Every piece of text shown to the user or logged. */
  allText(): string {
    return [
      ...this.messages.map((m) => `${m.text} ${m.detail ?? ''} ${m.items.join(' ')}`),
      ...this.inputs.map((i) => `${i.title} ${i.prompt} ${i.placeHolder ?? ''} ${i.value ?? ''}`),
      ...this.progress.map((p) => p.title ?? ''),
      ...this.logLines,
      ...this.statusItems.map((s) => `${s.text} ${s.tooltip ?? ''}`),
    ].join('\n');
  }

  setConfig(key: string, value: unknown): void {
    this.config.set(key, value);
    this.configChanged.fire({ affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`) });
  }
}

export let state = new FakeState();

function consentKey(providerId: string, label: string): string {
  return `${providerId}\u0000${label}`;
}

function preferenceKey(providerId: string, extensionId: string, scopes: readonly string[]): string {
  return `${providerId}\u0000${extensionId}\u0000${[...scopes].sort().join(' ')}`;
}

/**
 * vscode.authentication.getSession as another extension (`extensionId`) calls it, following VS Code's
 * MainThreadAuthentication.doGetSession: a single-account provider's answer is `sessions[0]`; a
 * multi-account provider is asked for `options.account` only, and VS Code uses the session the extension
 * chose before (its preference) or asks which; access is allowed per account label, and asked for once.
 */
export async function consumerGetSession(
  extensionId: string,
  providerId: string,
  scopes: readonly string[],
  options: GetSessionOptions = {},
): Promise<FakeSession | undefined> {
  const registered = state.authProviders.find((p) => p.id === providerId);
  if (!registered) {
    throw new Error(`No authentication provider '${providerId}' is currently registered.`);
  }
  const { provider, label: providerLabel } = registered;
  const multiple = !!registered.options?.supportsMultipleAccounts;
  const sessions = await provider.getSessions(scopes, { account: options.account });
  const allowed = (label: string) => state.consents.get(consentKey(providerId, label))?.has(extensionId) ?? false;
  const prefKey = preferenceKey(providerId, extensionId, scopes);
  if (!options.forceNewSession && sessions.length > 0) {
    if (multiple) {
      if (options.clearSessionPreference) {
        state.sessionPreferences.delete(prefKey);
      } else {
        const preferred = sessions.find((s) => s.id === state.sessionPreferences.get(prefKey));
        if (preferred && allowed(preferred.account.label)) {
          return preferred;
        }
        // No usable choice, but a single account the extension may use: VS Code takes it (as code-server
        // 4.139 does, seen in the e2e after the chosen account signed out).
        if (!preferred && sessions.length === 1 && allowed(sessions[0].account.label)) {
          return sessions[0];
        }
      }
    } else if (allowed(sessions[0].account.label)) {
      return sessions[0];
    }
  }
  if (!options.createIfNone && !options.forceNewSession) {
    // Silent or not, VS Code then answers nothing (the non-silent call adds an Accounts badge).
    return undefined;
  }
  state.authPrompts.push(`login ${extensionId} ${providerLabel}`);
  if (!(await state.answerLoginPrompt(extensionId, providerLabel))) {
    throw new Error('User did not consent to login.');
  }
  let session: FakeSession | undefined;
  if (sessions.length > 0 && !options.forceNewSession) {
    if (multiple && !options.account) {
      state.authPrompts.push(`pick ${sessions.map((s) => s.account.label).join(', ')}`);
      const picked = state.answerAccountPick(sessions);
      if (picked === undefined) {
        throw new Error('User did not consent to login.');
      }
      session = picked === 'new' ? await provider.createSession(scopes, {}) : picked;
    } else {
      session = sessions[0];
    }
  } else {
    const preferredId = state.sessionPreferences.get(prefKey);
    const account = options.account ?? (await provider.getSessions(scopes)).find((s) => s.id === preferredId)?.account;
    session = await provider.createSession(scopes, { account });
  }
  const consent = consentKey(providerId, session.account.label);
  state.consents.set(consent, new Set([...(state.consents.get(consent) ?? []), extensionId]));
  state.sessionPreferences.set(prefKey, session.id);
  return session;
}

export function resetFake(): FakeState {
  state = new FakeState();
  return state;
}

function splitMessageArgs(level: MessageRecord['level'], text: string, rest: unknown[]): MessageRecord {
  let modal = false;
  let detail: string | undefined;
  if (rest.length > 0 && typeof rest[0] === 'object' && rest[0] !== null) {
    const options = rest.shift() as { modal?: boolean; detail?: string };
    modal = !!options.modal;
    detail = options.detail;
  }
  return { level, text, items: rest.map(String), modal, detail };
}

function showMessage(level: MessageRecord['level']) {
  return async (text: string, ...rest: unknown[]) => {
    const record = splitMessageArgs(level, text, rest);
    state.messages.push(record);
    const choice = await state.answerMessage(record);
    return choice !== undefined && record.items.includes(choice) ? choice : undefined;
  };
}

function logger(level: string) {
  return (message: string) => state.logLines.push(`${level} ${message}`);
}

const fake = {
  StatusBarAlignment: { Left: 1, Right: 2 },
  ExtensionKind: { UI: 1, Workspace: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ThemeColor: class {
    constructor(readonly id: string) {}
  },
  ThemeIcon: class {
    constructor(readonly id: string) {}
  },
  EventEmitter: Emitter,
  CancellationTokenSource,
  CancellationError: class CancellationError extends Error {
    constructor() {
      super('Canceled');
      this.name = 'Canceled';
    }
  },
  Uri: {
    parse: (value: string) => ({ toString: () => value, scheme: value.split(':')[0] }),
    file: (path: string) => ({ fsPath: resolve(path), toString: () => `file://${resolve(path)}`, scheme: 'file' }),
  },
  authentication: {
    registerAuthenticationProvider(
      id: string,
      label: string,
      provider: RegisteredProvider['provider'],
      options?: RegisteredProvider['options'],
    ) {
      const entry = { id, label, provider, options };
      state.authProviders.push(entry);
      return { dispose: () => (state.authProviders = state.authProviders.filter((p) => p !== entry)) };
    },
  },
  extensions: {
    getExtension: (id: string) => {
      const found = state.extensions.get(id);
      return found ? { extensionKind: 1, ...found } : undefined;
    },
  },
  window: {
    showInformationMessage: showMessage('info'),
    showWarningMessage: showMessage('warning'),
    showErrorMessage: showMessage('error'),
    async showInputBox(options: InputRecord) {
      state.inputs.push(options);
      const answer = await state.answerInput(options);
      if (answer !== undefined && options.validateInput) {
        const problem = await options.validateInput(answer);
        if (problem) {
          throw new Error(`the test typed an answer the input box refuses: ${problem}`);
        }
      }
      return answer;
    },
    createInputBox() {
      const accepted = new Emitter<void>();
      const hidden = new Emitter<void>();
      const changed = new Emitter<string>();
      const triggered = new Emitter<{ tooltip?: string }>();
      const box = {
        title: undefined as string | undefined,
        prompt: undefined as string | undefined,
        placeholder: undefined as string | undefined,
        value: '',
        password: false,
        ignoreFocusOut: false,
        validationMessage: undefined as string | undefined,
        buttons: [] as { tooltip?: string }[],
        onDidAccept: accepted.event,
        onDidHide: hidden.event,
        onDidChangeValue: changed.event,
        onDidTriggerButton: triggered.event,
        show() {
          const record: InputRecord = {
            title: box.title,
            prompt: box.prompt,
            password: box.password,
            placeHolder: box.placeholder,
            buttons: box.buttons,
            pressButton: (index) => triggered.fire(box.buttons[index]),
          };
          state.inputs.push(record);
          void Promise.resolve(state.answerInput(record)).then((answer) => {
            if (answer === undefined) {
              hidden.fire();
              return;
            }
            box.value = answer;
            changed.fire(answer);
            accepted.fire();
            if (box.validationMessage) {
              throw new Error(`the test typed an answer the input box refuses: ${box.validationMessage}`);
            }
          });
        },
        hide: () => hidden.fire(),
        dispose: () => undefined,
      };
      return box;
    },
    async withProgress<R>(
      options: { title?: string; cancellable?: boolean },
      task: (progress: { report(value: unknown): void }, token: CancellationTokenSource['token']) => Promise<R>,
    ): Promise<R> {
      const source = new CancellationTokenSource();
      const record: ProgressRecord = {
        title: options.title,
        cancellable: !!options.cancellable,
        done: false,
        cancel: () => source.cancel(),
      };
      state.progress.push(record);
      try {
        return await task({ report: () => undefined }, source.token);
      } finally {
        record.done = true;
      }
    },
    createStatusBarItem(id: string, alignment: number, priority: number) {
      const item = new FakeStatusBarItem(id, alignment, priority);
      state.statusItems.push(item);
      return item;
    },
    createOutputChannel(name: string, options?: { log?: boolean }) {
      if (!options?.log) {
        throw new Error('the extension must use a LogOutputChannel');
      }
      return {
        name,
        trace: logger('trace'),
        debug: logger('debug'),
        info: logger('info'),
        warn: logger('warn'),
        error: logger('error'),
        appendLine: logger('line'),
        append: logger('text'),
        show: () => (state.logShown = true),
        hide: () => undefined,
        clear: () => undefined,
        dispose: () => undefined,
      };
    },
  },
  commands: {
    registerCommand(id: string, run: (...args: unknown[]) => unknown) {
      if (state.commands.has(id)) {
        throw new Error(`command ${id} registered twice`);
      }
      state.commands.set(id, run);
      return { dispose: () => state.commands.delete(id) };
    },
    async executeCommand(id: string, ...args: unknown[]) {
      state.executed.push(id);
      if (id === 'setContext') {
        state.contextKeys.set(String(args[0]), args[1]);
        return undefined;
      }
      const run = state.commands.get(id);
      return run ? run(...args) : undefined;
    },
  },
  env: {
    async asExternalUri(uri: { toString(): string }) {
      const forwarded = state.asExternalUri(uri.toString());
      return { toString: () => forwarded, scheme: forwarded.split(':')[0] };
    },
    async openExternal(uri: { toString(): string }) {
      state.opened.push(uri.toString());
      return state.openExternal(uri.toString());
    },
    clipboard: {
      async writeText(text: string) {
        state.clipboard = text;
      },
      async readText() {
        return state.clipboard;
      },
    },
  },
  workspace: {
    getConfiguration(section: string) {
      return {
        get<T>(key: string, defaultValue?: T): T | undefined {
          const full = `${section}.${key}`;
          if (state.workspaceConfig.has(full) && honoursWorkspaceValue(full)) {
            return state.workspaceConfig.get(full) as T;
          }
          return state.config.has(full) ? (state.config.get(full) as T) : defaultValue;
        },
        inspect<T>(key: string) {
          const full = `${section}.${key}`;
          return {
            key: full,
            globalValue: state.config.get(full) as T | undefined,
            workspaceValue: honoursWorkspaceValue(full)
              ? (state.workspaceConfig.get(full) as T | undefined)
              : undefined,
          };
        },
        async update(key: string, value: unknown) {
          state.setConfig(`${section}.${key}`, value);
        },
      };
    },
    onDidChangeConfiguration: (listener: Listener<{ affectsConfiguration(section: string): boolean }>) =>
      state.configChanged.event(listener),
    workspaceFolders: undefined,
    get isTrusted() {
      return state.workspaceTrusted;
    },
  },
};

/** The extension's package.json, read as VS Code reads it: the settings' scopes and Restricted Mode's list. */
interface ManifestSettings {
  capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
  contributes: { configuration: { properties: Record<string, { scope?: string }> } };
}

function manifest(): ManifestSettings {
  return JSON.parse(readFileSync(resolve(EXTENSION_PATH, 'package.json'), 'utf8')) as ManifestSettings;
}

/**
 * Whether VS Code uses a workspace's value of a setting: never for an `application`- or `machine`-scoped
 * one, and in Restricted Mode never for one listed in capabilities.untrustedWorkspaces.restrictedConfigurations.
 */
export function honoursWorkspaceValue(key: string): boolean {
  const m = manifest();
  const scope = m.contributes.configuration.properties[key]?.scope ?? 'window';
  if (scope === 'application' || scope === 'machine') {
    return false;
  }
  const restricted = m.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];
  return state.workspaceTrusted || !restricted.includes(key);
}

/** A SecretStorage kept in memory. */
export class FakeSecretStorage {
  readonly values = new Map<string, string>();
  private readonly changed = new Emitter<{ key: string }>();
  onDidChange = this.changed.event;
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    this.changed.fire({ key });
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
    this.changed.fire({ key });
  }
}

/** A Memento kept in memory (context.globalState). */
export class FakeMemento {
  readonly values = new Map<string, unknown>();
  get<T>(key: string, defaultValue?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : defaultValue;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
  }
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
}

export interface FakeContext {
  subscriptions: { dispose(): unknown }[];
  secrets: FakeSecretStorage;
  globalState: FakeMemento;
  extensionPath: string;
  /** This extension, running in the local (UI) extension host. */
  extension: { id: string; extensionKind: number };
}

export function fakeContext(): FakeContext {
  return {
    subscriptions: [],
    secrets: new FakeSecretStorage(),
    globalState: new FakeMemento(),
    extensionPath: EXTENSION_PATH,
    extension: { id: 'ticktick-signon.ticktick-signon', extensionKind: 1 },
  };
}

// Installed on import, before the extension's modules are loaded: `require('vscode')` gets the fake.
const loader = Module as unknown as {
  _load: (this: unknown, request: string, parent: unknown, isMain: boolean) => unknown;
};
const originalLoad = loader._load;
loader._load = function (request: string, parent: unknown, isMain: boolean) {
  return request === 'vscode' ? fake : originalLoad.call(this, request, parent, isMain);
};
