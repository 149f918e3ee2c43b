vim9script
# The one `ticktick-signon serve` process of this Vim, spoken to over an LSP-framed job channel.
# Starts on first use, fails the requests still waiting when it dies, and stops when Vim exits.

import autoload 'ticktick_signon/discovery.vim'

const STDERR_KEPT = 40

# The running helper: {job, channel, cmd, source, pending: {id: {callback, timer}}, stderr, stopping}.
var current: dict<any> = {}
var handlers: dict<func> = {}    # notification method -> func(params: dict<any>)
var exit_hooks: list<func> = []  # func(expected: bool)
var started = 0
var last_exit: dict<any> = {}    # {how, stderr} of the helper that ended last

# An error that happened on Vim's side: code 0, and a kind the protocol does not use.
export def LocalError(kind: string, message: string): dict<any>
  return {code: 0, kind: kind, message: message, data: {kind: kind}}
enddef

# The JSON-RPC error as callers branch on it: code and kind, never the message text.
def FromRpcError(error: any): dict<any>
  if type(error) != v:t_dict
    return LocalError('internalError', 'The ticktick-signon helper sent an error without details.')
  endif
  var data = type(get(error, 'data')) == v:t_dict ? error.data : {}
  return {
    code: get(error, 'code', 0),
    kind: get(data, 'kind', ''),
    message: get(error, 'message', 'The ticktick-signon helper failed without saying why.'),
    data: data,
  }
enddef

def Timeout(): number
  var seconds = get(g:, 'ticktick_signon_timeout', 60)
  return (type(seconds) == v:t_number || type(seconds) == v:t_float) && seconds > 0
    ? float2nr(seconds * 1000.0) : 60000
enddef

def FailPending(inst: dict<any>, error: dict<any>)
  var pending = inst.pending
  inst.pending = {}
  for entry in values(pending)
    timer_stop(entry.timer)
    entry.callback(error, v:null)
  endfor
enddef

# "exit code 1: <its last words>", "signal kill" or "" while it still runs.
def HowItEnded(inst: dict<any>): string
  var waited = 0
  # The pipe closes a moment before the process is reaped.
  while job_status(inst.job) == 'run' && waited < 500
    sleep 10m
    waited += 10
  endwhile
  var info = job_info(inst.job)
  if info.status == 'run'
    return 'closed its output'
  elseif get(info, 'termsig', '') != ''
    return 'signal ' .. info.termsig
  endif
  var how = 'exit code ' .. info.exitval
  if info.exitval != 0 && !empty(inst.stderr)
    how ..= ': ' .. trim(inst.stderr[-1])
  endif
  return how
enddef

def OnReply(inst: dict<any>, reply: any)
  var key = type(reply) == v:t_dict ? string(get(reply, 'id', '')) : ''
  if !has_key(inst.pending, key)
    return  # already failed (timeout, exit); the late reply has no one to go to
  endif
  var entry = remove(inst.pending, key)
  timer_stop(entry.timer)
  if has_key(reply, 'error')
    entry.callback(FromRpcError(reply.error), v:null)
  else
    entry.callback({}, get(reply, 'result', v:null))
  endif
enddef

# Messages no request callback took: the helper's notifications (and replies with "id": null).
def OnMessage(message: any)
  if type(message) != v:t_dict || has_key(message, 'id') || type(get(message, 'method')) != v:t_string
    return
  endif
  var Handler = get(handlers, message.method, null_function)
  if Handler != null_function
    Handler(type(get(message, 'params')) == v:t_dict ? message.params : {})
  endif
enddef

def OnStderr(inst: dict<any>, line: string)
  inst.stderr->add(line)
  if len(inst.stderr) > STDERR_KEPT
    remove(inst.stderr, 0)
  endif
enddef

def FailUnanswered(inst: dict<any>)
  if !empty(inst.pending)
    FailPending(inst, LocalError('helperExited', printf('The ticktick-signon helper stopped (%s) '
      .. 'before answering; run :TickTickHealth to see why. The next command starts it again.',
      HowItEnded(inst))))
  endif
enddef

# Every reply has been read once the channel closes, so what is still pending never will be.
def OnClose(inst: dict<any>)
  inst.closed = true
  FailUnanswered(inst)
enddef

def OnExit(inst: dict<any>)
  var was_current = current is inst
  if was_current
    current = {}
  endif
  last_exit = {how: HowItEnded(inst), stderr: copy(inst.stderr), expected: inst.stopping}
  # Replies may still sit in the pipe after the process is gone: then the close fails the rest.
  if inst.closed || index(['closed', 'fail'], ch_status(inst.channel)) >= 0
    FailUnanswered(inst)
  endif
  # A helper Vim stopped and already replaced says nothing about the one running now.
  if was_current || !inst.stopping
    for Hook in exit_hooks
      Hook(inst.stopping)
    endfor
  endif
enddef

# The running helper, started if need be: the instance, or {error: <local error>}.
def Ensure(): dict<any>
  if !empty(current) && exists('g:ticktick_signon_cmd')
      && (type(g:ticktick_signon_cmd) != v:t_list || g:ticktick_signon_cmd != current.cmd)
    Stop()  # the setting changed: the next helper is the one it names
  endif
  if !empty(current)
    return current
  endif
  var found = discovery.Find()
  if has_key(found, 'error')
    return {error: LocalError('helperNotFound', found.error)}
  endif
  var inst: dict<any> = {cmd: found.cmd, source: found.source, pending: {}, stderr: [], stopping: false, closed: false}
  var job = job_start(found.cmd, {
    in_mode: 'lsp', out_mode: 'lsp', err_mode: 'nl', noblock: true, stoponexit: 'term',
    callback: (_, message) => OnMessage(message),
    err_cb: (_, line) => OnStderr(inst, line),
    close_cb: (_) => OnClose(inst),
    exit_cb: (_, _) => OnExit(inst),
  })
  if job_status(job) == 'fail'
    return {error: LocalError('helperNotFound', printf('The ticktick-signon helper `%s` could not be started.',
      found.cmd->join(' ')))}
  endif
  inst.job = job
  inst.channel = job_getchannel(job)
  current = inst
  started += 1
  return inst
enddef

# Send `method` and call `Callback(error, result)` exactly once: error is {} on success, else
# {code, kind, message, data}; code 0 means Vim's side failed (helperNotFound, helperExited, timeout).
export def Request(method: string, params: dict<any>, Callback: func)
  var got = Ensure()
  if has_key(got, 'error')
    Callback(got.error, v:null)
    return
  endif
  var inst = got
  var message: dict<any> = {method: method}
  if !empty(params)
    message.params = params  # the protocol takes an omitted params as {}
  endif
  var sent: dict<any>
  try
    sent = ch_sendexpr(inst.channel, message, {callback: (_, reply) => OnReply(inst, reply)})
  catch
    Callback(LocalError('helperExited', 'The ticktick-signon helper is not running; try again.'), v:null)
    return
  endtry
  var key = string(sent.id)
  var seconds = Timeout() / 1000
  var within = seconds == 1 ? '1 second' : printf('%d seconds', seconds)
  inst.pending[key] = {
    callback: Callback,
    timer: timer_start(Timeout(), (_) => {
      if has_key(inst.pending, key)
        remove(inst.pending, key).callback(LocalError('timeout', printf('The ticktick-signon helper did not '
          .. 'answer %s within %s; run :TickTickHealth, or try again.', method, within)), v:null)
      endif
    }),
  }
enddef

# Call `Handler(params)` for each `method` notification the helper sends.
export def OnNotification(method: string, Handler: func)
  handlers[method] = Handler
enddef

# Call `Hook(expected)` whenever a helper ends; expected is true when Vim stopped it.
export def OnExitHook(Hook: func)
  exit_hooks->add(Hook)
enddef

export def Running(): bool
  return !empty(current)
enddef

# For :TickTickHealth and the tests: the running helper's pid and command, and how the last one ended.
export def Info(): dict<any>
  var info: dict<any> = {running: !empty(current), started: started, last_exit: copy(last_exit)}
  if !empty(current)
    info.pid = job_info(current.job).process
    info.cmd = copy(current.cmd)
    info.source = current.source
    info.stderr = copy(current.stderr)
  endif
  return info
enddef

# Stop the helper by closing its stdin, the protocol's way; with `wait`, make sure it is gone.
export def Stop(wait: bool = false)
  if empty(current)
    return
  endif
  var inst = current
  current = {}
  inst.stopping = true
  try
    ch_close_in(inst.channel)
  catch
    # Already closed: the process is on its way out.
  endtry
  if !wait
    return
  endif
  var waited = 0
  while job_status(inst.job) == 'run' && waited < 2000
    sleep 10m
    waited += 10
  endwhile
  if job_status(inst.job) == 'run'
    job_stop(inst.job, 'kill')
  endif
enddef

augroup ticktick_signon_helper
  autocmd!
  autocmd VimLeavePre * Stop(true)
augroup END
