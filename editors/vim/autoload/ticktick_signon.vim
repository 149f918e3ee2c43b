" The functions other plugins call: ticktick_signon#get_token() and ticktick_signon#statusline().
" Legacy script on purpose: a Vim 9 script cannot define names with '#'. The work is done in
" autoload/ticktick_signon/signon.vim; see :help ticktick-signon-api.

" Call {callback} with the token (a String), or with an error Dict {code, kind, message, data}.
" {opts} (optional): {'profile': 'work', 'min_valid_seconds': 3600}.
function ticktick_signon#get_token(callback, ...) abort
  return ticktick_signon#signon#GetToken(a:callback, a:0 ? a:1 : {})
endfunction

" A short string for 'statusline': 'TickTick 179d', 'TickTick expired', 'TickTick signed out'.
function ticktick_signon#statusline() abort
  return ticktick_signon#signon#Statusline()
endfunction
