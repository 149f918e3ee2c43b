// The `ticktick` authentication provider: TickTick in VS Code's Accounts menu, one account per helper
// profile, so any extension can call vscode.authentication.getSession('ticktick', ['tasks:read', 'tasks:write']).
// Multiple accounts, as GitHub's provider: VS Code asks a consumer which account it wants (and remembers it),
// passes that account back in getSessions/createSession, and keeps consent per account label.

import * as vscode from 'vscode';

import { SIGN_OUT_EVERYWHERE, TickTickCommands } from './commands';
import { HelperClient, Logger } from './helper/client';
import { describeError, HelperError } from './helper/errors';
import { ErrorCode } from './helper/protocol';
import {
  diffSessions,
  filterSessions,
  isEmpty,
  isOffered,
  sessionOf,
  TICKTICK_SCOPES,
  TickTickSession,
  unknownScopes,
} from './sessions';

export const PROVIDER_ID = 'ticktick';
export const PROVIDER_LABEL = 'TickTick';
/** Profiles that had a session here before; the helper has no method that lists its profiles. */
const KNOWN_PROFILES_KEY = 'ticktick.knownProfiles';

/** Session ids for the log, comma-separated. */
function ids(sessions: readonly { id: string }[]): string {
  return sessions.map((s) => s.id).join(',');
}

export class TickTickAuthProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changeEmitter =
    new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changeEmitter.event;
  private sessions = new Map<string, TickTickSession>();
  private loaded: Promise<void> | undefined;
  /** Refreshes run one after another, so two diffs never race. */
  private queue: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [this.changeEmitter];

  constructor(
    private readonly client: HelperClient,
    private readonly commands: TickTickCommands,
    private readonly log: Logger,
    private readonly memento: vscode.Memento,
    private readonly configuredProfile: () => string,
  ) {
    this.disposables.push(client.onDidChangeToken(({ profile }) => void this.refresh([profile])));
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  /**
   * The sessions holding every requested scope (in any order), of `options.account` only when VS Code names
   * one; none requested: all of them. The configured profile's comes first. Tokens of a local or custom
   * provider that VS Code's helper is not configured for are never among them.
   */
  async getSessions(
    scopes?: readonly string[],
    options?: { account?: vscode.AuthenticationSessionAccountInformation },
  ): Promise<vscode.AuthenticationSession[]> {
    await this.ensureLoaded();
    return filterSessions(this.sessions.values(), scopes, Date.now() / 1000, {
      account: options?.account,
      first: this.configuredProfile(),
    });
  }

  /**
   * Sign in `options.account` (its profile) when VS Code names one, else the configured profile, through the
   * Sign In command's flow; cancelling rejects with a CancellationError and shows nothing.
   */
  async createSession(
    scopes: readonly string[],
    options?: { account?: vscode.AuthenticationSessionAccountInformation },
  ): Promise<vscode.AuthenticationSession> {
    const unknown = unknownScopes(scopes);
    if (unknown.length > 0) {
      throw new Error(`TickTick grants only the scopes ${TICKTICK_SCOPES.join(' and ')}, not ${unknown.join(', ')}.`);
    }
    const profile = this.profileOf(options?.account);
    let result;
    try {
      result = await this.commands.signIn(profile);
    } catch (error) {
      // The user sees why; the asking extension gets the same sentence.
      void this.commands.report(error, 'createSession');
      throw new Error(describeError(error).message);
    }
    if (!result) {
      throw new vscode.CancellationError();
    }
    await this.refresh([result.profile]);
    const session = this.sessions.get(result.profile);
    if (!session) {
      throw new Error('The TickTick sign-in finished, but the helper has no valid token for it.');
    }
    return session;
  }

  /** The profile an account stands for: a known session's by label, else its id (our ids are profiles). */
  private profileOf(account: vscode.AuthenticationSessionAccountInformation | undefined): string {
    if (!account) {
      return this.configuredProfile();
    }
    for (const session of this.sessions.values()) {
      if (session.account.label === account.label) {
        return session.id;
      }
    }
    return account.id || this.configuredProfile();
  }

  /** The Accounts menu's Sign Out: the helper drops that profile's token (its saved credentials stay). */
  async removeSession(sessionId: string): Promise<void> {
    const result = await this.client.signOut({ profile: sessionId });
    this.log.info(`Signed out from the Accounts menu (profile ${sessionId}, token removed: ${result.signedOut}).`);
    await this.refresh([sessionId]);
    // VS Code's own confirmation speaks of this window; the sign-out reached the whole machine.
    void vscode.window.showInformationMessage(SIGN_OUT_EVERYWHERE(sessionId).replace('This signs', 'Signed'));
  }

  /**
   * Re-read the given profiles (default: every one known) from the helper and fire onDidChangeSessions
   * with what changed. Called for tokenChanged, our own sign-ins and sign-outs, and cache changes.
   */
  async refresh(profiles?: string[]): Promise<void> {
    await this.reloadInTurn(profiles);
  }

  private reloadInTurn(profiles?: string[]): Promise<boolean> {
    const next = this.queue.then(() => this.reload(profiles));
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private ensureLoaded(): Promise<void> {
    if (!this.loaded) {
      // Until the helper could be asked about every profile, the next getSessions asks again.
      const attempt = this.reloadInTurn().then((complete) => {
        if (!complete && this.loaded === attempt) {
          this.loaded = undefined;
        }
      });
      this.loaded = attempt;
    }
    return this.loaded;
  }

  private knownProfiles(): string[] {
    return [
      ...new Set([
        this.configuredProfile(),
        ...this.memento.get<string[]>(KNOWN_PROFILES_KEY, []),
        ...this.sessions.keys(),
      ]),
    ];
  }

  /** Returns: true when every profile could be read. */
  private async reload(profiles = this.knownProfiles()): Promise<boolean> {
    const after = new Map(this.sessions);
    let complete = true;
    for (const profile of new Set(profiles)) {
      let session: TickTickSession | undefined;
      try {
        session = await this.load(profile);
      } catch (error) {
        // The helper cannot be asked: keep what we knew, so a crash does not look like a sign-out.
        this.log.warn(`Could not read the session of profile ${profile}: ${describeError(error).message}`);
        complete = false;
        continue;
      }
      if (session && !isOffered(session.issuer, process.env.TICKTICK_SIGNON_AUTH_URL)) {
        // A stand-in's token must not reach a consumer that expects TickTick (issue 19 §1).
        this.log.info(
          `Profile ${profile} was signed in to ${session.issuer.name}, a provider VS Code is not configured for: not offered.`,
        );
        after.delete(profile);
      } else if (session) {
        after.set(profile, session);
      } else {
        after.delete(profile);
      }
    }
    const change = diffSessions(this.sessions, after);
    this.sessions = after;
    if (isEmpty(change)) {
      return complete;
    }
    await this.memento.update(
      KNOWN_PROFILES_KEY,
      [...after.keys()].filter((p) => p !== this.configuredProfile()),
    );
    this.log.info(
      `Sessions changed: added [${ids(change.added)}], removed [${ids(change.removed)}], changed [${ids(change.changed)}].`,
    );
    this.changeEmitter.fire(change);
    return complete;
  }

  /** A profile's session, or undefined when it has no token or the token expired. */
  private async load(profile: string): Promise<TickTickSession | undefined> {
    try {
      const [token, status] = await Promise.all([
        this.client.getToken({ profile }),
        this.client.getStatus({ profile }),
      ]);
      return sessionOf(token, status);
    } catch (error) {
      if (
        error instanceof HelperError &&
        (error.code === ErrorCode.notSignedIn || error.code === ErrorCode.tokenExpired)
      ) {
        return undefined;
      }
      throw error;
    }
  }
}
