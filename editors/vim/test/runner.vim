vim9script
# Entry point of the Vim suite: loads the *_spec.vim files, then lists the cases or runs the one
# named in $TTS_CASE once Vim has started, writes a JSON verdict to $TTS_RESULT, and quits.

import './harness.vim' as H

def Write(result: dict<any>)
  writefile([json_encode(result)], $TTS_RESULT)
enddef

# A spec that does not load is a failed run, reported rather than left waiting at the error.
try
  for spec in glob(($TTS_SPEC_DIR ?? $TTS_TESTS_DIR) .. '/*_spec.vim', true, true)->sort()
    execute 'source' fnameescape(spec)
  endfor
catch
  Write({ok: false, cases: [], error: 'a spec file did not load: ' .. v:exception .. "\n  at " .. v:throwpoint})
  qall!
endtry

# A Vim error shown to the user (a callback that failed, a bad command) fails the case.
def ShownErrors(): string
  var messages = execute('messages')
  return messages =~ 'Error detected while\|\<E\d\+:' ? messages : ''
enddef

def Run(_: number)
  var name = $TTS_CASE
  var Body = H.Get(name)
  var result: dict<any> = {case: name, ok: false}
  if Body == null_function
    result.error = 'no test case named ' .. string(name)
  else
    try
      Body()
      var shown = ShownErrors()
      if shown != ''
        throw "a Vim error was shown:\n" .. shown
      endif
      H.CheckNoSecrets()
      result.ok = true
    catch
      result.error = v:exception .. "\n  at " .. v:throwpoint
    endtry
  endif
  result.notifications = H.notes
  result.events = H.events
  result.prompts = H.prompts
  result.messages = execute('messages')
  result.helper = H.Helper()
  Write(result)
  qall!  # runs VimLeavePre, which stops the helper
enddef

if $TTS_MODE == 'list'
  Write({cases: H.Names()})
  qall!
endif

autocmd VimEnter * ++once timer_start(0, Run)
