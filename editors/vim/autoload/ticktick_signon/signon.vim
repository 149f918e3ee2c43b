vim9script
# The :TickTick* commands, the token for other plugins, the status line and the User events.
# All the OAuth work happens in the helper; this asks it and tells the user.

import autoload 'ticktick_signon/helper.vim'
import autoload 'ticktick_signon/report.vim'

const SETTING_ERROR = 'ticktick-signon setting: '

var waiting: dict<bool> = {}     # profile -> true while the helper's listener waits for the browser
var known: dict<dict<any>> = {}  # profile -> {signedIn, expiresAt}, for the status line
var status_asked = false         # the status line asked the helper once already

# -- settings (read on every use, so changing one needs no restart) ----------------------------

def StringSetting(name: string, default: string): string
  var value = get(g:, 'ticktick_signon_' .. name, default)
  if type(value) != v:t_string
    throw printf('%sg:ticktick_signon_%s must be a string.', SETTING_ERROR, name)
  endif
  return value
enddef

def Profile(): string
  var profile = StringSetting('profile', 'default')
  return profile == '' ? 'default' : profile
enddef

# The profile for what arrives unasked (notifications, the status line): '' when the setting is bad,
# which the next command reports.
def QuietProfile(): string
  try
    return Profile()
  catch
    return ''
  endtry
enddef

def Listen(): bool
  var value = get(g:, 'ticktick_signon_listen', true)
  if index([v:t_bool, v:t_number], type(value)) < 0
    throw SETTING_ERROR .. 'g:ticktick_signon_listen must be true or false.'
  endif
  return !!value
enddef

# Run `Body`, turning a bad setting into a message instead of a Vim error.
def Guarded(Body: func)
  try
    Body()
  catch /^ticktick-signon setting: /
    report.Notify(v:exception[len(SETTING_ERROR) :], 'error')
  endtry
enddef

# -- events and the status line ------------------------------------------------------------

# Set g:ticktick_signon_event and run the `User {name}` autocommands, if there are any.
def Fire(name: string, event: dict<any>)
  g:ticktick_signon_event = extend({event: name}, event)
  if exists('#User#' .. name)
    execute 'doautocmd <nomodeline> User' name
  endif
enddef

def Remember(profile: string, signed_in: bool, expires_at: any)
  var before = get(known, profile, {})
  known[profile] = {signedIn: signed_in, expiresAt: expires_at}
  if before != known[profile]
    redrawstatus!
  endif
enddef

def RememberToken(result: dict<any>)
  Remember(get(result, 'profile', QuietProfile()), true, get(result, 'expiresAt', v:null))
enddef

# What a getToken refusal says about the profile: not signed in, or expired.
def RememberRefusal(profile: string, error: dict<any>)
  if error.code == -32001
    Remember(profile, false, v:null)
  elseif error.code == -32002 && type(get(error.data, 'expiresAt')) == v:t_number
      && error.data.expiresAt <= localtime()
    Remember(profile, false, error.data.expiresAt)
  endif
enddef

# -- sign-in ---------------------------------------------------------------------------------

def SignedIn(profile: string, expires_at: any, expires_in: any = v:null)
  if has_key(waiting, profile)
    remove(waiting, profile)
  endif
  Remember(profile, true, expires_at)
  report.Notify(printf('signed in (profile %s); the token expires %s.', profile,
    report.Expiry(expires_at, expires_in)))
  Fire('TickTickSignonCompleted', {profile: profile, expiresAt: expires_at})
enddef

def SignInFailed(profile: string, error: dict<any>)
  if has_key(waiting, profile)
    remove(waiting, profile)
    redrawstatus!
  endif
  report.Error(error)
  Fire('TickTickSignonFailed', {profile: profile, error: error})
enddef

helper.OnNotification('signonCompleted', (params) => {
  SignedIn(get(params, 'profile', QuietProfile()), get(params, 'expiresAt', v:null))
})

helper.OnNotification('signonFailed', (params) => {
  var error = get(params, 'error', {})
  error = type(error) == v:t_dict ? error : {}
  var data = type(get(error, 'data')) == v:t_dict ? error.data : {}
  SignInFailed(get(params, 'profile', QuietProfile()),
    {code: get(error, 'code', 0), kind: get(data, 'kind', ''), message: get(error, 'message', ''), data: data})
})

helper.OnNotification('tokenChanged', (params) => {
  var profile = get(params, 'profile', QuietProfile())
  Remember(profile, report.IsTrue(get(params, 'signedIn')), get(params, 'expiresAt', v:null))
  Fire('TickTickTokenChanged', params)
})

helper.OnNotification('tokenExpiring', (params) => {
  var profile = get(params, 'profile', QuietProfile())
  if profile == QuietProfile()
    report.Notify(printf('the token of profile %s expires %s; run :TickTickSignIn to renew it.',
      profile, report.Expiry(get(params, 'expiresAt', v:null))), 'warning')
  endif
  Fire('TickTickTokenExpiring', params)
})

helper.OnExitHook((expected) => {
  if !expected && !empty(waiting)
    report.Notify('the helper stopped while waiting for the browser; run :TickTickSignIn again.', 'error')
  endif
  waiting = {}
  redrawstatus!
})

def PlatformOpener(): list<string>
  if has('mac') || has('macunix')
    return ['open']
  elseif has('win32')
    return ['rundll32', 'url.dll,FileProtocolHandler']
  elseif exists('$WSL_DISTRO_NAME') && executable('wslview')
    return ['wslview']
  elseif executable('xdg-open')
    return ['xdg-open']
  elseif exists('$WSL_DISTRO_NAME') && executable('explorer.exe')
    return ['explorer.exe']
  endif
  return []
enddef

var last_url = ''  # the sign-in URL last shown, for :TickTick url

# Show the sign-in URL alone on one line of a scratch window: wrapped on screen but one line to
# yank, where a terminal copy of a wrapped message would pick up the line breaks.
export def ShowUrl()
  if last_url == ''
    report.Notify('no sign-in URL yet; run :TickTickSignIn.', 'warning')
    return
  endif
  # As many rows as the wrapped URL takes, so all of it is on screen.
  execute 'botright :' .. (strdisplaywidth(last_url) / max([&columns, 1]) + 1) .. 'new'
  setlocal buftype=nofile bufhidden=wipe noswapfile wrap
  setline(1, last_url)
  setlocal nomodifiable
  silent! file ticktick-signin-url
enddef

# Put the URL in the unnamed register and, when Vim has one, the clipboard; say where.
def KeepUrl(url: string): string
  last_url = url
  setreg('"', url)
  if has('clipboard')
    setreg('+', url)
    return 'in the clipboard and the unnamed register'
  endif
  return 'in the unnamed register'
enddef

def OpenFailed(why: string)
  report.Notify(printf('could not open a browser (%s); open the URL in the window below yourself '
    .. '(it is in the unnamed register).', why), 'warning')
  ShowUrl()
enddef

# Open `url` with g:ticktick_signon_open (false: don't; a list: that command), else the
# platform's opener.
def Open(url: string)
  var setting = get(g:, 'ticktick_signon_open', v:null)
  var cmd: list<string>
  if type(setting) == v:t_bool || type(setting) == v:t_number
    if !setting
      return
    endif
    cmd = PlatformOpener()
  elseif type(setting) == v:t_list && !empty(setting)
    cmd = copy(setting)->map((_, v) => type(v) == v:t_string ? v : string(v))
  elseif type(setting) == v:t_none
    cmd = PlatformOpener()
  else
    OpenFailed("g:ticktick_signon_open must be false or a command list like ['firefox']")
    return
  endif
  if empty(cmd)
    OpenFailed('no xdg-open, open or wslview found')
    return
  endif
  var program = cmd[0]
  # The browser outlives Vim: no stoponexit.
  var job = job_start(cmd + [url], {
    in_io: 'null', out_io: 'null', err_io: 'null', stoponexit: '',
    exit_cb: (_, status) => {
      if status != 0
        OpenFailed(printf('`%s` exited with status %d', program, status))
      endif
    }})
  if job_status(job) == 'fail'
    OpenFailed(printf('`%s` could not be run', program))
  endif
enddef

# input() from inside a callback: keep whatever the user was typing out of the answer.
def Ask(prompt: string, secret: bool = false): string
  inputsave()
  var answer = secret ? inputsecret(prompt) : input(prompt)
  inputrestore()
  return trim(answer)
enddef

const PROMPTS = {
  clientId: 'TickTick client id (from developer.ticktick.com/manage): ',
  clientSecret: 'TickTick client secret (not shown): ',
}

# Ask for each missing credential: the answers, or {} when the user gives up.
def AskMissing(missing: list<any>): dict<any>
  var values: dict<any> = {}
  for name in missing
    if type(name) != v:t_string
      continue
    endif
    var answer = Ask(get(PROMPTS, name, printf('TickTick %s: ', name)), name == 'clientSecret')
    if answer == ''
      return {}
    endif
    values[name] = answer
  endfor
  return values
enddef

# The redirect URL holds a (single-use) authorization code: off the histories and the screen.
def Forget(url: string)
  var pattern = '\V' .. escape(url, '\')
  for history in ['cmd', 'input']
    histdel(history, pattern)
  endfor
  echo ''
enddef

def Complete(raw: string)
  var url = trim(raw)
  Forget(url)
  var profile = QuietProfile()  # only for the messages: the helper finds the sign-on by its state
  helper.Request('completeSignon', {redirectUrl: url}, (error, result) => {
    if !empty(error)
      SignInFailed(profile, error)
    else
      SignedIn(get(result, 'profile', profile), get(result, 'expiresAt', v:null), get(result, 'expiresIn', v:null))
    endif
  })
enddef

def AskRedirect()
  var url = Ask('TickTick: paste the URL your browser ended on: ')
  if url == ''
    report.Notify('no URL given; run :TickTickPasteRedirectUrl with the address your browser ends on '
      .. '(within 10 minutes).', 'warning')
    return
  endif
  Complete(url)
enddef

def Present(started: dict<any>)
  var where = KeepUrl(started.authorizeUrl)
  var lines = [printf('sign in with your browser; if it does not open, visit (%s; :TickTick url shows '
    .. 'it on one line):', where), started.authorizeUrl]
  if report.IsTrue(started.listening)
    waiting[started.profile] = true
    redrawstatus!
    lines->add(printf('Waiting for the browser to come back to %s (or run :TickTickPasteRedirectUrl '
      .. 'with the address it ends on).', started.redirectUrl))
  endif
  Open(started.authorizeUrl)
  report.Notify(lines->join("\n"))
  if !report.IsTrue(started.listening)
    AskRedirect()
  endif
enddef

def StartSignon(extra: dict<any>, asked: bool)
  var params: dict<any> = {profile: Profile(), listen: Listen()}
  for [name, key] in [['region', 'region'], ['client_id', 'clientId'], ['redirect_url', 'redirectUrl']]
    var value = StringSetting(name, '')
    if value != ''
      params[key] = value
    endif
  endfor
  extend(params, extra)
  helper.Request('startSignon', params, (error, started) => {
    if empty(error)
      Present(started)
      return
    endif
    var missing = get(error.data, 'missing', [])
    if error.code == -32602 && type(missing) == v:t_list && !empty(missing) && !asked
      var values = AskMissing(missing)
      if empty(values)
        report.Notify('sign-in cancelled.', 'warning')
      else
        StartSignon(values, true)
      endif
      return
    endif
    report.Error(error)
  })
enddef

export def SignIn()
  Guarded(() => StartSignon({}, false))
enddef

# Finish a sign-in with the URL the browser ended on; asked for when `url` is empty.
export def Paste(url: string)
  Guarded(() => {
    if trim(url) == ''
      AskRedirect()
    else
      Complete(url)
    endif
  })
enddef

# -- the token, status and sign-out ------------------------------------------------------------

# For other plugins: `Callback(token)` with the token string, or `Callback(error)` with a dict
# {code, kind, message, data}; opts: {profile, min_valid_seconds}.
export def GetToken(Callback: any, opts: any = {})
  if type(Callback) != v:t_func
    throw 'ticktick_signon#get_token() needs a callback: ticktick_signon#get_token({token -> ...})'
  endif
  if type(opts) != v:t_dict
    throw 'ticktick_signon#get_token(): the options must be a dict, like {"profile": "work"}'
  endif
  var unknown = keys(opts)->filter((_, k) => index(['profile', 'min_valid_seconds'], k) < 0)
  if !empty(unknown)
    throw printf('ticktick_signon#get_token(): unknown option %s', string(unknown[0]))
  endif
  var params: dict<any> = {profile: get(opts, 'profile', '')}
  try
    if params.profile == ''
      params.profile = Profile()
    endif
  catch /^ticktick-signon setting: /
    Callback(helper.LocalError('invalidSetting', v:exception[len(SETTING_ERROR) :]))
    return
  endtry
  if has_key(opts, 'min_valid_seconds')
    params.minValidSeconds = opts.min_valid_seconds
  endif
  helper.Request('getToken', params, (error, result) => {
    if !empty(error)
      RememberRefusal(params.profile, error)
      Callback(error)
      return
    endif
    RememberToken(result)
    Callback(result.accessToken)
  })
enddef

export def CopyToken()
  Guarded(() => {
    var profile = Profile()
    helper.Request('getToken', {profile: profile}, (error, result) => {
      if !empty(error)
        RememberRefusal(profile, error)
        report.Error(error)
        return
      endif
      RememberToken(result)
      var where = 'the unnamed register (this Vim has no clipboard; paste it with p)'
      if has('clipboard')
        setreg('+', result.accessToken)
        where = 'the + register (the clipboard)'
      else
        setreg('"', result.accessToken)
      endif
      report.Notify(printf('copied the token of profile %s to %s; it expires %s.',
        result.profile, where, report.Expiry(result.expiresAt, get(result, 'expiresIn', v:null))))
    })
  })
enddef

def AskStatus(Then: func)
  var profile = Profile()
  helper.Request('getStatus', {profile: profile}, (error, status) => {
    if empty(error)
      var expires_at = get(status, 'expiresAt', v:null)
      Remember(status.profile, report.IsTrue(status.signedIn), expires_at)
    endif
    Then(error, status)
  })
enddef

export def Status()
  Guarded(() => AskStatus((error, status) => {
    if !empty(error)
      report.Error(error)
    else
      report.Notify(report.Status(status))
    endif
  }))
enddef

export def SignOut(forget: bool)
  Guarded(() => {
    var profile = Profile()
    var params: dict<any> = {profile: profile}
    if forget
      params.forget = true
    endif
    helper.Request('signOut', params, (error, result) => {
      if !empty(error)
        report.Error(error)
        return
      endif
      if has_key(waiting, profile)
        remove(waiting, profile)
      endif
      Remember(profile, false, v:null)
      var what = report.IsTrue(result.signedOut)
        ? printf('signed out of profile %s; its token was removed.', profile)
        : printf('profile %s had no token to remove.', profile)
      if forget
        what ..= ' Its saved client id and secret are forgotten too.'
      endif
      report.Notify(what)
    })
  })
enddef

# A short, cheap string for 'statusline': "TickTick 179d", "TickTick expired", "TickTick signed
# out", "TickTick signing in"; "" until the helper has been asked once (the first call asks it, and
# the running helper then pushes every change).
export def Statusline(): string
  var profile = QuietProfile()
  if profile == ''
    return ''
  endif
  if get(waiting, profile, false)
    return 'TickTick signing in'
  endif
  if !has_key(known, profile)
    if !status_asked
      status_asked = true
      # Not from inside the status line's evaluation: a timer runs once Vim is idle.
      timer_start(0, (_) => Guarded(() => AskStatus((_, _) => {
        redrawstatus!
      })))
    endif
    return ''
  endif
  var state = known[profile]
  if state.signedIn
    return 'TickTick ' .. report.Left(type(state.expiresAt) == v:t_number ? state.expiresAt - localtime() : 0)
  endif
  return type(state.expiresAt) == v:t_number ? 'TickTick expired' : 'TickTick signed out'
enddef

# -- :TickTick {sub}: the same spelling as Neovim's ------------------------------------------------

const SUBCOMMANDS = ['signin', 'paste', 'url', 'token', 'status', 'signout', 'health']

export def CompleteSubcommand(arglead: string, cmdline: string, _: number): list<string>
  # Only the first argument is a subcommand; paste's URL cannot be guessed.
  if cmdline !~ '^\s*\S\+\s\+\S*$'
    return []
  endif
  return copy(SUBCOMMANDS)->filter((_, name) => stridx(name, arglead) == 0)
enddef

# :TickTick[!] {sub} [args]: each sub is one of the :TickTick* commands.
export def Command(args: string, bang: bool)
  var name = matchstr(args, '^\s*\zs\S\+')
  var rest = substitute(args, '^\s*\S\+\s*', '', '')
  if name == 'signin'
    SignIn()
  elseif name == 'paste'
    Paste(rest)
  elseif name == 'url'
    ShowUrl()
  elseif name == 'token'
    CopyToken()
  elseif name == 'status'
    Status()
  elseif name == 'signout'
    SignOut(bang)
  elseif name == 'health'
    execute 'TickTickHealth'
  else
    # The argument is not echoed: it may be a redirect URL with its code.
    report.Notify((name == '' ? 'give a subcommand' : 'unknown subcommand')
      .. '; use :TickTick signin, paste {url}, url, token, status, signout or health.', 'warning')
  endif
enddef
