vim9script
# The test kit of the Vim suite: cases, assertions, waits, captured messages and events, a user
# who answers prompts by reading the screen, the browser stand-in, and the secrets no message may hold.

import autoload 'ticktick_signon/helper.vim'

# -- cases ------------------------------------------------------------------------------------

var cases: dict<func> = {}
var order: list<string> = []

# Declare a case. Each case runs in a fresh Vim (the pytest wrapper starts one per case).
export def Case(name: string, Body: func)
  if has_key(cases, name)
    throw 'duplicate test case ' .. name
  endif
  cases[name] = Body
  order->add(name)
enddef

export def Names(): list<string>
  return copy(order)
enddef

export def Get(name: string): func
  return get(cases, name, null_function)
enddef

# -- what the pytest wrapper gives --------------------------------------------------------------

export const python = $TTS_PYTHON
export const tmp = $TTS_TMP
export const tests_dir = $TTS_TESTS_DIR
# The Python suite's shared stand-ins (tests/support), run as programs.
export const fake_browser = $TTS_FAKE_BROWSER
export const ports = $TTS_PORTS
export const auth_url = $TICKTICK_SIGNON_AUTH_URL
export const config_dir = $TICKTICK_SIGNON_CONFIG_DIR
const browser_log = tmp .. '/browser.jsonl'

# A running log of what the user saw and did, for the pytest wrapper to show when a case hangs.
export def Trace(line: string)
  writefile([strftime('%H:%M:%S ') .. line], tmp .. '/trace.log', 'a')
enddef

# -- assertions ---------------------------------------------------------------------------------

def Fail(message: string)
  throw 'FAILED: ' .. message
enddef

export def Ok(value: any, what: string): any
  if !value
    Fail(printf('expected %s, got %s', what, string(value)))
  endif
  return value
enddef

export def Eq(actual: any, expected: any, what: string)
  if type(actual) != type(expected) || actual != expected
    Fail(printf('%s: expected %s, got %s', what, string(expected), string(actual)))
  endif
enddef

export def Contains(haystack: any, needle: string, what: string)
  if type(haystack) != v:t_string || stridx(haystack, needle) < 0
    Fail(printf('%s: expected %s to contain %s', what, string(haystack), string(needle)))
  endif
enddef

export def NotContains(haystack: any, needle: string, what: string)
  if type(haystack) == v:t_string && stridx(haystack, needle) >= 0
    Fail(printf('%s: %s must not contain %s', what, string(haystack), string(needle)))
  endif
enddef

# -- messages, through g:ticktick_signon_notify ------------------------------------------------

export var notes: list<dict<any>> = []  # {msg, level}

def g:TtsNote(message: string, level: string)
  notes->add({msg: message, level: level})
  Trace(printf('message [%s] %s', level, message))
enddef

export def DumpNotes(): string
  return copy(notes)->map((_, n) => printf('  [%s] %s', n.level, n.msg))->join("\n")
enddef

# Wait up to `timeout` ms for `Predicate()` to be truthy, and return its value.
export def WaitFor(Predicate: func(): any, what: string, timeout: number = 20000): any
  var waited = 0
  while true
    var value = Predicate()
    if !!value
      return value
    endif
    if waited >= timeout
      Fail(printf("timed out waiting for %s; messages so far:\n%s", what, DumpNotes()))
    endif
    sleep 20m
    waited += 20
  endwhile
  return v:null
enddef

# Wait for a message containing `needle` after the first `from` ones, and return it.
export def WaitNote(needle: string, from: number = 0, timeout: number = 20000): dict<any>
  return WaitFor(() => {
    for note in notes[from :]
      if stridx(note.msg, needle) >= 0
        return note
      endif
    endfor
    return {}
  }, printf('a message containing %s', string(needle)), timeout)
enddef

export def NoNote(needle: string, from: number = 0)
  for note in notes[from :]
    NotContains(note.msg, needle, 'message')
  endfor
enddef

# -- User events --------------------------------------------------------------------------------

export var events: list<dict<any>> = []  # copies of g:ticktick_signon_event, in order

augroup tts_events
  autocmd!
  autocmd User TickTickSignonCompleted,TickTickSignonFailed,TickTickTokenChanged,TickTickTokenExpiring
    \ events->add(deepcopy(g:ticktick_signon_event)) | Trace('event ' .. string(g:ticktick_signon_event))
augroup END

export def WaitEvent(name: string, from: number = 0, timeout: number = 20000): dict<any>
  return WaitFor(() => {
    for event in events[from :]
      if event.event == name
        return event
      endif
    endfor
    return {}
  }, 'the User event ' .. name, timeout)
enddef

# -- a user at the keyboard -----------------------------------------------------------------

export var prompts: list<dict<any>> = []  # {kind: input|secret, prompt, shown}
# Until a case says how, every prompt gets <Esc>: a prompt nobody expected must not hang the case.
var Answer: func(string, string): any = (_, _) => v:null
var typed = ''                             # the answer typed into the open prompt, before <CR>

def BottomRow(): string
  var text = ''
  for column in range(1, &columns)
    text ..= screenstring(&lines, column)
  endfor
  return substitute(text, '\s\+$', '', '')
enddef

# Every 20 ms, like a person watching the screen: answer input()/inputsecret() prompts through
# `Answer(kind, prompt)` (v:null presses <Esc>). (Hit-enter prompts are answered by the pytest
# wrapper, from outside: after a Vim error no timer runs until someone presses <Enter>.)
def Watch(_: number)
  var mode = mode(1)
  var kind = {'@': 'input', '-': 'secret'}->get(mode == 'c' ? getcmdtype() : '', '')
  if kind == ''
    typed = ''
    return
  endif
  if typed != ''
    # inputsecret() hides the text from getcmdline() too: then the screen must show a star for each.
    if kind == 'input' ? getcmdline() == typed : BottomRow() =~ '\V' .. repeat('*', len(typed)) .. '\$'
      # Typed in full: note what the screen shows of it, then press <Enter>.
      prompts[-1].shown = BottomRow()
      typed = ''
      feedkeys("\r", 't')
    endif
    return
  endif
  if getcmdline() != ''
    return
  endif
  redraw
  var prompt = BottomRow()
  prompts->add({kind: kind, prompt: prompt, shown: ''})
  Trace(printf('prompt (%s) %s', kind, prompt))
  var answer = Answer(kind, prompt)
  if type(answer) != v:t_string || answer == ''
    feedkeys("\<Esc>", 't')
    return
  endif
  if answer == "\<C-c>"
    # Ctrl-C, typed: through the input queue as a person's key, not a stubbed prompt.
    feedkeys("\<C-c>", 't')
    return
  endif
  typed = answer
  feedkeys(answer, 't')
enddef

timer_start(20, Watch, {repeat: -1})

# Answer each prompt with `Respond(kind, prompt)`: a string to type, v:null for <Esc>, or "\<C-c>"
# for Ctrl-C.
export def AnswerPrompts(Respond: func(string, string): any)
  Answer = Respond
enddef

# -- secrets no message may hold ---------------------------------------------------------------

export var forbidden: dict<string> = {'sandbox-secret': 'the client secret'}

export def Forbid(value: any, what: string)
  if type(value) == v:t_string && len(value) >= 4
    forbidden[value] = what
  endif
enddef

# The decoded cache file (config.json), or {}; every token and secret in it becomes forbidden.
export def Cache(): dict<any>
  var path = config_dir .. '/config.json'
  if !filereadable(path)
    return {}
  endif
  var cache = json_decode(readfile(path)->join("\n"))
  for profile in values(get(cache, 'profiles', {}))
    Forbid(get(profile, 'clientSecret', ''), 'a saved client secret')
    if type(get(profile, 'token')) == v:t_dict
      Forbid(get(profile.token, 'accessToken', ''), 'the access token')
    endif
  endfor
  return cache
enddef

export def Screen(): string
  var rows: list<string> = []
  for row in range(1, &lines)
    var text = ''
    for column in range(1, &columns)
      text ..= screenstring(row, column)
    endfor
    rows->add(text)
  endfor
  return rows->join("\n")
enddef

# The entries of a history ('cmd', 'input', ...), oldest first.
export def History(name: string): list<string>
  # histnr() is -1 for an empty history; deleted entries read as ''.
  return range(1, max([histnr(name), 0]))->map((_, i) => histget(name, i))->filter((_, e) => e != '')
enddef

# No token, secret or authorization code in a message, :messages, the screen or a history.
export def CheckNoSecrets()
  try
    Cache()
  catch
    # A case may leave a broken cache file on purpose.
  endtry
  for entry in BrowserEntries()
    var code = matchstr(get(entry, 'redirect', ''), '[?&]code=\zs[^&#]\+')
    Forbid(code, 'an authorization code')
  endfor
  var texts = {messages: execute('messages'), screen: Screen()}
  for i in range(len(notes))
    texts['message ' .. (i + 1)] = notes[i].msg
  endfor
  for history in ['cmd', 'input', 'search', 'expr']
    var entries = History(history)
    for i in range(len(entries))
      texts[printf('%s history entry %d', history, i + 1)] = entries[i]
    endfor
  endfor
  for [where, text] in items(texts)
    for [secret, what] in items(forbidden)
      if stridx(text, secret) >= 0
        var line = split(text, "\n")->filter((_, l) => stridx(l, secret) >= 0)[0]
        throw printf('%s appeared in %s: %s', what, where, trim(line))
      endif
    endfor
  endfor
enddef

# -- the plugin under test, the helper and the browser -------------------------------------

# The real helper, run by the venv's Python.
export def HelperCmd(): list<string>
  return [python, '-m', 'ticktick_signon', 'serve']
enddef

# Settings for a case: the test helper, no browser, and messages captured in `notes`, unless
# `settings` say otherwise.
export def Setup(settings: dict<any> = {})
  extend(g:, {ticktick_signon_cmd: HelperCmd(), ticktick_signon_open: false, ticktick_signon_notify: 'TtsNote'})
  for [name, value] in items(settings)
    g:['ticktick_signon_' .. name] = value
  endfor
enddef

# The opener command of the stand-in browser: clicks `decision`, follows the redirect if `follow`.
export def Browser(decision: string, follow: bool): list<string>
  var cmd = [python, fake_browser, '--log', browser_log, '--decision', decision]
  return follow ? cmd + ['--follow'] : cmd
enddef

export def BrowserEntries(): list<dict<any>>
  return filereadable(browser_log) ? readfile(browser_log)->map((_, line) => json_decode(line)) : []
enddef

# Wait until the browser logged an entry with `key`; return its value.
export def WaitBrowser(key: string, timeout: number = 20000): any
  return WaitFor(() => {
    for entry in BrowserEntries()
      if has_key(entry, 'error')
        throw 'the stand-in browser failed: ' .. entry.error
      endif
      if has_key(entry, key)
        return entry[key]
      endif
    endfor
    return v:null
  }, "the browser's " .. key, timeout)
enddef

export def FreePort(): number
  return str2nr(system(printf('%s %s free', shellescape(python), shellescape(ports))))
enddef

# A loopback port kept busy (so the helper cannot listen there) until the job is stopped.
export def BusyPort(): list<any>
  var port = ''
  var job = job_start([python, ports, 'hold'], {
    out_cb: (_, line) => {
      port = line
    }})
  WaitFor(() => port != '', 'the busy port')
  return [str2nr(port), job]
enddef

# The sandbox app's credentials, where the helper finds them: pyticktick's environment names.
export def UseSandboxCredentials()
  $PYTICKTICK_V1_CLIENT_ID = 'sandbox-client'
  $PYTICKTICK_V1_CLIENT_SECRET = 'sandbox-secret'
enddef

export def Loopback(port: number): string
  return printf('http://127.0.0.1:%d/callback', port)
enddef

# Sign the sandbox app in through the loopback listener; return the cached token.
export def SignInByLoopback(settings: dict<any> = {}): string
  UseSandboxCredentials()
  Setup(extend({redirect_url: Loopback(FreePort()), open: Browser('allow', true)}, settings))
  var from = len(notes)
  execute 'TickTickSignIn'
  WaitNote('TickTick: signed in', from)
  var profile = get(settings, 'profile', 'default')
  return Cache().profiles[profile].token.accessToken
enddef

# ticktick_signon#get_token(), waited for: the token, or the error dict.
export def GetToken(opts: dict<any> = {}): any
  var answer: list<any> = []
  ticktick_signon#get_token((result) => {
    answer->add(result)
  }, opts)
  WaitFor(() => !empty(answer), "get_token's callback")
  Forbid(answer[0], 'the access token')
  return answer[0]
enddef

export def Helper(): dict<any>
  return helper.Info()
enddef

# Run a process (the CLI, as a user would in another terminal); wait for it: [status, output].
export def Run(cmd: list<string>, timeout: number = 60000): list<any>
  var out: list<string> = []
  var job = job_start(cmd, {in_io: 'null', err_io: 'out', out_cb: (_, line) => {
    out->add(line)
  }})
  WaitFor(() => job_status(job) != 'run', 'the command ' .. cmd->join(' '), timeout)
  var channel = job_getchannel(job)
  WaitFor(() => ch_status(channel) == 'closed', 'the output of ' .. cmd->join(' '))
  return [job_info(job).exitval, out]
enddef

# The helper's own command line tool, run with the venv's Python.
export def Cli(args: list<string>): list<any>
  return Run([python, '-m', 'ticktick_signon'] + args)
enddef
