vim9script
# Live token state: changes made outside Vim arrive as events, the status line follows, expiry warns.

import './harness.vim' as H

H.Case('a sign-in and sign-out by the CLI outside Vim reach Vim as events; get_token returns its token', () => {
  H.Setup()
  TickTickStatus
  H.WaitNote('TickTick: profile default is not signed in')
  H.Eq(ticktick_signon#statusline(), 'TickTick signed out', 'the status line before')

  # The command line, as a user would run it in another terminal: a whole sign-in against its sandbox.
  var [status, output] = H.Cli(['login', '--sandbox', '--profile', 'default'])
  H.Eq(status, 0, 'the CLI sign-in: ' .. output->join("\n"))
  var changed = H.WaitEvent('TickTickTokenChanged', 0, 5000)
  var token = H.Cache().profiles.default.token
  H.Eq(changed, {event: 'TickTickTokenChanged', profile: 'default', signedIn: true, expiresAt: token.expiresAt},
    'the event of the CLI sign-in')
  H.Ok(ticktick_signon#statusline() =~ '^TickTick 1\d\dd$', 'the status line after: ' .. ticktick_signon#statusline())
  H.Eq(H.GetToken(), token.accessToken, 'get_token gives the token the CLI saved')

  var from = len(H.events)
  [status, output] = H.Cli(['logout', '--profile', 'default'])
  H.Eq(status, 0, 'the CLI sign-out: ' .. output->join("\n"))
  changed = H.WaitEvent('TickTickTokenChanged', from, 5000)
  H.Eq([changed.profile, changed.signedIn, changed.expiresAt], ['default', false, v:null], 'the sign-out event')
  H.Eq(ticktick_signon#statusline(), 'TickTick signed out', 'the status line after the sign-out')
  H.Eq(H.Helper().started, 1, 'one helper heard it all')
  H.NoNote('expires on')  # a 180-day token brings no expiry warning
})

H.Case('a token with under 7 days left: a warning and TickTickTokenExpiring', () => {
  # This sandbox's tokens live 2 days.
  $TICKTICK_SIGNON_AUTH_URL = $TTS_EXPIRING_AUTH_URL
  H.SignInByLoopback()
  var expiring = H.WaitEvent('TickTickTokenExpiring', 0, 5000)
  H.Eq(expiring.profile, 'default', 'the profile')
  H.Ok(expiring.expiresIn > 86400 && expiring.expiresIn <= 2 * 86400, 'expiresIn: ' .. expiring.expiresIn)
  H.Eq(expiring.expiresAt, H.Cache().profiles.default.token.expiresAt, 'expiresAt')
  var warned = H.WaitNote('the token of profile default expires on')
  H.Eq(warned.level, 'warning', 'level')
  H.Ok(warned.msg =~ '(in [12] days\=)', 'when, in days: ' .. warned.msg)
  H.Contains(warned.msg, ':TickTickSignIn', 'what to do')
  H.Ok(ticktick_signon#statusline() =~ '^TickTick [12]d$', 'the status line: ' .. ticktick_signon#statusline())
})

H.Case('a token passing its expiry: TickTickTokenChanged says signed out, the status line says expired', () => {
  # This sandbox's tokens live 3 seconds.
  $TICKTICK_SIGNON_AUTH_URL = $TTS_SHORT_TOKEN_AUTH_URL
  H.SignInByLoopback()
  var expires_at = H.Cache().profiles.default.token.expiresAt
  var expired = H.WaitFor(() => {
    var found = copy(H.events)->filter((_, e) => e.event == 'TickTickTokenChanged' && !e.signedIn)
    return empty(found) ? {} : found[0]
  }, 'the event of the expiry', 10000)
  H.Eq([expired.profile, expired.expiresAt], ['default', expires_at], 'the expiry event')
  H.Eq(ticktick_signon#statusline(), 'TickTick expired', 'the status line')
})
