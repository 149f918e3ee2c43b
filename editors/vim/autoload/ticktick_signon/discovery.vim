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

def Pythons(): list<string>
  return has('win32') ? ['python3', 'python'] : ['python3']
enddef

def PythonWithModule(): string
  for name in Pythons()
    var python = exepath(name)
    if python == ''
      continue
    endif
    # find_spec does not import the package, so this costs only the interpreter's start.
    var check = printf('import importlib.util, sys; sys.exit(importlib.util.find_spec(%s) is None)', string(MODULE))
    if RunSync([python, '-c', check]).status == 0
      return python
    endif
  endfor
  return ''
enddef

# The places looked in, in order, for messages: ["on PATH", "in ~/.local/bin (pipx)", ...].
def Places(): list<string>
  var pipx = PipxBinDir()
  var uv = UvBinDir()
  var places = ['on PATH', printf("in pipx's bin folder %s", pipx)]
  if uv != pipx
    places->add(printf("in uv's tool bin folder %s", uv))
  endif
  places->add(printf('for %s -m %s', Pythons()->join('/'), MODULE))
  return places
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
  var pipx = PipxBinDir()
  path = InFolder(pipx)
  if path != ''
    return {cmd: [path, 'serve'], source: printf("pipx's bin folder (%s)", pipx)}
  endif
  var uv = UvBinDir()
  path = uv == pipx ? '' : InFolder(uv)
  if path != ''
    return {cmd: [path, 'serve'], source: printf("uv's tool bin folder (%s)", uv)}
  endif
  var python = PythonWithModule()
  if python != ''
    return {cmd: [python, '-m', MODULE, 'serve'], source: printf('%s -m %s', python, MODULE)}
  endif
  return {error: printf('The ticktick-signon helper was not found (looked %s); install it with '
    .. '`pipx install ticktick-signon` or `uv tool install ticktick-signon`, '
    .. 'or set g:ticktick_signon_cmd to its command.', Places()->join(', '))}
enddef

# The command that prints the helper's version: the helper command with `serve` replaced.
export def VersionCommand(cmd: list<string>): list<string>
  if empty(cmd) || cmd[-1] != 'serve'
    return []
  endif
  return cmd[: -2] + ['--version']
enddef
