vim9script
# The helper process: where it is found, when it is missing, crashes, hangs, is replaced and stops.

import './harness.vim' as H
import autoload 'ticktick_signon/discovery.vim'
import autoload 'ticktick_signon/helper.vim'

# An executable `name` in `folder` that runs `target` (a venv's interpreter linked from elsewhere
# would no longer find its venv, so a small script rather than a symlink).
def Program(folder: string, name: string, target: string): string
  mkdir(folder, 'p')
  var path = folder .. '/' .. name
  writefile(['#!/bin/sh', 'exec ' .. shellescape(target) .. ' "$@"'], path)
  setfperm(path, 'rwx------')
  return path
enddef

# A folder holding `ticktick-signon`, as pipx or uv would install it.
def HelperIn(folder: string): string
  return Program(folder, 'ticktick-signon', fnamemodify(H.python, ':h') .. '/ticktick-signon')
enddef

# A folder holding only `python3`: an interpreter that has the package.
def PythonIn(folder: string): string
  return Program(folder, 'python3', H.python)
enddef

# The pid of the running helper (and a check that it runs).
def Pid(): number
  return H.Ok(get(H.Helper(), 'pid', 0), 'a running helper')
enddef

H.Case('the helper missing: every command says how to install it; get_token gets helperNotFound', () => {
  H.Setup()
  unlet g:ticktick_signon_cmd
  $PATH = H.tmp .. '/empty'  # no ticktick-signon, and no python3 either
  mkdir($PATH, 'p')
  for command in ['TickTickSignIn', 'TickTickStatus', 'TickTickCopyToken', 'TickTickSignOut', 'TickTickPasteRedirectUrl x']
    var from = len(H.notes)
    execute command
    var missing = H.WaitNote('The ticktick-signon helper was not found', from)
    H.Eq(missing.level, 'error', 'level, for ' .. command)
    H.Contains(missing.msg, 'pipx install ' .. shellescape(fnamemodify($TTS_PLUGIN_DIR, ':h:h')),
      'the advice names the clone the plugin is in, for ' .. command)
    H.Contains(missing.msg, 'g:ticktick_signon_cmd', 'the advice, for ' .. command)
    H.Contains(missing.msg, H.tmp .. '/home/.local/bin', "the folders looked in, for " .. command)
  endfor
  var error = H.GetToken()
  H.Eq([error.code, error.kind], [0, 'helperNotFound'], "get_token's error")
  H.Contains(error.message, 'was not found', "get_token's error message")
  TickTickHealth
  H.Contains(getline(1, '$')->join("\n"), 'ERROR: The ticktick-signon helper was not found', ':TickTickHealth')
  H.Eq(H.Helper().started, 0, 'no helper was started')
})

H.Case('discovery: the setting, then PATH, then pipx, then uv, then python3 -m ticktick_signon', () => {
  H.Setup()
  unlet g:ticktick_signon_cmd
  var empty = H.tmp .. '/empty'
  mkdir(empty, 'p')
  $PATH = empty
  H.Ok(has_key(discovery.Find(), 'error'), 'nothing found yet')

  var python3 = PythonIn(H.tmp .. '/python-bin')
  $PATH = empty .. ':' .. H.tmp .. '/python-bin'
  H.Eq(discovery.Find().cmd, [python3, '-m', 'ticktick_signon', 'serve'], 'python3 -m ticktick_signon')

  $UV_TOOL_BIN_DIR = H.tmp .. '/uv-tools'
  var uv = HelperIn($UV_TOOL_BIN_DIR)
  H.Eq(discovery.Find().cmd, [uv, 'serve'], "uv's tool folder ($UV_TOOL_BIN_DIR) before python3")
  unlet $UV_TOOL_BIN_DIR
  $XDG_DATA_HOME = H.tmp .. '/xdg/share'
  uv = HelperIn(H.tmp .. '/xdg/bin')
  H.Eq(discovery.Find().cmd, [uv, 'serve'], "uv's tool folder ($XDG_DATA_HOME/../bin)")
  $XDG_BIN_HOME = H.tmp .. '/uv-xdg'
  uv = HelperIn($XDG_BIN_HOME)
  H.Eq(discovery.Find().cmd, [uv, 'serve'], "uv's tool folder ($XDG_BIN_HOME, before $XDG_DATA_HOME)")

  var pipx = HelperIn(H.tmp .. '/home/.local/bin')
  H.Eq(discovery.Find().cmd, [pipx, 'serve'], "pipx's ~/.local/bin before uv's folder")
  $PIPX_BIN_DIR = H.tmp .. '/pipx-bin'
  pipx = HelperIn($PIPX_BIN_DIR)
  H.Eq(discovery.Find().cmd, [pipx, 'serve'], "pipx's $PIPX_BIN_DIR")

  var on_path = HelperIn(H.tmp .. '/path-bin')
  $PATH = H.tmp .. '/path-bin:' .. $PATH
  H.Eq(discovery.Find(), {cmd: [on_path, 'serve'], source: 'PATH'}, 'ticktick-signon on PATH before pipx')

  g:ticktick_signon_cmd = H.HelperCmd()
  H.Eq(discovery.Find(), {cmd: H.HelperCmd(), source: 'g:ticktick_signon_cmd'}, 'the setting before all')
  g:ticktick_signon_cmd = ['/nonexistent/ticktick-signon', 'serve']
  H.Contains(discovery.Find().error, '`/nonexistent/ticktick-signon`, which is not a program', 'a bad setting')
})

H.Case('found as python3 -m ticktick_signon, the helper serves the commands', () => {
  H.Setup()
  unlet g:ticktick_signon_cmd
  var empty = H.tmp .. '/empty'
  mkdir(empty, 'p')
  PythonIn(H.tmp .. '/python-bin')
  $PATH = empty .. ':' .. H.tmp .. '/python-bin'
  TickTickStatus
  H.WaitNote('TickTick: profile default is not signed in')
  H.Eq(H.Helper().source, H.tmp .. '/python-bin/python3 -m ticktick_signon', 'where it was found')
})

H.Case('the helper crashing mid-session: the request in flight fails clearly, the next command restarts it', () => {
  H.Setup()
  TickTickStatus
  H.WaitNote('is not signed in')
  var pid = Pid()
  # Frozen, it cannot answer: the next request is surely in flight when it is killed.
  system('kill -STOP ' .. pid)
  var from = len(H.notes)
  TickTickStatus
  sleep 200m
  system('kill -KILL ' .. pid)
  var died = H.WaitNote('The ticktick-signon helper stopped', from)
  H.Eq(died.level, 'error', 'level')
  H.Contains(died.msg, 'before answering', 'the request in flight')
  H.Contains(died.msg, 'The next command starts it again', 'what happens next')
  H.WaitFor(() => !H.Helper().running, 'Vim to see the helper gone')

  from = len(H.notes)
  TickTickStatus
  H.WaitNote('is not signed in', from)
  H.Eq(H.Helper().started, 2, 'helpers started')
  H.Ok(Pid() != pid, 'a new process')
  H.Eq(type(H.GetToken()), v:t_dict, 'get_token answers from the new helper')
})

H.Case('the helper dying while the browser is awaited is an error; the next sign-in starts a new one', () => {
  H.UseSandboxCredentials()
  var port = H.FreePort()
  H.Setup({redirect_url: H.Loopback(port)})
  TickTickSignIn
  H.WaitNote('Waiting for the browser')
  H.Eq(ticktick_signon#statusline(), 'TickTick signing in', 'the status line while waiting')
  system('kill -KILL ' .. Pid())
  var died = H.WaitNote('the helper stopped while waiting for the browser')
  H.Eq(died.level, 'error', 'level')
  H.Eq(ticktick_signon#statusline() =~ 'signing in', false, 'the status line no longer waits')

  H.Setup({redirect_url: H.Loopback(port), open: H.Browser('allow', true)})
  var from = len(H.notes)
  TickTickSignIn
  H.WaitNote('TickTick: signed in', from)
  H.Eq(H.Helper().started, 2, 'helpers started')
})

H.Case('a helper that fails at start: its last words are in the message', () => {
  H.Setup({cmd: [H.python, '-c', 'import sys; sys.stderr.write("ModuleNotFoundError: No module named x\\n"); sys.exit(3)']})
  TickTickStatus
  var failed = H.WaitNote('The ticktick-signon helper stopped')
  H.Contains(failed.msg, 'exit code 3: ModuleNotFoundError: No module named x', 'how it ended')
  H.Eq(failed.level, 'error', 'level')
})

H.Case('a helper that never answers: the request times out with a message', () => {
  # Reads its stdin and says nothing.
  H.Setup({cmd: [H.python, '-c', 'import sys; sys.stdin.buffer.read()'], timeout: 1})
  TickTickStatus
  var late = H.WaitNote('did not answer getStatus within 1 second')
  H.Eq(late.level, 'error', 'level')
  var error = H.GetToken()
  H.Eq([error.code, error.kind], [0, 'timeout'], "get_token's error")
})

H.Case('changing g:ticktick_signon_cmd stops the old helper (exit 0) and starts the one it names', () => {
  H.Setup()
  TickTickStatus
  H.WaitNote('is not signed in')
  var first = Pid()
  var debug_cmd = [H.python, '-m', 'ticktick_signon', '--log-level', 'debug', 'serve']
  g:ticktick_signon_cmd = debug_cmd
  var from = len(H.notes)
  TickTickStatus
  H.WaitNote('is not signed in', from)
  H.Eq(H.Helper().cmd, debug_cmd, 'the running command')
  H.Ok(Pid() != first, 'a new process')
  H.WaitFor(() => get(H.Helper().last_exit, 'how', '') != '', 'the old helper to exit')
  H.Eq(H.Helper().last_exit.how, 'exit code 0', 'the old helper, its stdin closed, exits cleanly')
  H.NoNote('stopped')
})

H.Case("stopping closes the helper's stdin: it exits with status 0 and no one is told it stopped", () => {
  H.Setup()
  TickTickStatus
  H.WaitNote('is not signed in')
  helper.Stop(true)
  H.Eq(H.Helper().running, false, 'running after Stop')
  H.Eq(H.Helper().last_exit, {how: 'exit code 0', stderr: H.Helper().last_exit.stderr, expected: true}, 'how it ended')
  H.NoNote('stopped')
})
