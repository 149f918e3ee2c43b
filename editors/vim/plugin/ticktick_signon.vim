" ticktick-signon for Vim 9: sign in to TickTick's Open API and hand out its OAuth token.
" Defines the :TickTick* commands; the rest (and the helper process) loads on first use.
if exists('g:loaded_ticktick_signon') || has('nvim')
  finish
endif
if v:version < 900 || !has('vim9script') || !has('job') || !has('channel') || !has('timers')
  echohl WarningMsg
  echomsg 'ticktick-signon needs Vim 9.0 or later with +job, +channel and +timers (see :version)'
  echohl None
  finish
endif
vim9script
g:loaded_ticktick_signon = 1

import autoload 'ticktick_signon/signon.vim'
import autoload 'ticktick_signon/health.vim'

command -bar TickTickSignIn signon.SignIn()
# No -bar: a redirect URL may hold a '|'.
command -nargs=? TickTickPasteRedirectUrl signon.Paste(<q-args>)
command -bar TickTickStatus signon.Status()
command -bar TickTickCopyToken signon.CopyToken()
command -bar -bang TickTickSignOut signon.SignOut(<bang>false)
command -bar TickTickHealth health.Run()
command -bar TickTickUrl signon.ShowUrl()
# The same spelling as Neovim's :TickTick {sub}. No -bar: paste's URL may hold a '|'.
command -nargs=* -bang -complete=customlist,ticktick_signon#signon#CompleteSubcommand TickTick signon.Command(<q-args>, <bang>false)
