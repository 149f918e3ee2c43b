vim9script
# The case each install recipe runs (tests/editors/test_vim.py sets up the manager's layout).

import './harness.vim' as H

H.Case('installed: the commands, the help and a sign-in work from where the manager put the plugin', () => {
  var root = resolve($TTS_EXPECT_PLUGIN_ROOT)
  H.Ok(root != '', 'the recipe names where the plugin is')
  var plugin = execute('scriptnames')->split("\n")
    ->map((_, l) => matchstr(l, '^\s*\d\+: \zs.*[/\\]plugin[/\\]ticktick_signon\.vim$'))
    ->filter((_, p) => p != '')
  H.Eq(len(plugin), 1, 'plugin/ticktick_signon.vim sourced once: ' .. string(plugin))
  H.Eq(resolve(expand(plugin[0])), root .. '/plugin/ticktick_signon.vim', 'the plugin file Vim loaded')
  H.Eq(exists(':TickTickSignIn'), 2, ':TickTickSignIn')

  if $TTS_HELPTAGS_ALL != ''
    helptags ALL  # what the help asks package and minpac users to run once
  endif
  help ticktick-signon
  H.Eq(resolve(expand('%:p')), root .. '/doc/ticktick-signon.txt', ':help ticktick-signon opens')
  close

  # No g:ticktick_signon_cmd: the helper is found on PATH, as pipx or uv leave it.
  H.UseSandboxCredentials()
  g:ticktick_signon_notify = 'TtsNote'
  g:ticktick_signon_redirect_url = H.Loopback(H.FreePort())
  g:ticktick_signon_open = H.Browser('allow', true)
  TickTickSignIn
  H.WaitNote('TickTick: signed in')
  H.Eq(H.Helper().source, 'PATH', 'where the helper was found')
  H.Eq(H.GetToken(), H.Cache().profiles.default.token.accessToken, 'get_token')
})
