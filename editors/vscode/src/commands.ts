// The VS Code side of the extension: the five commands, the status-bar item, expiry warnings and error
// messages. Everything here talks to the user; the helper work itself is done by HelperClient.

import * as vscode from 'vscode';

import { HelperClient } from './helper/client';
import { describeError, HelperError, HelperExitedError, HelperUnavailableError, Suggestion } from './helper/errors';
import {
  DEFAULT_REDIRECT_URL,
  ErrorCode,
  Region,
  StartSignonParams,
  StatusResult,
  TokenExpiringParams,
} from './helper/protocol';
import { waitForSignon } from './helper/wait';
import { isOffered, issuerOf } from './sessions';
import { forwardsAsIs, isLoopbackUrl } from './forwarding';
import { daysLeft, describeStatus, expiringMessage, formatDate, statusView } from './statusView';

export const COMMANDS = {
  signIn: 'ticktick.signIn',
  pasteRedirectUrl: 'ticktick.pasteRedirectUrl',
  copyToken: 'ticktick.copyToken',
  showStatus: 'ticktick.showStatus',
  signOut: 'ticktick.signOut',
} as const;

export interface Settings {
  profile: string;
  region: Region;
  clientId: string;
  redirectUrl: string;
  alwaysPasteRedirectUrl: boolean;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('ticktick');
  return {
    profile: config.get<string>('profile', 'default').trim() || 'default',
    region: config.get<Region>('region', 'ticktick'),
    clientId: config.get<string>('clientId', '').trim(),
    redirectUrl: config.get<string>('redirectUrl', '').trim(),
    alwaysPasteRedirectUrl: config.get<boolean>('alwaysPasteRedirectUrl', false),
  };
}

export const INSTALL_DETAIL = [
  'The extension runs the ticktick-signon helper, a small Python program that comes inside the extension. It needs Python 3.10 or later.',
  'Install Python from python.org (Windows, macOS) or your system\'s packages (Linux). The extension looks for it in "TickTick: Python Path" (ticktick.pythonPath), then the interpreter chosen in the Python extension (only with "TickTick: Use Python Extension" on), then python3 and python on PATH (on Windows, py -3 first).',
  '"TickTick: Helper Command" (ticktick.helperCommand), when set, runs another helper instead, for example "ticktick-signon serve" installed with pipx. Clear it to use the bundled one.',
].join('\n\n');

/** What signing out does beyond VS Code: the helper's cache is the machine's, not this window's. */
export const SIGN_OUT_EVERYWHERE = (profile: string): string =>
  `This signs profile "${profile}" out on the whole machine: the ticktick-signon CLI, the other editors and every VS Code window lose its token.`;

/** Where an app is registered, per region. */
export const DEVELOPER_PORTALS: Record<Region, string> = {
  ticktick: 'https://developer.ticktick.com/manage',
  dida365: 'https://developer.dida365.com/manage',
};

const DONT_SHOW_AGAIN = "Don't Show Again";
const NO_PYTHON_MUTED_KEY = 'ticktick.noPythonNotification.muted';

export const PYTHON_DOWNLOADS = 'https://www.python.org/downloads/';

/** How a sign-in ended well: the profile and its token's expiry (unix seconds). */
export interface SignInResult {
  profile: string;
  expiresAt: number;
}

const ACTIONS: Record<Suggestion, string[]> = {
  signIn: ['Sign In'],
  install: ['How to Install', 'Open Settings'],
  installPython: ['Install Python', 'Set Python Path'],
  showLog: ['Show Log'],
  settings: ['Open Settings'],
  paste: ['Paste Redirect URL'],
};

/**
 * Where a client secret is kept: by profile *and* client id, so that after a `ticktick.clientId` change the
 * old app's secret is never sent with the new app's id (each part encoded, so no two pairs share a key).
 */
export function secretKey(profile: string, clientId: string): string {
  return `ticktick-signon.clientSecret/${encodeURIComponent(profile)}/${encodeURIComponent(clientId)}`;
}

/** The key of versions before secrets were keyed by client id: only ever deleted. */
function legacySecretKey(profile: string): string {
  return `ticktick-signon.clientSecret.${profile}`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export class TickTickCommands implements vscode.Disposable {
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  /** The secret key of the last sign-in started: a pasted redirect whose exchange fails drops that secret. */
  private lastSecretKey: string | undefined;
  /** The last `ticktick.signedIn` context value set (undefined: never set). */
  private signedInContext: boolean | undefined;
  /** The "no Python" notification was shown; not again until the settings change. */
  private noPythonShown = false;

  constructor(
    private readonly client: HelperClient,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
    /** context.globalState: remembers "Don't Show Again" on the no-Python notification. */
    private readonly memento?: vscode.Memento,
  ) {
    this.statusItem = vscode.window.createStatusBarItem('ticktick.status', vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = 'TickTick Sign-On';
    this.statusItem.accessibilityInformation = { label: 'TickTick Sign-On', role: 'button' };
    this.disposables.push(
      this.statusItem,
      client.onDidChangeToken(({ profile }) => {
        if (profile === readSettings().profile) {
          void this.refreshStatus();
        }
      }),
      client.onTokenExpiring((params) => void this.warnExpiring(params)),
      client.onDidExitUnexpectedly(() => this.showView(undefined, 'stopped')),
    );
  }

  /** Register the commands; every one reports its failures as a message. */
  register(): vscode.Disposable[] {
    const entries: [string, () => Promise<unknown>][] = [
      // Without arguments: a command run from the palette or a keybinding gets none.
      [COMMANDS.signIn, () => this.signIn(readSettings().profile)],
      [COMMANDS.pasteRedirectUrl, () => this.pasteRedirectUrl()],
      [COMMANDS.copyToken, () => this.copyToken()],
      [COMMANDS.showStatus, () => this.showStatus()],
      [COMMANDS.signOut, () => this.signOut()],
    ];
    return entries.map(([id, run]) =>
      vscode.commands.registerCommand(id, async () => {
        try {
          await run();
        } catch (error) {
          await this.report(error, id);
        }
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  // -- commands ---------------------------------------------------------------------

  /**
   * Sign in: ask what the helper does not know, open the consent page, and wait for the loopback redirect
   * or a pasted one. Returns: the new token's profile and expiry, or undefined when the user gave up.
   * Raises: the helper's errors (HelperError, HelperUnavailableError, HelperExitedError).
   */
  async signIn(profile = readSettings().profile): Promise<SignInResult | undefined> {
    const settings = readSettings();
    const status = await this.client.getStatus({ profile });
    // The settings describe the configured profile's app; another profile (an account VS Code asked for)
    // signs in again with the app it last used, and the settings only when it has none.
    const ownApp = profile === settings.profile;
    const clientId =
      (ownApp ? settings.clientId || status.clientId : status.clientId || settings.clientId) ||
      (await this.askClientId(ownApp ? settings.region : (status.region ?? settings.region)));
    if (!clientId) {
      return undefined;
    }
    // The helper keeps the secret and redirect URL of the app it last signed in with.
    const knownToHelper = status.clientId === clientId;
    const key = secretKey(profile, clientId);
    this.lastSecretKey = key;
    let clientSecret = await this.secrets.get(key);
    if (!clientSecret && !knownToHelper) {
      clientSecret = await this.askSecret(key);
      if (!clientSecret) {
        return undefined;
      }
    }
    let redirectUrl: string | undefined = (ownApp || !knownToHelper ? settings.redirectUrl : '') || undefined;
    if (!redirectUrl && !knownToHelper) {
      redirectUrl = await this.askRedirectUrl();
      if (!redirectUrl) {
        return undefined;
      }
    }
    const params: StartSignonParams = {
      clientId,
      clientSecret,
      redirectUrl,
      profile,
      region: ownApp ? settings.region : (status.region ?? settings.region),
      listen: !settings.alwaysPasteRedirectUrl,
    };
    let started;
    try {
      started = await this.client.startSignon(params);
    } catch (error) {
      const missing =
        error instanceof HelperError && error.code === ErrorCode.invalidParams ? error.data.missing : undefined;
      if (!Array.isArray(missing) || !missing.includes('clientSecret') || clientSecret) {
        throw error;
      }
      params.clientSecret = await this.askSecret(key);
      if (!params.clientSecret) {
        return undefined;
      }
      started = await this.client.startSignon(params);
    }
    const unreachable = started.listening ? await this.unreachableRedirect(started.redirectUrl) : undefined;
    if (unreachable) {
      // The browser would land where the listener cannot hear it: paste instead (a new state, no listener).
      started = await this.client.startSignon({ ...params, redirectUrl: started.redirectUrl, listen: false });
    }
    this.log.info(`Sign-in started (profile ${started.profile}, listening on loopback: ${started.listening}).`);

    const opened = await vscode.env.openExternal(vscode.Uri.parse(started.authorizeUrl, true));
    if (!opened) {
      this.log.warn('The browser could not be opened for the sign-in page.');
      // As VS Code's device-code dialog: the link itself, one click away (it holds no secret, only the state).
      void vscode.window
        .showWarningMessage(
          'TickTick: the browser could not be opened. Copy the sign-in link, open it in your browser, and allow access.',
          'Copy Link',
        )
        .then(async (choice) => {
          if (choice === 'Copy Link') {
            await vscode.env.clipboard.writeText(started.authorizeUrl);
            this.log.info('Copied the sign-in link to the clipboard.');
          }
        });
    }
    if (!started.listening) {
      return this.pasteRedirectUrl(started.redirectUrl, unreachable);
    }
    const outcome = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'TickTick: allow access in your browser…',
        cancellable: true,
      },
      (_progress, token) => waitForSignon(this.client, started.profile, started.stateExpiresAt, token),
    );
    switch (outcome.kind) {
      case 'signedIn':
        if (outcome.via === 'loopback') {
          this.log.info('Signed in through the loopback listener.');
          void vscode.window.showInformationMessage(await this.signedInMessage(started.profile, outcome.expiresAt));
        }
        return { profile: started.profile, expiresAt: outcome.expiresAt };
      case 'failed':
        if (outcome.error.code === ErrorCode.tokenExchangeFailed) {
          await this.secrets.delete(key);
        }
        throw outcome.error;
      case 'helperExited':
        throw new HelperExitedError(null, null);
      case 'expired':
        throw new HelperError({
          code: ErrorCode.noPendingSignon,
          message: 'expired',
          data: { kind: 'noPendingSignon' },
        });
      case 'cancelled': {
        const choice = await vscode.window.showInformationMessage(
          'TickTick sign-in is no longer waiting for the browser. If the browser ended on a page that did not load, paste its address.',
          'Paste Redirect URL',
        );
        return choice === 'Paste Redirect URL' ? this.pasteRedirectUrl(started.redirectUrl) : undefined;
      }
    }
  }

  /**
   * In a remote or web window, ask VS Code to forward the redirect's port (env.asExternalUri). Returns a
   * sentence saying why the loopback listener cannot be reached when the forwarded address is not the
   * registered redirect URL, else undefined.
   */
  private async unreachableRedirect(redirectUrl: string): Promise<string | undefined> {
    if (!isLoopbackUrl(redirectUrl)) {
      return undefined;
    }
    let forwarded: string;
    try {
      forwarded = (await vscode.env.asExternalUri(vscode.Uri.parse(redirectUrl, true))).toString(true);
    } catch (error) {
      this.log.warn(
        `VS Code could not forward ${redirectUrl}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return `VS Code could not forward ${redirectUrl} to your browser's machine.`;
    }
    if (forwardsAsIs(redirectUrl, forwarded)) {
      return undefined;
    }
    this.log.info(
      `The redirect URL ${redirectUrl} is forwarded as ${forwarded}: the sign-in needs the pasted address.`,
    );
    return `VS Code runs on another machine than your browser, and it can forward ${redirectUrl} only as ${forwarded}, which is not your app's redirect URL.`;
  }

  /**
   * Finish a sign-in with the address the browser ended on. `why`: said first, when the paste is needed
   * because the loopback listener cannot be reached. Returns: the new token, or undefined when the box was closed.
   */
  async pasteRedirectUrl(redirectUrl?: string, why?: string): Promise<SignInResult | undefined> {
    const example = `${redirectUrl ?? DEFAULT_REDIRECT_URL}?code=…&state=…`;
    const pasted = await vscode.window.showInputBox({
      title: 'TickTick: Paste Redirect URL',
      prompt: `${why ? `${why} ` : ''}After you allow access, the browser goes to your redirect URL (the page may not load). Paste that whole address.`,
      placeHolder: example,
      ignoreFocusOut: true,
      validateInput: (value) =>
        isHttpUrl(value) ? undefined : 'Paste the whole address, starting with http:// or https://',
    });
    if (!pasted) {
      return undefined;
    }
    // No profile: the helper finds the sign-on by the URL's state, whichever profile started it.
    let token;
    try {
      token = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'TickTick: finishing sign-in…' },
        () => this.client.completeSignon({ redirectUrl: pasted.trim() }),
      );
    } catch (error) {
      if (error instanceof HelperError && error.code === ErrorCode.tokenExchangeFailed) {
        // Most often a wrong secret: ask for it again next time.
        if (this.lastSecretKey) {
          await this.secrets.delete(this.lastSecretKey);
        }
      }
      throw error;
    }
    this.log.info(`Signed in with a pasted redirect URL (profile ${token.profile}).`);
    void vscode.window.showInformationMessage(await this.signedInMessage(token.profile, token.expiresAt));
    return { profile: token.profile, expiresAt: token.expiresAt };
  }

  async copyToken(): Promise<void> {
    const token = await this.client.getToken({ profile: readSettings().profile });
    await vscode.env.clipboard.writeText(token.accessToken);
    this.log.info('Copied the token to the clipboard.');
    void vscode.window.showInformationMessage(
      `TickTick token copied to the clipboard (valid until ${formatDate(token.expiresAt)}).`,
    );
  }

  async showStatus(): Promise<void> {
    let status: StatusResult;
    try {
      status = await this.client.getStatus({ profile: readSettings().profile });
    } finally {
      void this.refreshStatus();
    }
    const actions = status.signedIn ? ['Copy Token', 'Sign Out'] : ['Sign In'];
    const choice = await vscode.window.showInformationMessage(describeStatus(status), ...actions);
    const target = { 'Copy Token': COMMANDS.copyToken, 'Sign Out': COMMANDS.signOut, 'Sign In': COMMANDS.signIn }[
      choice ?? ''
    ];
    if (target) {
      await vscode.commands.executeCommand(target);
    }
  }

  async signOut(): Promise<void> {
    const profile = readSettings().profile;
    const choice = await vscode.window.showWarningMessage(
      `Sign out of TickTick (profile "${profile}")?`,
      {
        modal: true,
        detail: `${SIGN_OUT_EVERYWHERE(profile)} "Forget" also drops the saved client ID and secret.`,
      },
      'Sign Out',
      'Sign Out and Forget Credentials',
    );
    if (!choice) {
      return;
    }
    const forget = choice === 'Sign Out and Forget Credentials';
    const clientId = forget ? (await this.client.getStatus({ profile })).clientId : null;
    const result = await this.client.signOut({ profile, forget });
    if (forget) {
      const settingsClientId = readSettings().clientId;
      for (const id of new Set([clientId, settingsClientId].filter((v): v is string => !!v))) {
        await this.secrets.delete(secretKey(profile, id));
      }
      await this.secrets.delete(legacySecretKey(profile));
    }
    this.log.info(`Signed out (profile ${profile}, token removed: ${result.signedOut}, forget: ${forget}).`);
    await this.refreshStatus();
    void vscode.window.showInformationMessage(
      result.signedOut ? 'Signed out of TickTick.' : 'You were not signed in to TickTick; nothing to sign out.',
    );
  }

  /** The API other extensions get: the token of the configured profile. */
  async getToken(): Promise<{ accessToken: string; expiresAt: number }> {
    try {
      const profile = readSettings().profile;
      const [token, status] = await Promise.all([
        this.client.getToken({ profile }),
        this.client.getStatus({ profile }),
      ]);
      const issuer = issuerOf(status);
      if (!isOffered(issuer, process.env.TICKTICK_SIGNON_AUTH_URL)) {
        // The same rule as the authentication provider's: a stand-in's token is not handed to consumers.
        throw new HelperError({
          code: ErrorCode.notSignedIn,
          message: `profile ${profile} was signed in to ${issuer.name}, which VS Code is not configured for`,
          data: { kind: 'notSignedIn', profile },
        });
      }
      return { accessToken: token.accessToken, expiresAt: token.expiresAt };
    } catch (error) {
      const { message } = describeError(error);
      throw Object.assign(new Error(message), {
        code: error instanceof HelperError ? error.code : undefined,
        kind: error instanceof HelperError ? error.kind : undefined,
      });
    }
  }

  // -- status bar ---------------------------------------------------------------------

  /** Read the configured profile's status and show it; a missing Python is said once, with what was tried. */
  async refreshStatus(): Promise<void> {
    let status: StatusResult;
    try {
      status = await this.client.getStatus({ profile: readSettings().profile });
    } catch (error) {
      this.log.warn(`Could not read the sign-in status: ${describeError(error).message}`);
      this.showView(undefined, error instanceof HelperUnavailableError ? 'unavailable' : 'stopped');
      if (
        error instanceof HelperUnavailableError &&
        error.reason === 'noPython' &&
        !this.noPythonShown &&
        !this.memento?.get<boolean>(NO_PYTHON_MUTED_KEY, false)
      ) {
        this.noPythonShown = true;
        await this.report(error, 'status', [DONT_SHOW_AGAIN]);
      }
      return;
    }
    this.showView(status);
  }

  /** The settings that choose the helper changed: say a missing Python again if it is still missing. */
  resetProblems(): void {
    this.noPythonShown = false;
  }

  /** `tokenExpiring`: a warning with a Sign In button, for the profile the extension uses. */
  async warnExpiring(params: TokenExpiringParams): Promise<void> {
    const profile = readSettings().profile;
    if (params.profile !== profile) {
      return;
    }
    void this.refreshStatus();
    const choice = await vscode.window.showWarningMessage(expiringMessage(params), 'Sign In');
    if (choice === 'Sign In') {
      await vscode.commands.executeCommand(COMMANDS.signIn);
    }
  }

  private showView(status: StatusResult | undefined, problem?: 'unavailable' | 'stopped'): void {
    const view = statusView(status, problem);
    // The command palette shows Copy Token and Sign Out only when there is something to copy or sign out.
    const signedIn = !!status?.signedIn && !problem;
    if (signedIn !== this.signedInContext) {
      this.signedInContext = signedIn;
      void vscode.commands.executeCommand('setContext', 'ticktick.signedIn', signedIn);
    }
    this.statusItem.accessibilityInformation = { label: `${view.text.replace(/\$\([\w-]+\) /, '')}. ${view.tooltip}` };
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = view.command;
    this.statusItem.backgroundColor = view.warning
      ? new vscode.ThemeColor('statusBarItem.warningBackground')
      : undefined;
    this.statusItem.show();
  }

  // -- prompts and messages --------------------------------------------------------------

  /** "Signed in to <its provider> until ...": the provider from getStatus's issuer (TickTick if it cannot be asked). */
  private async signedInMessage(profile: string, expiresAt: number): Promise<string> {
    // Whole seconds, as the helper counts expiresIn, so this agrees with the status bar.
    const days = daysLeft(expiresAt - Math.floor(Date.now() / 1000));
    const where = await this.client.getStatus({ profile }).then(
      (status) => issuerOf(status).name,
      () => 'TickTick',
    );
    return `Signed in to ${where} until ${formatDate(expiresAt)} (${days} days).`;
  }

  /**
   * The client-ID box, with a button that opens the region's developer portal (where an app is registered).
   * Returns: the ID typed, or undefined when the box was closed.
   */
  private askClientId(region: Region): Promise<string | undefined> {
    const portal = DEVELOPER_PORTALS[region] ?? DEVELOPER_PORTALS.ticktick;
    const host = new URL(portal).host;
    return new Promise((resolve) => {
      const box = vscode.window.createInputBox();
      box.title = 'TickTick: Client ID';
      box.prompt = `The client ID of your app at ${host} (Manage Apps). Set "ticktick.clientId" to skip this question.`;
      box.ignoreFocusOut = true;
      box.buttons = [{ iconPath: new vscode.ThemeIcon('link-external'), tooltip: `Open ${host} to register an app` }];
      let done = false;
      const finish = (value: string | undefined) => {
        if (!done) {
          done = true;
          box.dispose();
          resolve(value);
        }
      };
      box.onDidTriggerButton(() => {
        this.log.info(`Opening the developer portal ${portal}.`);
        void vscode.env.openExternal(vscode.Uri.parse(portal));
      });
      box.onDidChangeValue((value) => {
        box.validationMessage = value.trim() ? undefined : 'Enter the client ID';
      });
      box.onDidAccept(() => {
        const value = box.value.trim();
        if (value) {
          finish(value);
        } else {
          box.validationMessage = 'Enter the client ID';
        }
      });
      box.onDidHide(() => finish(undefined));
      box.show();
    });
  }

  /** Ask the secret and keep it under `key` (secretKey(profile, clientId)). */
  private async askSecret(key: string): Promise<string | undefined> {
    const secret = (
      await vscode.window.showInputBox({
        title: 'TickTick: Client Secret',
        prompt: "Your app's client secret. It is kept in VS Code's secret storage, never in settings.",
        password: true,
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'Enter the client secret'),
      })
    )?.trim();
    if (secret) {
      await this.secrets.store(key, secret);
    }
    return secret || undefined;
  }

  private askRedirectUrl(): Thenable<string | undefined> {
    return vscode.window
      .showInputBox({
        title: 'TickTick: Redirect URL',
        prompt:
          "Must equal the OAuth redirect URL in your app's settings. An http://127.0.0.1:PORT/ address lets the sign-in finish by itself.",
        value: DEFAULT_REDIRECT_URL,
        ignoreFocusOut: true,
        validateInput: (value) => (isHttpUrl(value) ? undefined : 'Enter an http:// or https:// URL'),
      })
      .then((value) => value?.trim() || undefined);
  }

  /** Tell the user what went wrong, in words, with the action that helps. */
  async report(error: unknown, commandId: string, extra: string[] = []): Promise<void> {
    const description = describeError(error);
    const kind =
      error instanceof HelperError ? `${error.kind} (${error.code})` : error instanceof Error ? error.name : 'unknown';
    this.log.warn(`${commandId} failed: ${kind}`);
    if (
      !(error instanceof HelperError) &&
      !(error instanceof HelperUnavailableError) &&
      !(error instanceof HelperExitedError)
    ) {
      this.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    if (error instanceof HelperUnavailableError) {
      this.showView(undefined, 'unavailable');
    }
    const actions = description.suggestion ? ACTIONS[description.suggestion] : [];
    const choice = await vscode.window.showErrorMessage(description.message, ...actions, ...extra);
    switch (choice) {
      case 'Sign In':
        await vscode.commands.executeCommand(COMMANDS.signIn);
        break;
      case 'Paste Redirect URL':
        await vscode.commands.executeCommand(COMMANDS.pasteRedirectUrl);
        break;
      case DONT_SHOW_AGAIN:
        // Only the start-up notification; commands still say what is missing, and the status bar shows it.
        await this.memento?.update(NO_PYTHON_MUTED_KEY, true);
        break;
      case 'Show Log':
        this.log.show();
        break;
      case 'Open Settings':
        await vscode.commands.executeCommand('workbench.action.openSettings', 'ticktick');
        break;
      case 'Install Python':
        await vscode.env.openExternal(vscode.Uri.parse(PYTHON_DOWNLOADS));
        break;
      case 'Set Python Path':
        await vscode.commands.executeCommand('workbench.action.openSettings', 'ticktick.pythonPath');
        break;
      case 'How to Install': {
        const next = await vscode.window.showInformationMessage(
          'Install the TickTick sign-on helper',
          { modal: true, detail: INSTALL_DETAIL },
          'Open Settings',
        );
        if (next === 'Open Settings') {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'ticktick.helperCommand');
        }
        break;
      }
    }
  }
}
