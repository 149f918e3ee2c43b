// One sample for benchmarks/run.py's VS Code row; prints {"ms": N} on stdout.
//   node scripts/bench-activation.js extension PYTHON   activation -> first status-bar text, bundled helper
//   node scripts/bench-activation.js bare PYTHON        the same bundled helper, bare: spawn -> first getStatus reply
// `extension` loads the packaged bundle (dist/extension.js) into the test suites' stand-in for `vscode`
// (out/test/support/fakeVscode.js), with ticktick.pythonPath = PYTHON, so it times the extension's own
// work: loading, finding and probing the interpreter, starting the helper, getStatus, the status text.
// VS Code's own extension-host overhead is not in it. Needs `npm run build` and `npm run bundle` first.
// The cache folder comes from TICKTICK_SIGNON_CONFIG_DIR, as for any helper.

'use strict';

const { spawn } = require('child_process');
const { join, resolve } = require('path');
const { performance } = require('perf_hooks');

const extensionPath = resolve(__dirname, '..');
const [mode, python] = process.argv.slice(2);

function done(ms) {
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}

async function extension() {
  const fake = require(join(extensionPath, 'out', 'test', 'support', 'fakeVscode.js'));
  const state = fake.resetFake();
  state.config.set('ticktick.pythonPath', python);
  let shown;
  const firstText = new Promise((resolveText) => (shown = resolveText));
  const start = performance.now();
  const main = require(join(extensionPath, 'dist', 'extension.js'));
  const context = fake.fakeContext();
  context.extensionPath = extensionPath;
  main.activate(context);
  const item = state.statusItems[0];
  // Time the first text the helper's answer puts there.
  let text = item.text;
  Object.defineProperty(item, 'text', {
    get: () => text,
    set: (value) => {
      text = value;
      if (value) shown(performance.now());
    },
  });
  const end = await firstText;
  if (!/TickTick: /.test(text) || /helper/.test(text)) {
    throw new Error(`the status bar says "${text}": ${state.logLines.join('\n')}`);
  }
  done(end - start);
  await main.deactivate();
  context.subscriptions.forEach((d) => d.dispose());
}

function bare() {
  return new Promise((resolveDone, reject) => {
    const start = performance.now();
    const child = spawn(python, ['-I', join(extensionPath, 'bundled', 'tool', 'bootstrap.py')], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getStatus', params: {} }));
    child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    let seen = Buffer.alloc(0);
    child.stdout.on('data', (chunk) => {
      seen = Buffer.concat([seen, chunk]);
      const text = seen.toString();
      const header = /Content-Length: (\d+)\r\n(?:.*\r\n)*\r\n/.exec(text);
      if (header && Buffer.byteLength(text.slice(header.index + header[0].length)) >= Number(header[1])) {
        done(performance.now() - start);
        child.stdin.end();
        child.once('close', resolveDone);
      }
    });
    child.once('error', reject);
  });
}

(mode === 'extension'
  ? extension()
  : mode === 'bare'
    ? bare()
    : Promise.reject(new Error(`unknown mode ${mode}`))
).catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
