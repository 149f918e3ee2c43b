vim9script
# :TickTickHealth: is the helper there, which version, does it answer, where is the cache, are we
# signed in and until when; written to a scratch buffer to read or copy into a bug report.

import autoload 'ticktick_signon/discovery.vim'
import autoload 'ticktick_signon/helper.vim'
import autoload 'ticktick_signon/report.vim'

const ANSWER_WAIT = 15000

# Ask the helper and wait (health has no callback to give): [error, result].
def Ask(method: string, params: dict<any>): list<any>
  var answer: list<any> = []
  helper.Request(method, params, (error, result) => {
    answer = [error, result]
  })
  var waited = 0
  while empty(answer) && waited < ANSWER_WAIT
    sleep 10m
    waited += 10
  endwhile
  return empty(answer)
    ? [helper.LocalError('timeout', printf('no answer within %d seconds', ANSWER_WAIT / 1000)), v:null]
    : answer
enddef

def Version(cmd: list<string>): string
  var version_cmd = discovery.VersionCommand(cmd)
  if empty(version_cmd)
    return ''
  endif
  var ran = discovery.RunSync(version_cmd)
  return ran.status == 0 && !empty(ran.out) ? trim(ran.out[-1]) : ''
enddef

def HelperLines(profile: string): list<string>
  var lines = ['helper']
  var found = discovery.Find()
  if has_key(found, 'error')
    return lines + ['  ERROR: ' .. found.error]
  endif
  lines->add(printf('  OK: found in %s', found.source == 'PATH' ? 'PATH' : found.source))
  lines->add('  command: ' .. found.cmd->join(' '))
  var version = Version(found.cmd)
  lines->add(version == '' ? '  WARNING: `--version` did not answer; the helper may be broken or too old'
    : '  OK: version: ' .. version)
  var [error, status] = Ask('getStatus', {profile: profile})
  var info = helper.Info()
  if !empty(error)
    lines->add('  ERROR: the helper does not answer: ' .. report.Describe(error))
    if !empty(get(info.last_exit, 'stderr', []))
      lines->add('  its last words (stderr):')
      lines += info.last_exit.stderr[-10 :]->map((_, l) => '    ' .. l)
    endif
    return lines
  endif
  lines->add(printf('  OK: the helper answers (pid %d; started %d time%s in this Vim)',
    get(info, 'pid', 0), info.started, info.started == 1 ? '' : 's'))
  lines->add('  cache file: ' .. status.configPath)
  lines->add('')
  lines->add(printf('sign-in (profile %s)', profile))
  if report.IsTrue(status.signedIn)
    var text = 'signed in; the token expires ' .. report.Expiry(status.expiresAt)
    lines->add((status.expiresIn < 7 * 86400 ? '  WARNING: ' : '  OK: ') .. text)
  elseif type(status.expiresAt) == v:t_number
    lines->add('  WARNING: the token has expired; run :TickTickSignIn')
  else
    lines->add('  WARNING: not signed in; run :TickTickSignIn')
  endif
  if report.IsTrue(status.pendingSignon)
    lines->add('  a sign-in is waiting for the browser (or :TickTickPasteRedirectUrl)')
  endif
  if type(status.clientId) == v:t_string
    lines->add(printf('  client id %s, region %s', status.clientId, status.region))
  endif
  return lines
enddef

def Show(lines: list<string>)
  var name = 'ticktick-signon://health'
  var winid = bufwinid(name)
  if winid > 0
    win_gotoid(winid)
  else
    execute 'silent keepalt botright new' fnameescape(name)
    setlocal buftype=nofile bufhidden=wipe noswapfile nobuflisted
  endif
  setlocal modifiable
  silent :%delete _
  setline(1, lines)
  setlocal nomodifiable
enddef

export def Run()
  var profile = get(g:, 'ticktick_signon_profile', 'default')
  profile = type(profile) == v:t_string && profile != '' ? profile : 'default'
  var lines = ['ticktick-signon health', '']
  lines->add('Vim')
  lines->add(printf('  OK: Vim %d.%d with +job +channel +timers', v:version / 100, v:version % 100))
  lines->add(has('clipboard') ? '  OK: :TickTickCopyToken copies to the + register (clipboard)'
    : '  INFO: no clipboard in this Vim: :TickTickCopyToken copies to the unnamed register')
  lines->add('')
  Show(lines + HelperLines(profile))
enddef
