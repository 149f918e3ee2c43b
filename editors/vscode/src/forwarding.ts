// Whether the browser can reach the helper's loopback listener through VS Code's port forwarding:
// pure, so the remote and code-server rule is tested on its own.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** True for an http://127.x.x.x, localhost or [::1] URL: a redirect the helper can listen for. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname);
  } catch {
    return false;
  }
}

/**
 * True when `forwarded` (what env.asExternalUri gave for the redirect URL) still reaches the helper at
 * the registered address: plain http on a loopback host of the browser's machine, with the same port and
 * path. The provider sends the browser to the registered URL only, so any other address (another port, a
 * code-server /proxy/ path, an https tunnel) means the loopback listener cannot catch the redirect.
 */
export function forwardsAsIs(registered: string, forwarded: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(registered);
    b = new URL(forwarded);
  } catch {
    return false;
  }
  const port = (url: URL) => url.port || '80';
  // A forward listens on localhost of the browser's machine, which 127.0.0.1 also reaches.
  const sameHost =
    a.hostname === b.hostname ||
    (['localhost', '127.0.0.1'].includes(a.hostname) && ['localhost', '127.0.0.1'].includes(b.hostname));
  return (
    b.protocol === 'http:' && isLoopbackHost(a.hostname) && sameHost && port(a) === port(b) && a.pathname === b.pathname
  );
}
