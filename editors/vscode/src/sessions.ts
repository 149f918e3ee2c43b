// The authentication provider's logic without `vscode`: a session per helper profile built from its token,
// scope filtering in any order, and the difference between two session lists (what onDidChangeSessions says).

import { Region, TokenResult } from './helper/protocol';

/** The scopes TickTick grants; a sign-in always asks for both. */
export const TICKTICK_SCOPES: readonly string[] = ['tasks:read', 'tasks:write'];

/** The shape of vscode.AuthenticationSession, plus the token's expiry. */
export interface TickTickSession {
  /** The helper profile. */
  readonly id: string;
  readonly accessToken: string;
  readonly account: { readonly id: string; readonly label: string };
  readonly scopes: readonly string[];
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface SessionChange {
  added: TickTickSession[];
  removed: TickTickSession[];
  changed: TickTickSession[];
}

const REGION_HOSTS: Record<Region, string> = { ticktick: 'ticktick.com', dida365: 'dida365.com' };

/** What the Accounts menu shows: the profile and the service, e.g. "default (ticktick.com)". */
export function accountLabel(profile: string, region: Region | null): string {
  return `${profile} (${REGION_HOSTS[region ?? 'ticktick'] ?? region})`;
}

/** The session of a profile's token. */
export function sessionOf(token: TokenResult, region: Region | null): TickTickSession {
  return {
    id: token.profile,
    accessToken: token.accessToken,
    account: { id: token.profile, label: accountLabel(token.profile, region) },
    scopes: token.scope.split(/\s+/).filter(Boolean).sort(),
    expiresAt: token.expiresAt,
  };
}

/** True when the session holds every requested scope; order and repeats do not matter. */
export function hasScopes(session: TickTickSession, requested: readonly string[] | undefined): boolean {
  const held = new Set(session.scopes);
  return (requested ?? []).every((scope) => held.has(scope));
}

/** The sessions that hold every requested scope and have not expired; no scopes: all of them. */
export function filterSessions(
  sessions: Iterable<TickTickSession>,
  requested: readonly string[] | undefined,
  nowSeconds: number,
): TickTickSession[] {
  return [...sessions].filter((session) => session.expiresAt > nowSeconds && hasScopes(session, requested));
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
