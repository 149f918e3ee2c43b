vim9script
# The other commands, get_token, the status line, messages, settings and :TickTickHealth.

import './harness.vim' as H
import autoload 'ticktick_signon/report.vim'

const COMMANDS = ['TickTickSignIn', 'TickTickPasteRedirectUrl', 'TickTickStatus', 'TickTickCopyToken',
  'TickTickSignOut', 'TickTickHealth', 'TickTickUrl', 'TickTick']

def Loaded(): list<string>
  # " A: " marks a script only named by `import autoload`, not sourced yet.
  return execute('scriptnames')->split("\n")->filter((_, l) => l =~ 'autoload[/\\]ticktick_signon' && l !~ '^\s*\d\+ A: ')
enddef

H.Case('plugin/ defines the commands and loads nothing else until one is used', () => {
  for name in COMMANDS
    H.Eq(exists(':' .. name), 2, name .. ' is a command')
  endfor
  H.Eq(Loaded(), [], 'autoload scripts loaded at startup')
  H.Eq(exists('g:ticktick_signon_event'), 0, 'no event before anything happened')

  H.Setup()
  TickTickStatus
  H.WaitNote('TickTick: profile default is not signed in')
  H.Ok(len(Loaded()) >= 3, 'the autoload scripts once a command ran: ' .. string(Loaded()))
})

H.Case('copy token: the unnamed register, and it says so; the token itself is never shown', () => {
  var token = H.SignInByLoopback()
  H.Eq(has('clipboard'), 0, 'this Vim has no clipboard')
  setreg('"', 'before')
  var from = len(H.notes)
  TickTickCopyToken
  var said = H.WaitNote('copied the token', from)
  H.Eq(getreg('"'), token, 'the unnamed register holds the token')
  H.Contains(said.msg, 'the unnamed register', 'where it went')
  H.Contains(said.msg, 'expires on', 'when it expires')
})

H.Case('copy token and get_token when not signed in: a warning, registers untouched, code -32001', () => {
  H.Setup()
  setreg('"', 'untouched')
  TickTickCopyToken
  var warned = H.WaitNote('Not signed in')
  H.Eq(warned.level, 'warning', 'level')
  H.Contains(warned.msg, '(:TickTickSignIn)', 'it names the command to run')
  H.Eq(getreg('"'), 'untouched', 'the unnamed register')

  var error = H.GetToken()
  H.Eq([error.code, error.kind, error.data.kind], [-32001, 'notSignedIn', 'notSignedIn'], 'the error dict')
  H.Eq(type(error.message), v:t_string, 'the error has a message')

  for [Call, expected] in [
      [() => ticktick_signon#get_token(), 'E119'],
      [() => ticktick_signon#get_token('not a function'), 'needs a callback'],
      [() => ticktick_signon#get_token((_) => 0, {colour: 'blue'}), "unknown option 'colour'"]]
    try
      Call()
      H.Ok(false, 'an error from a wrong call of get_token')
    catch /^FAILED/
      throw v:exception
    catch
      H.Contains(v:exception, expected, 'the error of a wrong call')
    endtry
  endfor
})

H.Case('get_token with min_valid_seconds beyond the expiry is tokenExpired', () => {
  H.SignInByLoopback()
  var error = H.GetToken({min_valid_seconds: 10 * 365 * 86400})
  H.Eq([error.code, error.kind], [-32002, 'tokenExpired'], 'the error')
  H.Eq(type(H.GetToken({min_valid_seconds: 60})), v:t_string, 'a token valid for another minute')
})

H.Case('a token that expired: status, copy and get_token all say so', () => {
  # This sandbox's tokens live 3 seconds.
  $TICKTICK_SIGNON_AUTH_URL = $TTS_SHORT_TOKEN_AUTH_URL
  H.SignInByLoopback()
  sleep 4
  var error = H.GetToken()
  H.Eq([error.code, error.kind], [-32002, 'tokenExpired'], "get_token's error")
  H.Eq(ticktick_signon#statusline(), 'TickTick expired', 'the status line')
  var from = len(H.notes)
  TickTickStatus
  H.Contains(H.WaitNote('TickTick: profile', from).msg, "token expired on", ':TickTickStatus')
})

H.Case('sign out removes the token; again says there was none; the bang forgets the client', () => {
  H.SignInByLoopback()
  var from = len(H.notes)
  TickTickSignOut
  H.Eq(H.WaitNote('signed out of profile default', from).level, 'info', 'level')
  H.Ok(!has_key(H.Cache().profiles.default, 'token'), 'the token gone from the cache')
  H.Eq(H.Cache().profiles.default.clientId, 'sandbox-client', 'the client id stays without the bang')
  H.Eq(ticktick_signon#statusline(), 'TickTick signed out', 'the status line')

  from = len(H.notes)
  TickTickSignOut
  H.WaitNote('had no token to remove', from)

  from = len(H.notes)
  TickTickSignOut!
  H.Contains(H.WaitNote('had no token', from).msg, 'client id and secret are forgotten too', 'with the bang')
  H.Eq(get(get(H.Cache().profiles, 'default', {}), 'clientId', ''), '', 'the client id is forgotten')
})

H.Case('g:ticktick_signon_profile chooses the profile; tokens of other profiles stay apart', () => {
  var work = H.SignInByLoopback({profile: 'work'})
  H.Eq(H.GetToken(), work, 'get_token follows the setting')
  var error = H.GetToken({profile: 'default'})
  H.Eq(error.kind, 'notSignedIn', 'the default profile has no token')
  var from = len(H.notes)
  TickTickStatus
  H.Contains(H.WaitNote('TickTick: profile work', from).msg, 'is signed in', ':TickTickStatus')
})

H.Case('without g:ticktick_signon_notify, messages go to :messages with the TickTick prefix', () => {
  H.Setup()
  unlet g:ticktick_signon_notify
  H.UseSandboxCredentials()
  g:ticktick_signon_redirect_url = H.Loopback(H.FreePort())
  g:ticktick_signon_open = H.Browser('allow', true)
  TickTickSignIn
  H.WaitFor(() => execute('messages') =~ 'TickTick: signed in (profile default)', 'the success in :messages')
  var messages = execute('messages')
  H.Contains(messages, "TickTick: sign in with your browser; if it does not open, visit (in the unnamed "
    .. "register; :TickTick url shows it on one line):\n" .. H.auth_url
    .. '/oauth/authorize?', 'the sign-in URL, on its own line')
  TickTickCopyToken
  H.WaitFor(() => execute('messages') =~ 'TickTick: copied the token', 'the copy in :messages')
  H.Eq(H.notes, [], 'nothing went through g:ticktick_signon_notify')
})

H.Case('bad settings are messages, not Vim errors', () => {
  H.Setup({profile: 3})
  TickTickStatus
  var bad = H.WaitNote('g:ticktick_signon_profile must be a string')
  H.Eq(bad.level, 'error', 'level')
  unlet g:ticktick_signon_profile

  H.Setup({cmd: 'ticktick-signon serve'})
  TickTickStatus
  H.WaitNote('g:ticktick_signon_cmd must be a list of strings')
  var error = H.GetToken()
  H.Eq([error.code, error.kind], [0, 'helperNotFound'], "get_token's error")

  H.Setup({open: 'firefox'})
  H.UseSandboxCredentials()
  g:ticktick_signon_redirect_url = H.Loopback(H.FreePort())
  TickTickSignIn
  H.WaitNote('g:ticktick_signon_open must be false or a command list')
  H.WaitNote('/oauth/authorize?')

  # A notify function that does not exist: the message still reaches :messages, with why.
  g:ticktick_signon_notify = 'NoSuchNotify'
  TickTickStatus
  H.WaitFor(() => execute('messages') =~ "TickTick: profile default is not signed in", 'the status in :messages')
  H.Contains(execute('messages'), "g:ticktick_signon_notify 'NoSuchNotify' failed", 'why it came this way')
  messages clear  # it quotes Vim's E117, which the runner would take for an error of the plugin
})

H.Case('the status line asks the helper once, then follows every change', () => {
  H.UseSandboxCredentials()  # before the status line starts the helper, which reads them
  H.Setup()
  H.Eq(ticktick_signon#statusline(), '', 'before the helper was asked')
  H.WaitFor(() => ticktick_signon#statusline() == 'TickTick signed out', 'the status line to learn the state')
  H.Eq(H.Helper().started, 1, 'the status line started the helper')
  H.SignInByLoopback()
  H.Ok(ticktick_signon#statusline() =~ '^TickTick 1\d\dd$', 'after signing in: ' .. ticktick_signon#statusline())
  TickTickSignOut
  H.WaitFor(() => ticktick_signon#statusline() == 'TickTick signed out', 'the status line after signing out')
  &statusline = '%{ticktick_signon#statusline()}'
  &laststatus = 2
  redrawstatus
  H.Eq(H.Helper().started, 1, 'one helper for all of it')
})

H.Case(':TickTickHealth shows the helper, its version, the cache and the sign-in', () => {
  H.SignInByLoopback()
  TickTickHealth
  var lines = getline(1, '$')
  var text = lines->join("\n")
  H.Eq(bufname(), 'ticktick-signon://health', 'the health buffer')
  H.Contains(text, 'OK: found in g:ticktick_signon_cmd', 'where the helper was found')
  H.Contains(text, 'command: ' .. H.HelperCmd()->join(' '), 'the command')
  H.Ok(text =~ 'OK: version: ticktick-signon, version \d\+\.\d\+', 'the version line in:' .. "\n" .. text)
  H.Contains(text, 'OK: the helper answers (pid ', 'the helper answers')
  H.Contains(text, 'cache file: ' .. H.config_dir .. '/config.json', 'the cache path')
  H.Contains(text, 'OK: signed in; the token expires on ', 'the sign-in state')
  H.Contains(text, 'client id sandbox-client, region ticktick', 'the app')
  H.Eq(&modifiable, false, 'the report is read-only')
  TickTickHealth
  H.Eq(len(getbufinfo({bufloaded: true})->filter((_, b) => b.name == 'ticktick-signon://health')), 1,
    'running it again reuses the buffer')
})

H.Case('a cache file that cannot be read: an error naming it, for every command, and the file left alone', () => {
  mkdir(H.config_dir, 'p', 0o700)
  var path = H.config_dir .. '/config.json'
  writefile(['{ this is not json'], path)
  setfperm(path, 'rw-------')
  H.Setup()
  for command in ['TickTickStatus', 'TickTickCopyToken', 'TickTickSignOut']
    var from = len(H.notes)
    execute command
    var unreadable = H.WaitNote('TickTick:', from)
    H.Eq(unreadable.level, 'error', 'level, for ' .. command)
    H.Contains(unreadable.msg, path, 'the message names the file, for ' .. command)
  endfor
  var error = H.GetToken()
  H.Eq([error.code, error.kind, error.data.path], [-32008, 'configUnreadable', path], "get_token's error")
  H.Eq(readfile(path), ['{ this is not json'], 'the file as it was')
})

# -- what a newcomer meets (issue 22) ---------------------------------------------------------------

# The screen's text with every blank and line break taken out: a wrapped popup reads as one text.
def Squeezed(): string
  return substitute(H.Screen(), '\_s\+', '', 'g')
enddef

H.Case(':TickTick {sub}, the spelling Neovim uses, runs the same commands and completes them', () => {
  H.Setup()
  H.Eq(getcompletion('TickTick ', 'cmdline'), ['signin', 'paste', 'url', 'token', 'status', 'signout', 'health'],
    'the subcommands')
  H.Eq(getcompletion('TickTick s', 'cmdline'), ['signin', 'status', 'signout'], 'completion of s')
  H.Eq(getcompletion('TickTick status ', 'cmdline'), [], 'only the first argument completes')
  TickTick status
  H.WaitNote('TickTick: profile default is not signed in')
  var from = len(H.notes)
  TickTick bogus
  var warned = H.WaitNote('unknown subcommand', from)
  H.Contains(warned.msg, ':TickTick signin, paste {url}, url, token, status, signout or health', 'the list')
  H.NotContains(warned.msg, 'bogus', 'the argument (it may be a URL with a code)')
})

H.Case(':TickTickStatus shows every line of its message on screen, not only the last', () => {
  H.Setup()
  unlet g:ticktick_signon_notify
  TickTickStatus
  H.WaitFor(() => execute('messages') =~ 'is not signed in', 'the status in :messages')
  var lines = execute('messages')->split("\n")->filter((_, l) => l =~ 'TickTick: profile\|^cache ')
  H.Ok(len(lines) >= 2, 'a status of two lines: ' .. string(lines))
  H.WaitFor(() => stridx(Squeezed(), substitute('TickTick: profile default is not signed in; run', '\s', '', 'g')) >= 0
    && stridx(Squeezed(), substitute(H.config_dir .. '/config.json.', '\s', '', 'g')) >= 0,
    'both lines on screen')
})

H.Case('a message longer than the command line is shown whole on screen', () => {
  H.SignInByLoopback()
  unlet g:ticktick_signon_notify
  &columns = 100  # a terminal of 100 columns: the sentence is wider
  TickTickCopyToken
  H.WaitFor(() => execute('messages') =~ 'copied the token', 'the copy in :messages')
  var said = execute('messages')->split("\n")->filter((_, l) => l =~ 'copied the token')[-1]
  H.Ok(strdisplaywidth(said) > &columns, 'a message wider than the screen: ' .. said)
  H.WaitFor(() => stridx(Squeezed(), substitute(said, '\s', '', 'g')) >= 0, 'the whole sentence on screen')
})

H.Case("days left follow the CLI's one rule: whole units of expiresIn, rounded down", () => {
  var now = localtime()
  for [left, words, short] in [[15552000, 'in 180 days', '180d'], [15551999, 'in 179 days', '179d'],
      [86400, 'in 1 day)', '1d'], [86399, 'in 23 hours', '23h'], [3599, 'in 59 minutes', '59m'],
      [59, 'in less than a minute', '<1m']]
    H.Contains(report.Expiry(now + left, left), words, 'expiry for ' .. left)
    H.Eq(report.Left(left), short, 'short form for ' .. left)
  endfor
  # The helper's count wins over the clock: an expiresAt a second ahead and 180 days by the helper.
  H.Contains(report.Expiry(now + 1, 15552000), 'in 180 days', 'expiresIn, not the clock')
  H.Contains(report.Status({profile: 'p', signedIn: true, expiresAt: now + 15552000, expiresIn: 15551000}),
    'in 179 days', 'the status uses expiresIn')
})
