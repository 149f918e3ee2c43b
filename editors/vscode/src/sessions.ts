// The authentication provider's logic without `vscode`: a session per helper profile built from its token
// and issuer, its label, whether consumers may have it, scope and account filtering, and the difference
// between two session lists (what onDidChangeSessions says).

import { StatusResult, TokenResult } from './helper/protocol';

/** The scopes TickTick grants; a sign-in always asks for both. */
export const TICKTICK_SCOPES: readonly string[] = ['tasks:read', 'tasks:write'];

/** Who issued a session's token, reduced to what the label and the local-provider rule need. */
export interface SessionIssuer {
  /** "TickTick", "Dida365", "the sandbox", or a custom provider's host name. */
  readonly name: string;
  /** Issued by a provider on a loopback address (the sandbox or another stand-in). */
  readonly local: boolean;
  /** The provider's base URL when known; null for TickTick and Dida365 (fixed) and for old local records. */
  readonly url: string | null;
  readonly kind: 'ticktick' | 'dida365' | 'custom';
}

/** The shape of vscode.AuthenticationSession, plus the token's expiry and its issuer. */
export interface TickTickSession {
  /** The helper profile. */
  readonly id: string;
  readonly accessToken: string;
  readonly account: { readonly id: string; readonly label: string };
  readonly scopes: readonly string[];
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly issuer: SessionIssuer;
}

export interface SessionChange {
  added: TickTickSession[];
  removed: TickTickSession[];
  changed: TickTickSession[];
}

/**
 * The issuer of a profile, from getStatus: its `issuer` record when the helper sends one; from older
 * helpers, `sandbox: true` is a local provider of unknown URL, else the profile's recorded region.
 * Never the region *setting*: the account is what the token is, not what the next sign-in would be.
 */
export function issuerOf(status: Pick<StatusResult, 'issuer' | 'sandbox' | 'region'>): SessionIssuer {
  const recorded = status.issuer;
  if (recorded) {
    return { name: recorded.name, local: recorded.local, url: recorded.url, kind: recorded.kind };
  }
  if (status.sandbox) {
    return { name: 'the sandbox', local: true, url: null, kind: 'custom' };
  }
  return status.region === 'dida365'
    ? { name: 'Dida365', local: false, url: null, kind: 'dida365' }
    : { name: 'TickTick', local: false, url: null, kind: 'ticktick' };
}

/**
 * What the Accounts menu shows, e.g. "default (TickTick)", "work (the sandbox)". VS Code keeps each
 * extension's consent by this label, so it is built from the profile and its issuer only: changing the
 * region setting, or a sandbox's port, does not change it.
 */
export function accountLabel(profile: string, issuer: SessionIssuer): string {
  return `${profile} (${issuer.name})`;
}

/** The session of a profile's token and status. */
export function sessionOf(
  token: TokenResult,
  status: Pick<StatusResult, 'issuer' | 'sandbox' | 'region'>,
): TickTickSession {
  const issuer = issuerOf(status);
  return {
    id: token.profile,
    accessToken: token.accessToken,
    account: { id: token.profile, label: accountLabel(token.profile, issuer) },
    scopes: token.scope.split(/\s+/).filter(Boolean).sort(),
    expiresAt: token.expiresAt,
    issuer,
  };
}

/** An http(s) URL's origin, lower-cased, without a default port or a trailing slash; undefined if not a URL. */
function originOf(url: string): string | undefined {
  try {
    return new URL(url.trim()).origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/** True for an http://127.x, localhost or [::1] base URL. */
function isLocalUrl(url: string): boolean {
  try {
    const host = new URL(url.trim()).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/**
 * Whether a session may be offered to other extensions. A token issued by the sandbox or any custom
 * provider is a stand-in's, useless (or misleading) against TickTick: it is offered only when VS Code's own
 * helper is configured for that provider (`configuredAuthUrl`, the TICKTICK_SIGNON_AUTH_URL the extension
 * host passes on to the helper) at the same origin. A local issuer whose URL is not recorded (an older
 * helper or cache) matches any local configured provider, since which one cannot be told.
 *
 * Args: `issuer`, the session's; `configuredAuthUrl`, the provider VS Code's helper signs in to, if overridden.
 * Returns: true when consumers may be given the session.
 */
export function isOffered(issuer: SessionIssuer, configuredAuthUrl: string | undefined): boolean {
  if (issuer.kind !== 'custom' && !issuer.local) {
    return true;
  }
  const configured = configuredAuthUrl?.trim();
  if (!configured) {
    return false;
  }
  if (issuer.url === null) {
    return issuer.local && isLocalUrl(configured);
  }
  const origin = originOf(issuer.url);
  return origin !== undefined && origin === originOf(configured);
}

/** True when the session holds every requested scope; order and repeats do not matter. */
export function hasScopes(session: TickTickSession, requested: readonly string[] | undefined): boolean {
  const held = new Set(session.scopes);
  return (requested ?? []).every((scope) => held.has(scope));
}

/**
 * The sessions that hold every requested scope and have not expired (no scopes: all of them), of the
 * requested account only when one is given (VS Code passes the account a consumer chose before; it is
 * matched by label, as VS Code keys consent, or by id), with `first` (the configured profile) first.
 */
export function filterSessions(
  sessions: Iterable<TickTickSession>,
  requested: readonly string[] | undefined,
  nowSeconds: number,
  options: { account?: { readonly id?: string; readonly label: string }; first?: string } = {},
): TickTickSession[] {
  const { account, first } = options;
  return [...sessions]
    .filter(
      (session) =>
        session.expiresAt > nowSeconds &&
        hasScopes(session, requested) &&
        (!account || session.account.label === account.label || (!!account.id && session.account.id === account.id)),
    )
    .sort((a, b) => Number(b.id === first) - Number(a.id === first));
}

/** Scopes a sign-in cannot grant (anything but tasks:read and tasks:write). */
export function unknownScopes(requested: readonly string[]): string[] {
  return requested.filter((scope) => !TICKTICK_SCOPES.includes(scope));
}

/** What changed from `before` to `after` (both keyed by profile): a new token is `changed`. */
export function diffSessions(
  before: ReadonlyMap<string, TickTickSession>,
  after: ReadonlyMap<string, TickTickSession>,
): SessionChange {
  const change: SessionChange = { added: [], removed: [], changed: [] };
  for (const [id, session] of after) {
    const old = before.get(id);
    if (!old) {
      change.added.push(session);
    } else if (
      old.accessToken !== session.accessToken ||
      old.account.label !== session.account.label ||
      old.issuer.local !== session.issuer.local ||
      old.expiresAt !== session.expiresAt
    ) {
      change.changed.push(session);
    }
  }
  for (const [id, session] of before) {
    if (!after.has(id)) {
      change.removed.push(session);
    }
  }
  return change;
}

export function isEmpty(change: SessionChange): boolean {
  return change.added.length + change.removed.length + change.changed.length === 0;
}
