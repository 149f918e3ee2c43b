vim9script
# Sign-in cases against the real helper and the sandbox: loopback, paste, prompts, refusals.

import './harness.vim' as H

H.Case('sign-in by loopback: the browser comes back to the helper; status, status line and token agree', () => {
  H.UseSandboxCredentials()
  var port = H.FreePort()
  H.Setup({redirect_url: H.Loopback(port), open: H.Browser('allow', true)})
  H.Eq(ticktick_signon#statusline(), '', 'the status line before anything is known')

  TickTickSignIn
  var opened = H.WaitBrowser('opened')
  var shown = H.WaitNote('/oauth/authorize?')
  H.Contains(shown.msg, opened, 'the message shows the very URL the browser got')
  H.Contains(opened, H.auth_url .. '/oauth/authorize?', 'the authorize URL goes to the sandbox')
  H.Contains(shown.msg, 'Waiting for the browser to come back to ' .. H.Loopback(port), 'where it waits')
  H.Eq(shown.level, 'info', 'level of the URL message')

  H.Eq(H.WaitBrowser('followed'), 200, "the loopback listener's answer to the browser")
  var done = H.WaitNote('TickTick: signed in')
  H.Eq(done.level, 'info', 'level of the success message')
  H.Contains(done.msg, 'profile default', 'the success message')
  H.Ok(done.msg =~ 'in 1\d\d days', 'the expiry in days (the sandbox issues ~180-day tokens): ' .. done.msg)
  var completed = H.WaitEvent('TickTickSignonCompleted')
  H.Eq(completed.profile, 'default', 'the event names the profile')
  H.Eq(type(completed.expiresAt), v:t_number, 'the event carries expiresAt')
  H.Ok(ticktick_signon#statusline() =~ '^TickTick 1\d\dd$', 'the status line after signing in: ' .. ticktick_signon#statusline())

  var cache = H.Cache()
  H.Eq(cache.profiles.default.clientId, 'sandbox-client', 'the saved client id')
  var from = len(H.notes)
  TickTickStatus
  var status = H.WaitNote('TickTick: profile default', from)
  H.Contains(status.msg, 'is signed in; the token expires', ':TickTickStatus')
  H.Contains(status.msg, 'client id sandbox-client', ':TickTickStatus')
  H.Eq(H.GetToken(), cache.profiles.default.token.accessToken, 'get_token hands out the cached token')
  H.Eq(H.Helper().started, 1, 'one helper served the whole session')
})

H.Case('sign-in by paste: missing credentials are asked for, the secret hidden, then the URL', () => {
  # No credentials anywhere: the helper answers invalidParams with data.missing.
  H.Setup({listen: false, open: H.Browser('allow', false), redirect_url: 'http://127.0.0.1:9/callback'})
  H.AnswerPrompts((kind, prompt) => {
    if prompt =~ 'client id'
      return 'sandbox-client'
    elseif prompt =~ 'client secret'
      return 'sandbox-secret'
    endif
    return prompt =~ 'paste the URL' ? H.WaitBrowser('redirect') : v:null
  })

  TickTickSignIn
  var done = H.WaitNote('TickTick: signed in')
  H.Eq(done.level, 'info', 'level of the success message')
  H.Eq(len(H.prompts), 3, 'prompts shown: ' .. string(H.prompts))
  H.Contains(H.prompts[0].prompt, 'TickTick client id', 'the first prompt')
  H.Eq(H.prompts[0].kind, 'input', 'the client id is asked with input()')
  H.Contains(H.prompts[1].prompt, 'client secret (not shown)', 'the second prompt')
  H.Eq(H.prompts[1].kind, 'secret', 'the secret is asked with inputsecret()')
  H.Contains(H.prompts[1].shown, '**************', 'the screen while the secret is typed')
  H.NotContains(H.prompts[1].shown, 'sandbox-secret', 'the screen while the secret is typed')
  H.Contains(H.prompts[2].prompt, 'paste the URL your browser ended on', 'the third prompt')

  var saved = H.Cache().profiles.default
  H.Eq(saved.clientId, 'sandbox-client', 'the client id typed in is saved by the helper')
  H.Eq(H.GetToken(), saved.token.accessToken, 'get_token')
  H.Eq(H.History('input')->filter((_, e) => e =~ 'code='), [], 'input history entries with the code')
})

H.Case('a redirect port the helper cannot listen on: it asks for the pasted URL', () => {
  H.UseSandboxCredentials()
  var [port, holder] = H.BusyPort()
  H.Setup({redirect_url: H.Loopback(port), open: H.Browser('allow', false)})
  H.AnswerPrompts((_, _) => H.WaitBrowser('redirect'))

  TickTickSignIn
  H.WaitNote('TickTick: signed in')
  H.Eq(len(H.prompts), 1, 'one prompt, for the redirect URL')
  H.Contains(H.prompts[0].prompt, 'paste the URL', 'the prompt')
  H.NoNote('Waiting for the browser')
  job_stop(holder)
})

H.Case('paste: <Esc> at the prompt, then a typed :TickTickPasteRedirectUrl {url} finishes it', () => {
  H.UseSandboxCredentials()
  H.Setup({listen: false, open: H.Browser('allow', false), redirect_url: 'http://127.0.0.1:9/callback'})
  H.AnswerPrompts((_, _) => v:null)

  TickTickSignIn
  var hint = H.WaitNote('no URL given')
  H.Eq(hint.level, 'warning', 'level of the hint')
  H.Contains(hint.msg, ':TickTickPasteRedirectUrl', 'the hint names the command')
  var url = H.WaitBrowser('redirect')

  # Typed as a user would, so it goes through the command line and its history.
  feedkeys(':TickTickPasteRedirectUrl ' .. url .. "\r", 'xt')
  H.WaitNote('TickTick: signed in')
  H.Eq(H.History('cmd')->filter((_, e) => e =~ 'code='), [], 'command-line history entries with the code')

  # The same URL again: its state was used up.
  var from = len(H.notes)
  execute 'TickTickPasteRedirectUrl' url
  var again = H.WaitNote('No sign-on is waiting for this redirect', from)
  H.Eq(again.level, 'warning', 'level of the refusal')
  H.Contains(again.msg, '(:TickTickSignIn)', 'the refusal names the command to run')
  var failed = H.WaitEvent('TickTickSignonFailed')
  H.Eq([failed.error.code, failed.error.kind], [-32003, 'noPendingSignon'], 'the failure event')
})

H.Case('paste: a URL of another attempt and one that is no redirect are refused; the sign-in lives on', () => {
  H.UseSandboxCredentials()
  H.Setup({listen: false, open: H.Browser('allow', false), redirect_url: 'http://127.0.0.1:9/callback'})
  H.AnswerPrompts((_, _) => v:null)

  TickTickSignIn
  H.WaitNote('no URL given')
  var url = H.WaitBrowser('redirect')
  var tampered = substitute(url, 'state=[^&]\+', 'state=not-the-issued-state', '')
  var from = len(H.notes)
  execute 'TickTickPasteRedirectUrl' tampered
  var mismatch = H.WaitNote('TickTick:', from)
  H.Eq(mismatch.level, 'warning', 'level of the state mismatch')
  H.Contains(mismatch.msg, 'latest', "the helper's sentence about the latest sign-in link")

  from = len(H.notes)
  TickTickPasteRedirectUrl not-a-url
  var bad = H.WaitNote('TickTick:', from)
  H.Eq(bad.level, 'warning', 'level of a URL that is no redirect')
  H.Contains(bad.msg, 'http', "the helper's sentence says what a redirect URL looks like")

  from = len(H.notes)
  execute 'TickTickPasteRedirectUrl' url
  H.WaitNote('TickTick: signed in', from)
})

H.Case('denied in the browser (loopback): a warning, the failure event, and still not signed in', () => {
  H.UseSandboxCredentials()
  H.Setup({redirect_url: H.Loopback(H.FreePort()), open: H.Browser('deny', true)})

  TickTickSignIn
  var denied = H.WaitNote('did not allow access')
  H.Eq(denied.level, 'warning', 'level of the refusal')
  H.Contains(denied.msg, '(:TickTickSignIn)', 'the refusal names the command to run')
  var failed = H.WaitEvent('TickTickSignonFailed')
  H.Eq([failed.profile, failed.error.code, failed.error.kind], ['default', -32005, 'authorizationDenied'], 'event')
  H.NoNote('TickTick: signed in')
  var error = H.GetToken()
  H.Eq([error.code, error.kind], [-32001, 'notSignedIn'], "get_token's error")
  H.Eq(ticktick_signon#statusline(), 'TickTick signed out', 'the status line')
})

H.Case('denied in the browser (paste): the refusal is a warning and nothing is saved', () => {
  H.UseSandboxCredentials()
  H.Setup({listen: false, open: H.Browser('deny', false), redirect_url: 'http://127.0.0.1:9/callback'})
  H.AnswerPrompts((_, _) => H.WaitBrowser('redirect'))

  TickTickSignIn
  var denied = H.WaitNote('did not allow access')
  H.Eq(denied.level, 'warning', 'level of the refusal')
  H.Eq(get(H.Cache().profiles, 'default', {}), {}, 'a refused sign-in saves nothing')
})

H.Case("a provider that cannot be reached is an error, in the helper's words", () => {
  $TICKTICK_SIGNON_AUTH_URL = printf('http://127.0.0.1:%d', H.FreePort())
  H.UseSandboxCredentials()
  H.Setup({listen: false, redirect_url: 'http://127.0.0.1:9/callback'})
  H.Forbid('abcdefgh12345678', 'the authorization code')
  H.AnswerPrompts((_, _) => {
    # A redirect as the provider would send it, with the state the helper issued.
    var state = matchstr(H.WaitNote('/oauth/authorize?').msg, 'state=\zs[^&[:space:]]\+')
    return 'http://127.0.0.1:9/callback?code=abcdefgh12345678&state=' .. state
  })
  TickTickSignIn
  var failed = H.WaitNote('Could not reach the provider at 127.0.0.1')
  H.Eq(failed.level, 'error', 'level of a network error')
})

H.Case('a wrong client secret: the provider refuses the exchange; an error that never shows the secret', () => {
  $PYTICKTICK_V1_CLIENT_ID = 'sandbox-client'
  $PYTICKTICK_V1_CLIENT_SECRET = 'wrong-secret-0123456789'
  H.Forbid('wrong-secret-0123456789', 'the (wrong) client secret')
  H.Setup({redirect_url: H.Loopback(H.FreePort()), open: H.Browser('allow', true)})
  TickTickSignIn
  var refused = H.WaitNote('refused the token request (HTTP 401)')
  H.Eq(refused.level, 'error', 'level of a refused exchange')
  H.NoNote('TickTick: signed in')
  H.Eq(get(H.Cache().profiles, 'default', {}), {}, 'a failed sign-in saves no settings')
})

H.Case('Ctrl-C at the client id prompt cancels the sign-in like <Esc>, without a Vim error', () => {
  H.Setup()
  H.AnswerPrompts((_, _) => "\<C-c>")
  v:errmsg = ''
  TickTickSignIn
  var cancelled = H.WaitNote('sign-in cancelled')
  H.Eq(cancelled.level, 'warning', 'level of the cancel')
  H.Eq(len(H.prompts), 1, 'only the first prompt was shown')
  H.Eq(v:errmsg, '', 'v:errmsg')
  H.NotContains(execute('messages'), 'Interrupt', ':messages')
})

H.Case('Ctrl-C at the paste prompt is the same as <Esc>: no URL given', () => {
  H.Setup()
  H.AnswerPrompts((_, _) => "\<C-c>")
  v:errmsg = ''
  TickTickPasteRedirectUrl
  H.WaitNote('no URL given')
  H.Eq(v:errmsg, '', 'v:errmsg')
})

H.Case('<Esc> at the client id prompt cancels the sign-in', () => {
  H.Setup()
  H.AnswerPrompts((_, _) => v:null)
  TickTickSignIn
  var cancelled = H.WaitNote('sign-in cancelled')
  H.Eq(cancelled.level, 'warning', 'level of the cancel')
  H.Eq(len(H.prompts), 1, 'only the first prompt was shown')
})

H.Case('an opener that fails still leaves the URL on screen', () => {
  H.UseSandboxCredentials()
  H.Setup({open: ['/nonexistent/browser'], redirect_url: H.Loopback(H.FreePort())})
  TickTickSignIn
  var shown = H.WaitNote('/oauth/authorize?')
  H.Contains(shown.msg, 'if it does not open, visit', 'the URL message')
  var warned = H.WaitNote('could not open a browser')
  H.Eq(warned.level, 'warning', 'level of the opener failure')
})

H.Case('without g:ticktick_signon_open, the platform opener (xdg-open) opens the sign-in page', () => {
  # A stand-in xdg-open first on PATH, running the stand-in browser.
  var bin = H.tmp .. '/bin'
  mkdir(bin, 'p')
  var browser = H.Browser('allow', true)->map((_, a) => shellescape(a))->join(' ')
  writefile(['#!/bin/sh', 'exec ' .. browser .. ' "$1"'], bin .. '/xdg-open')
  setfperm(bin .. '/xdg-open', 'rwx------')
  $PATH = bin .. ':' .. $PATH
  H.UseSandboxCredentials()
  H.Setup({redirect_url: H.Loopback(H.FreePort())})
  unlet g:ticktick_signon_open
  TickTickSignIn
  H.Contains(H.WaitBrowser('opened'), '/oauth/authorize?', 'what xdg-open got')
  H.WaitNote('TickTick: signed in')
  H.NoNote('could not open a browser')
})

H.Case('an opener that fails (xdg-open exits 3) is said, and the URL is shown whole in a window', () => {
  var bin = H.tmp .. '/bin'
  mkdir(bin, 'p')
  writefile(['#!/bin/sh', 'exit 3'], bin .. '/xdg-open')
  setfperm(bin .. '/xdg-open', 'rwx------')
  $PATH = bin .. ':' .. $PATH
  H.UseSandboxCredentials()
  H.Setup({redirect_url: H.Loopback(H.FreePort())})
  unlet g:ticktick_signon_open
  setreg('"', 'before')
  TickTickSignIn
  var shown = H.WaitNote('/oauth/authorize?')
  var url = matchstr(shown.msg, 'http://[^ \n]*/oauth/authorize?[^ \n]*')
  H.Contains(shown.msg, 'in the unnamed register', 'where the URL is')
  H.Eq(getreg('"'), url, 'the unnamed register')
  var warned = H.WaitNote('could not open a browser')
  H.Contains(warned.msg, 'exited with status 3', 'why')
  H.Contains(warned.msg, 'the window below', 'where to look')
  H.Eq(getline(1, '$'), [url], 'the window holds the URL on one line')
  redraw
  H.Ok(stridx(substitute(H.Screen(), '\_s\+', '', 'g'), url) >= 0, 'the whole URL on screen')
})
