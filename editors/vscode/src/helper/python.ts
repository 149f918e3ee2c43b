// Which Python runs the helper bundled in the extension: the candidates in the issue's order, each
// probed for Python >= 3.10 before use. Plain Node: the VS Code layer supplies the settings' values.

import { spawn } from 'child_process';
import { join } from 'path';

export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** Where a candidate came from, in the order they are tried. */
export type CandidateSource = 'setting' | 'pythonExtension' | 'path';

export interface Candidate {
  source: CandidateSource;
  /** How the candidate is named to the user, e.g. `ticktick.pythonPath "/opt/py/bin/python"`. */
  label: string;
  /** The command that starts that Python, e.g. ['/usr/bin/python3'] or ['py', '-3']. */
  argv: string[];
}

export type ProbeResult =
  | { ok: true; version: string; executable: string }
  | { ok: false; problem: 'notFound' | 'tooOld' | 'failed'; detail: string };

export interface Tried {
  candidate: Candidate;
  result: ProbeResult;
}

export interface FoundPython {
  candidate: Candidate;
  version: string;
  /** sys.executable of the probed interpreter: what the helper is started with. */
  executable: string;
  tried: Tried[];
}

export type Probe = (argv: string[]) => Promise<ProbeResult>;

// Prints [major, minor, micro] and sys.executable as JSON; -I keeps the user's site and PYTHON* out.
const PROBE_CODE = 'import sys, json; print(json.dumps([list(sys.version_info[:3]), sys.executable]))';

/** The settings' and the Python extension's candidates come first; then these, found on PATH. */
export function pathCandidates(platform: NodeJS.Platform = process.platform): Candidate[] {
  const names = platform === 'win32' ? [['py', '-3'], ['python3'], ['python']] : [['python3'], ['python']];
  return names.map((argv) => ({ source: 'path', label: `${argv.join(' ')} on PATH`, argv }));
}

/**
 * The helper's command line once a Python is found: the bundled bootstrap, isolated from the user's site
 * (-I), writing no bytecode (-B) into the extension's folder, where it would be shipped by the next
 * `vsce package` and left behind in the installed extension.
 */
export function bundledHelperArgv(python: string, extensionPath: string): string[] {
  return [python, '-I', '-B', join(extensionPath, 'bundled', 'tool', 'bootstrap.py')];
}

/** True when `version` ("3.11.7") is at least MIN_PYTHON. */
export function isSupported(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/**
 * Run a candidate with a one-line script and read its version and executable.
 * Args: `argv`, the candidate's command; `env`, the helper's environment; `timeoutMs`, after which it counts as failed.
 * Returns: what was found, or why the candidate cannot be used. Never throws.
 */
export function probePython(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 10_000,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(argv[0], [...argv.slice(1), '-I', '-c', PROBE_CODE], {
      env,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill();
      resolve({ ok: false, problem: 'failed', detail: `no answer within ${Math.round(timeoutMs / 1000)} s` });
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(
        error.code === 'ENOENT'
          ? { ok: false, problem: 'notFound', detail: 'not found' }
          : { ok: false, problem: 'failed', detail: error.code ?? error.message },
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(readProbe(code, stdout, stderr));
    });
  });
}

function readProbe(code: number | null, stdout: string, stderr: string): ProbeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    parsed = undefined;
  }
  if (code !== 0 || !Array.isArray(parsed) || !Array.isArray(parsed[0]) || typeof parsed[1] !== 'string') {
    const last = stderr.trim().split('\n').pop()?.slice(0, 200);
    return {
      ok: false,
      problem: 'failed',
      detail: `it did not run as Python (exit code ${code}${last ? `: ${last}` : ''})`,
    };
  }
  const version = (parsed[0] as unknown[]).join('.');
  if (!isSupported(version)) {
    return { ok: false, problem: 'tooOld', detail: `Python ${version}, too old` };
  }
  return { ok: true, version, executable: parsed[1] };
}

/**
 * Probe the candidates in order and take the first Python >= 3.10. A candidate is produced only when the
 * ones before it did not fit, so a costly one (the Python extension's API) is asked only when needed.
 * Returns: the one found with everything tried before it, or undefined and the whole list tried.
 */
export async function findPython(
  candidates: Iterable<Candidate> | AsyncIterable<Candidate>,
  probe: Probe,
): Promise<{ found?: FoundPython; tried: Tried[] }> {
  const tried: Tried[] = [];
  for await (const candidate of candidates) {
    const result = await probe(candidate.argv);
    if (result.ok) {
      return { found: { candidate, version: result.version, executable: result.executable, tried }, tried };
    }
    tried.push({ candidate, result });
  }
  return { tried };
}

/** One line per candidate that did not fit, for the notification and the log. */
export function describeTried(tried: Tried[]): string {
  return tried
    .map(({ candidate, result }) => `${candidate.label}: ${result.ok ? `Python ${result.version}` : result.detail}`)
    .join('; ');
}
