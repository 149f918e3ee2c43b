vim9script
# Finds the helper command: g:ticktick_signon_cmd, `ticktick-signon` on PATH, pipx's and uv's
# tool bin folders, then `python3 -m ticktick_signon`; the same order as the Neovim plugin.

const PROGRAM = 'ticktick-signon'
const MODULE = 'ticktick_signon'

# The command list the user set, checked; a sentence when it is not a list of strings.
def FromSetting(value: any): dict<any>
  if type(value) != v:t_list || empty(value)
      || !empty(copy(value)->filter((_, v) => type(v) != v:t_string || v == ''))
    return {error: "g:ticktick_signon_cmd must be a list of strings, like ['ticktick-signon', 'serve']."}
  endif
  var cmd: list<string> = copy(value)
  if !executable(cmd[0])
    return {error: printf('g:ticktick_signon_cmd names `%s`, which is not a program Vim can run; '
      .. 'fix the setting or unset it to let the plugin look for the helper.', cmd[0])}
  endif
  return {cmd: cmd, source: 'g:ticktick_signon_cmd'}
enddef

def Home(): string
  return expand('~')
enddef

# pipx puts console scripts in $PIPX_BIN_DIR, else ~/.local/bin (on every system since pipx 1.2).
def PipxBinDir(): string
  return !empty($PIPX_BIN_DIR) ? $PIPX_BIN_DIR : Home() .. '/.local/bin'
enddef

# uv: $UV_TOOL_BIN_DIR, else $XDG_BIN_HOME, else $XDG_DATA_HOME/../bin, else ~/.local/bin.
def UvBinDir(): string
  if !empty($UV_TOOL_BIN_DIR)
    return $UV_TOOL_BIN_DIR
  elseif !empty($XDG_BIN_HOME)
    return $XDG_BIN_HOME
  elseif !empty($XDG_DATA_HOME)
    return fnamemodify(simplify($XDG_DATA_HOME .. '/../bin'), ':p')->substitute('[/\\]$', '', '')
  endif
  return Home() .. '/.local/bin'
enddef

def InFolder(folder: string): string
  var path = folder .. '/' .. PROGRAM .. (has('win32') ? '.exe' : '')
  return executable(path) ? path : ''
enddef

# Run `cmd` and wait for it (at most `timeout` ms): {status, out}; status -1 if it could not run.
export def RunSync(cmd: list<string>, timeout: number = 10000): dict<any>
  var out: list<string> = []
  var job = job_start(cmd, {
    in_io: 'null', out_mode: 'nl', err_io: 'out',
    out_cb: (_, line) => {
      out->add(line)
    }})
  if job_status(job) == 'fail'
    return {status: -1, out: []}
  endif
  var waited = 0
  while job_status(job) == 'run' && waited < timeout
    sleep 10m
    waited += 10
  endwhile
  if job_status(job) == 'run'
    job_stop(job, 'kill')
    return {status: -1, out: out}
  endif
  # The last lines may still be in the pipe when the process is already gone.
  var channel = job_getchannel(job)
  waited = 0
  while (ch_status(channel) == 'buffered' || ch_status(channel) == 'open') && waited < 500
    sleep 5m
    waited += 5
  endwhile
  return {status: job_info(job).exitval, out: out}
enddef

# The Pythons to try, each a command list: on Windows the py launcher first, as python.org installs it.
def Pythons(): list<list<string>>
  return has('win32') ? [['py', '-3'], ['python'], ['python3']] : [['python3']]
enddef

# The first Python that has the package, as a command list, or [].
def PythonWithModule(): list<string>
  for python in Pythons()
    var path = exepath(python[0])
    if path == ''
      continue
    endif
    # find_spec does not import the package, so this costs only the interpreter's start.
    var check = printf('import importlib.util, sys; sys.exit(importlib.util.find_spec(%s) is None)', string(MODULE))
    var cmd = [path] + python[1 :]
    if RunSync(cmd + ['-c', check]).status == 0
      return cmd
    endif
  endfor
  return []
enddef

# The places looked in, in order, for messages: ["on PATH", "in pipx's bin folder ...", ...].
def Places(): list<string>
  var places = ['on PATH']
  for [who, folder] in ToolFolders()
    places->add(printf("in %s %s", who, folder))
  endfor
  places->add(printf('for %s -m %s', Pythons()->mapnew((_, p) => p->join(' '))->join(', '), MODULE))
  return places
enddef

# pipx's and uv's folders in search order, each once: [[who, folder], ...].
def ToolFolders(): list<list<string>>
  var pipx = PipxBinDir()
  var uv = UvBinDir()
  if fnamemodify(uv, ':p') == fnamemodify(pipx, ':p')
    return [["pipx's and uv's tool bin folder", pipx]]
  endif
  return [["pipx's bin folder", pipx], ["uv's tool bin folder", uv]]
enddef

const HERE = resolve(expand('<sfile>:p'))

# How to install the helper, naming the repository this plugin came from when it is a whole clone
# (the package is not on PyPI yet, and the clone holds it).
def InstallHint(): string
  # <root>/editors/vim/autoload/ticktick_signon/discovery.vim
  var root = fnamemodify(HERE, ':h:h:h:h:h')
  var pyproject = root .. '/pyproject.toml'
  var from = filereadable(pyproject) && match(readfile(pyproject), '^name = "ticktick-signon"') >= 0
    ? shellescape(root) : '/path/to/ticktick-signon'
  return printf('install it with `pipx install %s` (or `uv tool install %s`; a wheel works too, '
    .. 'see :help ticktick-signon-install)', from, from)
enddef

# Where the helper is: {cmd: list<string>, source: string}, or {error: string} saying what to do.
export def Find(): dict<any>
  if exists('g:ticktick_signon_cmd')
    return FromSetting(g:ticktick_signon_cmd)
  endif
  var path = exepath(PROGRAM)
  if path != ''
    return {cmd: [path, 'serve'], source: 'PATH'}
  endif
  for [who, folder] in ToolFolders()
    path = InFolder(folder)
    if path != ''
      return {cmd: [path, 'serve'], source: printf('%s (%s)', who, folder)}
    endif
  endfor
  var python = PythonWithModule()
  if !empty(python)
    return {cmd: python + ['-m', MODULE, 'serve'], source: printf('%s -m %s', python->join(' '), MODULE)}
  endif
  return {error: printf('The ticktick-signon helper was not found (looked %s); %s, '
    .. 'or set g:ticktick_signon_cmd to its command.', Places()->join(', '), InstallHint())}
enddef

# The command that prints the helper's version: the helper command with `serve` replaced.
export def VersionCommand(cmd: list<string>): list<string>
  if empty(cmd) || cmd[-1] != 'serve'
    return []
  endif
  return cmd[: -2] + ['--version']
enddef
