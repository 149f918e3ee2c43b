vim9script
# Cases that must fail: they prove the harness reports each kind of failure (run by the pytest wrapper).

import '../harness.vim' as H

H.Case('passes', () => {
  H.Eq(1 + 1, 2, 'the sum')
})

H.Case('a failed assertion fails', () => {
  H.Eq(1 + 1, 3, 'the sum')
})

H.Case('a wait that times out fails', () => {
  H.WaitFor(() => false, 'something that never happens', 200)
})

H.Case('an error inside a callback fails', () => {
  timer_start(0, (_) => {
    throw 'boom from a callback'
  })
  sleep 200m
})

H.Case('a secret in a message fails', () => {
  g:TtsNote('TickTick: here is sandbox-secret', 'info')
})

H.Case('a token in :messages fails', () => {
  H.Forbid('0f1e2d3c-token', 'the access token')
  echomsg 'token 0f1e2d3c-token'
})
