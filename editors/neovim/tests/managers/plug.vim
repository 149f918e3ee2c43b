" Stand-in for vim-plug, for the install-recipe tests (no network). plug#end() puts each plugin's
" folder (its 'rtp' subfolder when given) into 'runtimepath' right after the first entry, and its
" after/ folder before the last, the way vim-plug's s:reorg_rtp() does, then turns on filetype
" plugins and syntax; Neovim then sources plugin/ files from there. :PlugInstall writes the help
" tags of each plugin's doc/ folder. Checked against vim-plug itself.

function! plug#begin(...) abort
  let g:plug_home = a:0 ? a:1 : stdpath('data') . '/plugged'
  let g:plugs = []
  command! -nargs=+ -bar Plug call plug#(<args>)
endfunction

function! plug#(repo, ...) abort
  let opts = a:0 ? a:1 : {}
  let dir = g:plug_home . '/' . fnamemodify(a:repo, ':t:s?\.git$??')
  call add(g:plugs, has_key(opts, 'rtp') ? dir . '/' . opts.rtp : dir)
endfunction

function! plug#end() abort
  let rtps = split(&rtp, ',')
  let afters = filter(map(copy(g:plugs), 'v:val . "/after"'), 'isdirectory(v:val)')
  let &rtp = join([rtps[0]] + g:plugs + rtps[1:-2] + afters + [rtps[-1]], ',')
  filetype plugin indent on
  syntax enable
  command! PlugInstall for s:dir in g:plugs | execute 'helptags' fnameescape(s:dir . '/doc') | endfor
endfunction
