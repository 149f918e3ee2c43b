vim9script
# What the user reads: the helper's own sentences, expiry in words, the status lines, all through
# one way out (echomsg, or g:ticktick_signon_notify). Never a token, a secret or a code.

# Errors the user fixes by acting (sign in again, paste the right URL, click Allow) are warnings;
# a broken helper, provider, network or cache file is an error.
const WARNING_CODES = [-32001, -32002, -32003, -32004, -32005, -32602, -32800]
# Errors after which the next step is a new sign-in: the message names the command.
const SIGN_IN_CODES = [-32001, -32002, -32003, -32004, -32005]

# A JSON true (the helper's booleans arrive as v:true/v:false; anything else is not true).
export def IsTrue(value: any): bool
  return type(value) == v:t_bool && value
enddef

# Show `message` ("info", "warning" or "error"), prefixed "TickTick: ".
export def Notify(message: string, level: string = 'info')
  var text = 'TickTick: ' .. message
  # The name of a function (message, level); a Funcref cannot be kept in a lower-case g: variable.
  var custom = get(g:, 'ticktick_signon_notify', '')
  if type(custom) == v:t_string && custom != ''
    try
      # From Vim 9 script a bare name would be looked up as script-local: it means the global one.
      call(custom =~ '^\h\w*$' ? 'g:' .. custom : custom, [text, level])
      return
    catch
      text ..= printf("\n(g:ticktick_signon_notify '%s' failed: %s)", custom, v:exception)
    endtry
  endif
  var highlight = get({warning: 'WarningMsg', error: 'ErrorMsg'}, level, 'None')
  execute 'echohl' highlight
  var lines = split(text, "\n")
  for line in lines
    echomsg line
  endfor
  echohl None
  # The command line shows one line, cut to fit ("...u...with p)"): a message of more lines, or
  # longer than the line, is also shown whole in a popup, wrapped, for a while.
  if has('popupwin') && (len(lines) > 1 || strdisplaywidth(text) > v:echospace)
    popup_notification(lines, {
      time: 10000, line: &lines - len(lines) - 2, col: 1, pos: 'topleft', wrap: true, border: [0, 0, 0, 0],
      maxwidth: max([&columns - 4, 20]), highlight: highlight == 'None' ? 'Normal' : highlight,
    })
  endif
enddef

# The level an error deserves.
export def Level(error: dict<any>): string
  return index(WARNING_CODES, get(error, 'code', 0)) >= 0 ? 'warning' : 'error'
enddef

# The helper's own sentence for `error`, with the Vim command to run next when that is signing in.
export def Describe(error: dict<any>): string
  var text = get(error, 'message', '')
  if type(text) != v:t_string || text == ''
    text = 'the helper failed without saying why.'
  endif
  if index(SIGN_IN_CODES, get(error, 'code', 0)) >= 0
    text ..= ' (:TickTickSignIn)'
  endif
  return text
enddef

export def Error(error: dict<any>)
  Notify(Describe(error), Level(error))
enddef

# "179d", "5h", "12m", "<1m" or "expired": the time left, short.
export def Left(seconds: number): string
  if seconds <= 0
    return 'expired'
  elseif seconds >= 86400
    return (seconds / 86400) .. 'd'
  elseif seconds >= 3600
    return (seconds / 3600) .. 'h'
  elseif seconds >= 60
    return (seconds / 60) .. 'm'
  endif
  return '<1m'
enddef

def Plural(count: number, unit: string): string
  return printf('%d %s%s', count, unit, count == 1 ? '' : 's')
enddef

# "on 2027-05-27 18:46 (in 179 days)" for a Unix time; "(expired)" when past. The time left is
# the helper's `expires_in` when given, else counted from the clock, in whole units rounded down:
# the CLI's one rule (docs/protocol.md, "Writing a client in another language").
export def Expiry(expires_at: any, expires_in: any = v:null): string
  if type(expires_at) != v:t_number
    return 'at an unknown time'
  endif
  var when = 'on ' .. strftime('%Y-%m-%d %H:%M', expires_at)
  var left = type(expires_in) == v:t_number ? expires_in : expires_at - localtime()
  if left <= 0
    return when .. ' (expired)'
  elseif left >= 86400
    return printf('%s (in %s)', when, Plural(left / 86400, 'day'))
  elseif left >= 3600
    return printf('%s (in %s)', when, Plural(left / 3600, 'hour'))
  elseif left >= 60
    return printf('%s (in %s)', when, Plural(left / 60, 'minute'))
  endif
  return when .. ' (in less than a minute)'
enddef

# The :TickTickStatus text for a getStatus result.
export def Status(status: dict<any>): string
  var profile = get(status, 'profile', '?')
  var lines: list<string> = []
  if IsTrue(get(status, 'signedIn'))
    lines->add(printf('profile %s is signed in; the token expires %s.', profile,
      Expiry(status.expiresAt, get(status, 'expiresIn', v:null))))
  elseif type(get(status, 'expiresAt')) == v:t_number
    lines->add(printf("profile %s's token expired %s; run :TickTickSignIn.", profile, Expiry(status.expiresAt)))
  else
    lines->add(printf('profile %s is not signed in; run :TickTickSignIn.', profile))
  endif
  if IsTrue(get(status, 'pendingSignon'))
    lines->add('A sign-in is waiting for the browser (or for :TickTickPasteRedirectUrl).')
  endif
  var details: list<string> = []
  if type(get(status, 'clientId')) == v:t_string
    details->add('client id ' .. status.clientId)
  endif
  if type(get(status, 'region')) == v:t_string
    details->add('region ' .. status.region)
  endif
  if type(get(status, 'configPath')) == v:t_string
    details->add('cache ' .. status.configPath)
  endif
  if !empty(details)
    lines->add(details->join(', ') .. '.')
  endif
  return lines->join("\n")
enddef
