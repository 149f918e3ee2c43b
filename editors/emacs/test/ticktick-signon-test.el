;;; ticktick-signon-test.el --- ERT suite of the Emacs client  -*- lexical-binding: t; -*-

;;; Commentary:

;; Drives ticktick-signon.el in `emacs --batch' against the real helper
;; (`python -m ticktick_signon serve') and the sandbox provider over
;; loopback.  tests/editors/test_emacs.py starts the sandbox and passes
;; TICKTICK_SIGNON_AUTH_URL, TICKTICK_SIGNON_TEST_PYTHON and
;; TICKTICK_SIGNON_TEST_BROWSER; each test gets its own cache folder.
;; The browser is the suites' shared tests/support/fake_browser.py,
;; which clicks Allow or Deny on the sandbox's page like a person would.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)
(require 'url)
(require 'url-http)
(require 'ticktick-signon)

(defvar url-http-response-status)

(defconst ticktick-signon-test--dir
  (file-name-directory (or load-file-name buffer-file-name))
  "Folder of this file.")

(defvar ticktick-signon-test--secrets nil
  "Strings that no buffer or history may contain: secret, codes, tokens.")

(defvar ticktick-signon-test--browser nil
  "The fake browser process of the current test.")

(defvar ticktick-signon-test--opened nil
  "URLs handed to `browse-url', newest first.")

(defvar ticktick-signon-test--finished nil
  "Arguments of each finished sign-in, newest first.")

(defvar ticktick-signon-test--messages-start nil
  "Where this test's part of *Messages* begins.")

(defun ticktick-signon-test--env (name)
  "Return environment variable NAME, or fail saying how to run the suite."
  (let ((value (getenv name)))
    (if (and value (not (string-empty-p value)))
        value
      (error "%s is not set; run this suite through tests/editors/test_emacs.py" name))))

(defun ticktick-signon-test--wait (predicate what &optional timeout)
  "Process events until PREDICATE is non-nil; fail naming WHAT after TIMEOUT s."
  (let ((deadline (+ (float-time) (or timeout 30))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall predicate)
        (ert-fail (format "Timed out waiting for %s" what)))))

(defun ticktick-signon-test--messages ()
  "Return what this test wrote to *Messages*."
  (with-current-buffer (messages-buffer)
    (buffer-substring-no-properties (or ticktick-signon-test--messages-start (point-min))
                                    (point-max))))

(defun ticktick-signon-test--record-finished (&rest args)
  "Remember the ARGS of a finished sign-in."
  (push args ticktick-signon-test--finished))

(defun ticktick-signon-test--fake-browser (decision mode)
  "Return a `browse-url' function playing a person who clicks DECISION.
MODE \"follow\" also loads the redirect (reaching the helper's
listener); \"print\" only reports it, for pasting."
  (lambda (url &rest _)
    (push url ticktick-signon-test--opened)
    (setq ticktick-signon-test--browser
          (make-process
           :name "fake-browser"
           :buffer (generate-new-buffer " *fake browser*")
           :stderr (get-buffer-create " *fake browser stderr*")
           :command (append (list (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_PYTHON")
                                  (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_BROWSER")
                                  url "--decision" decision)
                            (and (equal mode "follow") '("--follow")))
           :connection-type 'pipe
           :noquery t
           :sentinel #'ignore))))

(defun ticktick-signon-test--redirect ()
  "Wait for the fake browser and return the URL it was sent to.
The authorization code in it joins the secrets."
  (let ((process ticktick-signon-test--browser))
    (should (processp process))
    (ticktick-signon-test--wait
     (lambda () (and (not (process-live-p process))
                     (or (/= 0 (process-exit-status process))
                         (with-current-buffer (process-buffer process)
                           (string-search "\n" (buffer-string))))))
     "the fake browser")
    (let ((output (with-current-buffer (process-buffer process)
                    (string-trim (buffer-string)))))
      (kill-buffer (process-buffer process))
      (unless (zerop (process-exit-status process))
        (ert-fail (list "The fake browser failed"
                        (with-current-buffer " *fake browser stderr*" (buffer-string)))))
      (when (string-match "[?&]code=\\([^&]+\\)" output)
        (push (match-string 1 output) ticktick-signon-test--secrets))
      output)))

(defun ticktick-signon-test--free-port ()
  "Return a loopback port that was free a moment ago."
  (let* ((server (make-network-process :name "port-probe" :server t :host "127.0.0.1"
                                       :service t :noquery t))
         (port (process-contact server :service)))
    (delete-process server)
    port))

(defun ticktick-signon-test--app-in-environment ()
  "Give the helper the sandbox app through pyticktick's environment names."
  (setenv "PYTICKTICK_V1_CLIENT_ID" "sandbox-client")
  (setenv "PYTICKTICK_V1_CLIENT_SECRET" "sandbox-secret"))

(defun ticktick-signon-test--no-prompt (&rest args)
  "Fail: nothing should prompt (ARGS are the prompt's)."
  (ert-fail (list "Unexpected prompt" args)))

(defun ticktick-signon-test--api-status (token)
  "Return the sandbox API's HTTP status for a request bearing TOKEN."
  (let* ((url-request-extra-headers `(("Authorization" . ,(concat "Bearer " token))))
         (url-proxy-services nil)
         (buffer (url-retrieve-synchronously
                  (concat (ticktick-signon-test--env "TICKTICK_SIGNON_AUTH_URL") "/open/v1/project")
                  t t 10)))
    (unwind-protect (with-current-buffer buffer url-http-response-status)
      (let ((kill-buffer-query-functions nil)) (kill-buffer buffer)))))

(defun ticktick-signon-test--assert-no-secrets ()
  "Fail if a secret, code or token is in a buffer or a history list."
  (dolist (secret ticktick-signon-test--secrets)
    (should (stringp secret))
    (should (> (length secret) 5))
    (dolist (buffer (buffer-list))
      ;; Skipped: the test's own browser, and the scratch buffer where Emacs's
      ;; C code converts every process write and read (it holds the last frame).
      (unless (string-match-p "\\` \\*\\(fake browser\\|code-conver\\)" (buffer-name buffer))
        (with-current-buffer buffer
          (save-excursion
            (save-restriction
              (widen)
              (goto-char (point-min))
              ;; The buffer's name, not the secret, goes in the failure.
              (should-not (and (search-forward secret nil t)
                               (list 'secret-found-in (buffer-name buffer)))))))))
    (dolist (history '(minibuffer-history command-history read-expression-history))
      (should-not (and (string-search secret (format "%S" (symbol-value history)))
                       (list 'secret-found-in history))))))

(defmacro ticktick-signon-test--with-helper (&rest body)
  "Run BODY with a fresh cache folder and the real helper, then check for leaks.
Secrets are checked in every buffer at the end; the helper is stopped
and the folder removed whatever happens."
  (declare (indent 0) (debug t))
  `(let* ((config-dir (make-temp-file "ticktick-signon-emacs-" t))
          (process-environment
           (append (list (concat "TICKTICK_SIGNON_CONFIG_DIR=" config-dir)
                         "PYTICKTICK_V1_CLIENT_ID"
                         "PYTICKTICK_V1_CLIENT_SECRET"
                         "PYTICKTICK_V1_OAUTH_REDIRECT_URL")
                   process-environment))
          (ticktick-signon-helper-command
           (list (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_PYTHON")
                 "-m" "ticktick_signon" "serve"))
          (ticktick-signon-profile "default")
          (ticktick-signon-listen t)
          (ticktick-signon-region nil)
          (ticktick-signon-client-id nil)
          (ticktick-signon-redirect-url nil)
          (ticktick-signon-sign-in-finished-functions
           (list #'ticktick-signon-test--record-finished))
          (ticktick-signon-test--finished nil)
          (ticktick-signon-test--opened nil)
          (ticktick-signon-test--browser nil)
          (ticktick-signon-test--secrets (list "sandbox-secret"))
          (ticktick-signon-test--messages-start
           (with-current-buffer (messages-buffer) (point-max)))
          (browse-url-browser-function
           (lambda (&rest args) (ert-fail (list "Unexpected browser" args))))
          (browse-url-handlers nil)
          (browse-url-default-handlers nil)
          (kill-ring nil)
          (kill-ring-yank-pointer nil)
          (interprogram-cut-function nil)
          (interprogram-paste-function nil)
          (minibuffer-history nil)
          (command-history nil))
     (ticktick-signon-test--env "TICKTICK_SIGNON_AUTH_URL")
     (should-not ticktick-signon--connection)
     (unwind-protect
         (progn ,@body
                (ticktick-signon-test--assert-no-secrets))
       (ticktick-signon-shutdown)
       (setq ticktick-signon--waiting nil)
       (when (process-live-p ticktick-signon-test--browser)
         (delete-process ticktick-signon-test--browser))
       (delete-directory config-dir t))))

(defun ticktick-signon-test--sign-in-by-paste ()
  "Sign in through the whole flow (Allow clicked, URL pasted); return the token.
The app comes from the environment, so call this before the helper starts."
  (ticktick-signon-test--app-in-environment)
  (let ((ticktick-signon-listen nil)
        (browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "print")))
    (cl-letf (((symbol-function 'read-string)
               (lambda (&rest _) (ticktick-signon-test--redirect)))
              ((symbol-function 'read-passwd) #'ticktick-signon-test--no-prompt))
      (ticktick-signon-sign-in)))
  (let ((token (ticktick-signon-get-token)))
    (push token ticktick-signon-test--secrets)
    token))

(defun ticktick-signon-test--loopback-redirect ()
  "Set `ticktick-signon-redirect-url' to a free loopback URL and return it."
  (setq ticktick-signon-redirect-url
        (format "http://127.0.0.1:%d/callback" (ticktick-signon-test--free-port))))

;;;; Sign-in

(ert-deftest ticktick-signon-test-sign-in-by-paste-asks-for-the-app ()
  "Nothing saved: sign-in asks for the app, the browser allows, the URL is pasted."
  (ticktick-signon-test--with-helper
    (let ((ticktick-signon-listen nil)
          (browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "print"))
          (prompts nil)
          (secret-given nil))
      (cl-letf (((symbol-function 'read-string)
                 (lambda (prompt &rest _)
                   (push prompt prompts)
                   (if (string-match-p "client id" prompt)
                       "sandbox-client"
                     (ticktick-signon-test--redirect))))
                ((symbol-function 'read-passwd)
                 (lambda (prompt &rest _)
                   (push prompt prompts)
                   (setq secret-given (copy-sequence "sandbox-secret")))))
        (call-interactively #'ticktick-signon-sign-in))
      (setq prompts (reverse prompts))
      (should (= (length prompts) 3))
      (should (string-match-p "client id" (nth 0 prompts)))
      (should (string-match-p "client secret" (nth 1 prompts)))
      (should (string-match-p "paste the URL" (nth 2 prompts)))
      ;; Emacs dropped its copy of the secret once the helper had it.
      (should-not (string= secret-given "sandbox-secret"))
      (let ((url (car ticktick-signon-test--opened)))
        (should (= (length ticktick-signon-test--opened) 1))
        (should (string-prefix-p (concat (getenv "TICKTICK_SIGNON_AUTH_URL") "/oauth/authorize?") url))
        (should (string-match-p "client_id=sandbox-client" url))
        (should (string-search url (ticktick-signon-test--messages))))
      (should-not (get-buffer "*TickTick sign-in*"))
      (should (string-match-p "Signed in to the sandbox (profile \"default\"); the token is valid until 20[0-9][0-9]-"
                              (ticktick-signon-test--messages)))
      (should (equal ticktick-signon-test--finished '(("default" nil))))
      (let ((status (ticktick-signon-status)))
        (should (eq (plist-get status :signedIn) t))
        (should (equal (plist-get status :clientId) "sandbox-client")))
      (let ((token (ticktick-signon-get-token)))
        (push token ticktick-signon-test--secrets)
        (should (= (ticktick-signon-test--api-status token) 200)))
      ;; The helper saved the app: a second sign-in asks nothing but the URL.
      (cl-letf (((symbol-function 'read-passwd) #'ticktick-signon-test--no-prompt)
                ((symbol-function 'read-string)
                 (lambda (prompt &rest _)
                   (should (string-match-p "paste the URL" prompt))
                   (ticktick-signon-test--redirect))))
        (ticktick-signon-sign-in))
      (should (= (length ticktick-signon-test--finished) 2))
      (push (ticktick-signon-get-token) ticktick-signon-test--secrets))))

(ert-deftest ticktick-signon-test-sign-in-by-loopback ()
  "The helper listens; the browser's redirect reaches it and it notifies Emacs."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (let* ((redirect (ticktick-signon-test--loopback-redirect))
           (browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "follow"))
           (result (cl-letf (((symbol-function 'read-string) #'ticktick-signon-test--no-prompt)
                             ((symbol-function 'read-passwd) #'ticktick-signon-test--no-prompt))
                     (ticktick-signon-sign-in))))
      (should (eq (plist-get result :listening) t))
      (should (equal (plist-get result :redirectUrl) redirect))
      (should (string-search (concat "Waiting for it to come back to " redirect)
                             (ticktick-signon-test--messages)))
      (ticktick-signon-test--wait (lambda () ticktick-signon-test--finished)
                                  "the signonCompleted notification")
      (ticktick-signon-test--redirect)
      (should (equal ticktick-signon-test--finished '(("default" nil))))
      (should-not ticktick-signon--waiting)
      (should (string-search "Signed in to the sandbox (profile \"default\")"
                             (ticktick-signon-test--messages)))
      (should (eq (plist-get (ticktick-signon-status) :signedIn) t))
      (push (ticktick-signon-get-token) ticktick-signon-test--secrets))))

(ert-deftest ticktick-signon-test-paste-while-listening ()
  "Pasting the URL finishes a sign-in the helper is also listening for."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (ticktick-signon-test--loopback-redirect)
    (let ((browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "print")))
      (should (eq (plist-get (ticktick-signon-sign-in) :listening) t))
      (should (equal ticktick-signon--waiting '("default")))
      ;; Wrong pastes are refused with the reason, and the sign-in goes on.
      (should (string-match-p "redirectUrl"
                              (cadr (should-error (ticktick-signon-paste-redirect-url "not a url")
                                                  :type 'user-error))))
      (should (string-match-p "That URL belongs to an older TickTick sign-in"
                              (cadr (should-error (ticktick-signon-paste-redirect-url
                                                   "http://127.0.0.1:9/callback?code=abc&state=bogus")
                                                  :type 'user-error))))
      (should (equal ticktick-signon--waiting '("default")))
      (should-not ticktick-signon-test--finished)
      (cl-letf (((symbol-function 'read-string)
                 (lambda (&rest _) (ticktick-signon-test--redirect))))
        ;; Recorded like a user's M-x: the URL (and its code) must stay out of the history.
        (call-interactively #'ticktick-signon-paste-redirect-url t))
      (should (equal (car command-history) '(ticktick-signon-paste-redirect-url)))
      (should (equal ticktick-signon-test--finished '(("default" nil))))
      (should-not ticktick-signon--waiting)
      (should (eq (plist-get (ticktick-signon-status) :signedIn) t))
      (push (ticktick-signon-get-token) ticktick-signon-test--secrets))))

(ert-deftest ticktick-signon-test-cancel-then-paste ()
  "Cancelling stops the helper and its listener; the URL can still be pasted."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (let ((redirect (ticktick-signon-test--loopback-redirect))
          (browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "print")))
      (ticktick-signon-sign-in)
      (let ((process ticktick-signon--process))
        (should (process-live-p process))
        (call-interactively #'ticktick-signon-cancel-sign-in)
        (should-not (process-live-p process))
        (should (= (process-exit-status process) 0)))
      (should-not ticktick-signon--waiting)
      (should (equal (mapcar #'car ticktick-signon-test--finished) '("default")))
      (should (equal (cl-caadr (car ticktick-signon-test--finished)) 'ticktick-signon-error))
      (should (string-search "Stopped waiting for the browser" (ticktick-signon-test--messages)))
      ;; The listener is gone: nothing accepts connections on the redirect port.
      (should-error (make-network-process
                     :name "probe" :host "127.0.0.1" :noquery t
                     :service (url-port (url-generic-parse-url redirect)))
                    :type 'file-error)
      (ticktick-signon-paste-redirect-url (ticktick-signon-test--redirect))
      (should (eq (plist-get (ticktick-signon-status) :signedIn) t))
      (push (ticktick-signon-get-token) ticktick-signon-test--secrets))))

(ert-deftest ticktick-signon-test-busy-port-falls-back-to-pasting ()
  "When the redirect port is taken the helper cannot listen, so sign-in asks for the URL."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (let* ((squatter (make-network-process :name "squatter" :server t :host "127.0.0.1"
                                           :service t :noquery t))
           (ticktick-signon-redirect-url
            (format "http://127.0.0.1:%d/callback" (process-contact squatter :service)))
           (browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "print"))
           (asked nil))
      (unwind-protect
          (let ((result (cl-letf (((symbol-function 'read-string)
                                   (lambda (&rest _) (setq asked t) (ticktick-signon-test--redirect))))
                          (ticktick-signon-sign-in))))
            (should (eq (plist-get result :listening) :json-false))
            (should asked)
            (should (equal ticktick-signon-test--finished '(("default" nil)))))
        (delete-process squatter))
      (push (ticktick-signon-get-token) ticktick-signon-test--secrets))))

(ert-deftest ticktick-signon-test-denied-by-paste ()
  "The person clicks Deny; pasting the redirect gives a clear error, and no token."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (let* ((ticktick-signon-listen nil)
           (browse-url-browser-function (ticktick-signon-test--fake-browser "deny" "print"))
           (err (cl-letf (((symbol-function 'read-string)
                           (lambda (&rest _) (ticktick-signon-test--redirect))))
                  (should-error (ticktick-signon-sign-in) :type 'user-error))))
      (should (string-match-p "denied in the browser (access_denied)" (cadr err)))
      (should-not ticktick-signon-test--finished)
      (should (eq (plist-get (ticktick-signon-status) :signedIn) :json-false)))))

(ert-deftest ticktick-signon-test-denied-by-loopback ()
  "The person clicks Deny; the helper's listener reports it with signonFailed."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (ticktick-signon-test--loopback-redirect)
    (let ((browse-url-browser-function (ticktick-signon-test--fake-browser "deny" "follow")))
      (ticktick-signon-sign-in)
      (ticktick-signon-test--wait (lambda () ticktick-signon-test--finished)
                                  "the signonFailed notification")
      (ticktick-signon-test--redirect)
      (pcase-let ((`((,profile ,err)) ticktick-signon-test--finished))
        (should (equal profile "default"))
        (should (eq (car err) 'ticktick-signon-error))
        (should (eql (ticktick-signon-error-code err) -32005))
        (should (string-match-p "denied in the browser" (ticktick-signon-error-message err))))
      (should-not ticktick-signon--waiting)
      (should (string-search "TickTick sign-in was denied in the browser (access_denied)"
                             (ticktick-signon-test--messages)))
      (should (eq (plist-get (ticktick-signon-status) :signedIn) :json-false)))))

(ert-deftest ticktick-signon-test-expired-sign-in-is-reported ()
  "The helper's signonFailed for a sign-in left unanswered for 10 minutes.
Waiting 10 minutes for the real one is too long, so the notification
the helper sends then is handed to the client's dispatcher directly."
  (let ((ticktick-signon--waiting (list "work"))
        (ticktick-signon-test--finished nil)
        (ticktick-signon-sign-in-finished-functions (list #'ticktick-signon-test--record-finished))
        (ticktick-signon-test--messages-start (with-current-buffer (messages-buffer) (point-max))))
    (ticktick-signon--notification
     nil 'signonFailed
     '(:profile "work" :error (:code -32003 :message "The sign-on expired." :data (:kind "noPendingSignon"))))
    (should-not ticktick-signon--waiting)
    (should (equal (mapcar #'car ticktick-signon-test--finished) '("work")))
    (should (eql (ticktick-signon-error-code (cadr (car ticktick-signon-test--finished))) -32003))
    (should (string-search "The TickTick sign-in of profile \"work\" expired after 10 minutes"
                           (ticktick-signon-test--messages)))))

;;;; Token, status, sign-out

(ert-deftest ticktick-signon-test-copy-token ()
  "The token goes to the kill ring, is accepted by the API, and is never shown."
  (ticktick-signon-test--with-helper
    (let ((token (ticktick-signon-test--sign-in-by-paste)))
      (call-interactively #'ticktick-signon-copy-token)
      ;; The sign-in put its URL there first; the token is the newest kill.
      (should (equal (car kill-ring) token))
      (should (string-match-p "/oauth/authorize\\?" (cadr kill-ring)))
      (should (= (length kill-ring) 2))
      (should (= (ticktick-signon-test--api-status (car kill-ring)) 200))
      ;; The API check can tell a bad token from a good one.
      (should (= (ticktick-signon-test--api-status "not-a-real-token") 401))
      (should (string-match-p "Copied the TickTick access token of profile \"default\" to the kill ring; valid until 20[0-9-]+ [0-9:]+ ([0-9]+ days left)"
                              (ticktick-signon-test--messages)))
      (let (answer)
        (ticktick-signon-get-token-async (lambda (err value) (setq answer (list err value))))
        (ticktick-signon-test--wait (lambda () answer) "the asynchronous token")
        (should (equal answer (list nil token)))))))

(ert-deftest ticktick-signon-test-no-token ()
  "Not signed in: the API signals the helper's code, commands say what to do."
  (ticktick-signon-test--with-helper
    (let ((err (should-error (ticktick-signon-get-token) :type 'ticktick-signon-error)))
      (should (eql (ticktick-signon-error-code err) -32001))
      (should (equal (plist-get (ticktick-signon-error-data err) :kind) "notSignedIn"))
      (should (string-match-p "Not signed in to TickTick (profile \"default\"); run M-x ticktick-signon-sign-in"
                              (ticktick-signon-error-message err))))
    (let ((err (should-error (call-interactively #'ticktick-signon-copy-token) :type 'user-error)))
      (should (string-match-p "Not signed in to TickTick" (cadr err))))
    (should-not kill-ring)
    (let (answer)
      (ticktick-signon-get-token-async (lambda (err value) (setq answer (list err value))) "work")
      (ticktick-signon-test--wait (lambda () answer) "the asynchronous error")
      (should (eql (ticktick-signon-error-code (car answer)) -32001))
      (should (string-search "profile \"work\"" (ticktick-signon-error-message (car answer))))
      (should-not (cadr answer)))))

(ert-deftest ticktick-signon-test-status ()
  "Status before and after signing in, as a plist and as a sentence."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    (let ((status (call-interactively #'ticktick-signon-status)))
      (should (equal (plist-get status :profile) "default"))
      (should (eq (plist-get status :signedIn) :json-false))
      (should-not (plist-get status :expiresAt))
      (should (string-search "TickTick (profile \"default\"): not signed in; run M-x ticktick-signon-sign-in"
                             (ticktick-signon-test--messages))))
    (ticktick-signon-test--sign-in-by-paste)
    (let ((status (ticktick-signon-status)))
      (should (eq (plist-get status :signedIn) t))
      (should (> (plist-get status :expiresAt) (float-time)))
      (should (string-match-p
               (concat "TickTick (profile \"default\"): signed in until "
                       (regexp-quote (format-time-string "%Y-%m-%d %H:%M" (plist-get status :expiresAt)))
                       " ([0-9]+ days left); app sandbox-client; region ticktick; cache .*config\\.json")
               (ticktick-signon-test--messages))))))

(ert-deftest ticktick-signon-test-sign-out ()
  "Sign-out drops the token; with a prefix argument it forgets the app too."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--sign-in-by-paste)
    (should (eq (ticktick-signon-sign-out) t))
    (should (string-search "Signed out of TickTick (profile \"default\")" (ticktick-signon-test--messages)))
    (should (eql (ticktick-signon-error-code
                  (should-error (ticktick-signon-get-token) :type 'ticktick-signon-error))
                 -32001))
    (let ((status (ticktick-signon-status)))
      (should (eq (plist-get status :signedIn) :json-false))
      (should (equal (plist-get status :clientId) "sandbox-client")))
    (should-not (ticktick-signon-sign-out))
    (should (string-search "Profile \"default\" was not signed in to TickTick"
                           (ticktick-signon-test--messages)))
    (let ((current-prefix-arg '(4)))
      (call-interactively #'ticktick-signon-sign-out))
    (should (string-search "its client id and secret are forgotten" (ticktick-signon-test--messages)))
    (should-not (plist-get (ticktick-signon-status) :clientId))))

;;;; Live token state (tokenChanged, tokenExpiring)

(defun ticktick-signon-test--cli (&rest args)
  "Run the CLI outside Emacs with ARGS, on the same cache; fail unless it exits 0."
  (let ((status (apply #'call-process (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_PYTHON")
                       nil (get-buffer-create " *ticktick-signon CLI*") nil
                       "-m" "ticktick_signon" args)))
    (unless (eql status 0)
      (ert-fail (list "The CLI failed" args status
                      (with-current-buffer " *ticktick-signon CLI*" (buffer-string)))))))

(ert-deftest ticktick-signon-test-live-cli-sign-in-reaches-hook-and-mode-line ()
  "A sign-in and a sign-out made by the CLI, outside Emacs, reach the hook and the lighter."
  (ticktick-signon-test--with-helper
    (let* ((ticktick-signon-profile "sandbox")
           (changes nil)
           (ticktick-signon-token-changed-functions
            (list (lambda (&rest args) (setq changes (append changes (list args))))))
           (global-mode-string nil))
      (ticktick-signon-mode-line-mode 1)
      (unwind-protect
          (progn
            (should (memq 'ticktick-signon--mode-line-entry global-mode-string))
            (ticktick-signon-test--wait
             (lambda () (equal (ticktick-signon-mode-line-text) "TickTick:signed-out"))
             "the lighter to learn the profile is signed out")
            (ticktick-signon-test--cli "login" "--sandbox") ; profile sandbox, its own provider
            (ticktick-signon-test--wait (lambda () changes) "tokenChanged after the CLI's sign-in")
            (pcase-let ((`(,profile ,signed-in ,expires-at) (car changes)))
              (should (equal profile "sandbox"))
              (should (eq signed-in t))
              (should (> expires-at (+ (float-time) (* 179 86400))))
              (should (equal (ticktick-signon-mode-line-text)
                             (format "TickTick:%dd" (/ (- expires-at (float-time)) 86400)))))
            (push (ticktick-signon-get-token) ticktick-signon-test--secrets)
            ;; What the mode line shows (`format-mode-line' gives "" in batch Emacs, which has no frame).
            (should (string-match-p "\\` TickTick:1[78][0-9]d\\'"
                                    (eval (plist-get ticktick-signon--mode-line-entry :eval) t)))
            (ticktick-signon-test--cli "logout" "--profile" "sandbox")
            (ticktick-signon-test--wait (lambda () (= (length changes) 2))
                                        "tokenChanged after the CLI's sign-out")
            (should (equal (nth 1 changes) '("sandbox" nil nil)))
            (should (equal (ticktick-signon-mode-line-text) "TickTick:signed-out")))
        (ticktick-signon-mode-line-mode -1))
      (should-not (memq 'ticktick-signon--mode-line-entry global-mode-string)))))

(ert-deftest ticktick-signon-test-live-expiring-token ()
  "A token near its end runs the expiring hook once and says so; then it shows as expired."
  (ticktick-signon-test--with-helper
    (ticktick-signon-test--app-in-environment)
    ;; A sandbox whose tokens live 3 seconds.
    (setenv "TICKTICK_SIGNON_AUTH_URL" (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_SHORT_AUTH_URL"))
    (let* ((expiring nil)
           (changes nil)
           (ticktick-signon-token-expiring-functions
            (list (lambda (&rest args) (push args expiring))))
           (ticktick-signon-token-changed-functions
            (list (lambda (&rest args) (push args changes))))
           (browse-url-browser-function (ticktick-signon-test--fake-browser "allow" "follow")))
      (ticktick-signon-test--loopback-redirect)
      (ticktick-signon-sign-in)
      (ticktick-signon-test--wait (lambda () expiring) "tokenExpiring")
      (ticktick-signon-test--redirect)
      (pcase-let ((`(,profile ,expires-at ,expires-in) (car expiring)))
        (should (equal profile "default"))
        (should (<= expires-in 3))
        (should (string-search "The TickTick token of profile \"default\" expires on"
                               (ticktick-signon-test--messages)))
        (ticktick-signon-test--wait (lambda () (equal (car changes) (list "default" nil expires-at)))
                                    "tokenChanged when the token passes its expiry" 15)
        (should (equal (ticktick-signon-mode-line-text) "TickTick:expired")))
      (should (= (length expiring) 1)))))

;;;; Finding the helper

(defvar ticktick-signon-test--root nil
  "Folder holding the current test's places to install the helper in.")

(defmacro ticktick-signon-test--finding (&rest body)
  "Run BODY with the helper to be found, not set, and nothing installed.
The variable `exec-path' is the empty folder \"path\" of a fresh folder (see
`ticktick-signon-test--folder'), HOME is its empty \"home\", and pipx's,
uv's and XDG's variables are unset.  The helper is started afresh by
`ticktick-signon-test--expect-found'."
  (declare (indent 0) (debug t))
  `(ticktick-signon-test--with-helper
     (let* ((ticktick-signon-test--root (make-temp-file "ticktick-signon-find-" t))
            (exec-path (list (ticktick-signon-test--folder "path")))
            (process-environment
             (append (list (concat "HOME=" (ticktick-signon-test--folder "home"))
                           "PIPX_BIN_DIR" "UV_TOOL_BIN_DIR" "XDG_BIN_HOME" "XDG_DATA_HOME")
                     process-environment))
            (ticktick-signon-helper-command nil))
       (unwind-protect
           (progn ,@body)
         (ticktick-signon-shutdown)
         (delete-directory ticktick-signon-test--root t)))))

(defun ticktick-signon-test--folder (name)
  "Return the folder NAME of the current test's places, creating it."
  (let ((folder (expand-file-name name ticktick-signon-test--root)))
    (make-directory folder t)
    folder))

(defun ticktick-signon-test--install (folder &optional program works)
  "Put PROGRAM (default \"ticktick-signon\") in FOLDER, as an installer would.
It runs this suite's Python: `ticktick-signon' as the helper, `python3'
as itself.  With WORKS :broken, it is a python3 lacking the package.
Return its file name.  A shell script: the Emacs suite runs on POSIX."
  (let ((file (expand-file-name (or program "ticktick-signon") folder))
        (python (shell-quote-argument (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_PYTHON"))))
    (with-temp-file file
      (insert "#!/bin/sh\n"
              (cond ((eq works :broken) "exit 1\n")
                    (program (format "exec %s \"$@\"\n" python))
                    (t (format "exec %s -m ticktick_signon \"$@\"\n" python)))))
    (set-file-modes file #o755)
    file))

(defun ticktick-signon-test--expect-found (command how)
  "Start the helper afresh; check that its command is COMMAND, found HOW.
The helper must answer, and `ticktick-signon-status' must say so."
  (ticktick-signon-shutdown)
  (let ((ticktick-signon-test--messages-start (with-current-buffer (messages-buffer) (point-max))))
    (should (equal (plist-get (call-interactively #'ticktick-signon-status) :profile) "default"))
    (should (process-live-p ticktick-signon--process))
    (should (equal (process-command ticktick-signon--process) command))
    (should (string-search (format "; helper %s (%s)"
                                   (string-join (cons (abbreviate-file-name (car command)) (cdr command)) " ")
                                   how)
                           (ticktick-signon-test--messages)))))

(defun ticktick-signon-test--not-found ()
  "Check that no helper is found; return the message the user gets."
  (ticktick-signon-shutdown)
  (let ((err (should-error (call-interactively #'ticktick-signon-status) :type 'user-error)))
    (should-not ticktick-signon--connection)
    (should (eq (car (should-error (ticktick-signon-get-token) :type 'ticktick-signon-helper-missing))
                'ticktick-signon-helper-missing))
    (cadr err)))

(defun ticktick-signon-test--advice ()
  "Return the install advice naming this repository, the package's clone."
  (let ((clone (shell-quote-argument
                (directory-file-name
                 (file-truename (expand-file-name "../../.." ticktick-signon-test--dir))))))
    (format "install it with `pipx install %s' (or `uv tool install %s'; see the package's README)"
            clone clone)))

(ert-deftest ticktick-signon-test-find-helper-set-by-user ()
  "The setting wins over every place; one naming nothing says how to fix it."
  (ticktick-signon-test--finding
    (let ((on-path (ticktick-signon-test--install (ticktick-signon-test--folder "path")))
          (mine (ticktick-signon-test--install (ticktick-signon-test--folder "mine"))))
      (ticktick-signon-test--install (ticktick-signon-test--folder "home/.local/bin"))
      (let ((ticktick-signon-helper-command (list mine "serve")))
        (ticktick-signon-test--expect-found (list mine "serve")
                                            "set in `ticktick-signon-helper-command'"))
      ;; A bare name is looked up in `exec-path'.
      (let ((ticktick-signon-helper-command '("ticktick-signon" "serve")))
        (ticktick-signon-test--expect-found (list on-path "serve")
                                            "set in `ticktick-signon-helper-command'")))
    (let* ((nowhere (expand-file-name "nowhere/ticktick-signon" ticktick-signon-test--root))
           (ticktick-signon-helper-command (list nowhere "serve"))
           (message (ticktick-signon-test--not-found)))
      (should (equal message
                     (format "Cannot find the ticktick-signon helper `%s' set in `ticktick-signon-helper-command'; fix that setting, or set it to nil to let Emacs look for the helper, or %s"
                             nowhere (ticktick-signon-test--advice)))))
    (let ((ticktick-signon-helper-command "ticktick-signon serve"))
      (should (string-prefix-p "Cannot find the ticktick-signon helper `ticktick-signon serve' set in"
                               (ticktick-signon-test--not-found))))))

(ert-deftest ticktick-signon-test-find-helper-on-exec-path ()
  "The helper on the variable `exec-path' comes before pipx's and uv's folders."
  (ticktick-signon-test--finding
    (let ((on-path (ticktick-signon-test--install (ticktick-signon-test--folder "path"))))
      (ticktick-signon-test--install (ticktick-signon-test--folder "home/.local/bin"))
      (ticktick-signon-test--expect-found (list on-path "serve") "found on exec-path"))))

(ert-deftest ticktick-signon-test-find-helper-in-pipx-folder ()
  "Then pipx's ~/.local/bin (uv's default too), or $PIPX_BIN_DIR, before uv's folder."
  (ticktick-signon-test--finding
    (let ((local-bin (ticktick-signon-test--install (ticktick-signon-test--folder "home/.local/bin"))))
      (ticktick-signon-test--expect-found (list local-bin "serve") "found in pipx's and uv's bin folder"))
    (setenv "PIPX_BIN_DIR" (ticktick-signon-test--folder "pipx-bin"))
    (setenv "UV_TOOL_BIN_DIR" (ticktick-signon-test--folder "uv-bin"))
    (let ((uv (ticktick-signon-test--install (ticktick-signon-test--folder "uv-bin")))
          (pipx (ticktick-signon-test--install (ticktick-signon-test--folder "pipx-bin"))))
      (ticktick-signon-test--expect-found (list pipx "serve") "found in pipx's bin folder")
      ;; With $PIPX_BIN_DIR set, pipx does not use ~/.local/bin: neither does the search.
      (delete-file pipx)
      (ticktick-signon-test--expect-found (list uv "serve") "found in uv's tool bin folder"))))

(ert-deftest ticktick-signon-test-find-helper-in-uv-folder ()
  "Then uv's: $UV_TOOL_BIN_DIR, else $XDG_BIN_HOME, else $XDG_DATA_HOME/../bin."
  (ticktick-signon-test--finding
    (let ((data-bin (ticktick-signon-test--install (ticktick-signon-test--folder "xdg/bin")))
          (xdg-bin (ticktick-signon-test--install (ticktick-signon-test--folder "xdg-bin")))
          (uv-bin (ticktick-signon-test--install (ticktick-signon-test--folder "uv-bin"))))
      (setenv "XDG_DATA_HOME" (ticktick-signon-test--folder "xdg/share"))
      (ticktick-signon-test--expect-found (list data-bin "serve") "found in uv's tool bin folder")
      ;; uv ignores a relative XDG folder.
      (setenv "XDG_BIN_HOME" "relative/bin")
      (ticktick-signon-test--expect-found (list data-bin "serve") "found in uv's tool bin folder")
      (setenv "XDG_BIN_HOME" (ticktick-signon-test--folder "xdg-bin"))
      (ticktick-signon-test--expect-found (list xdg-bin "serve") "found in uv's tool bin folder")
      (setenv "UV_TOOL_BIN_DIR" (ticktick-signon-test--folder "uv-bin"))
      (ticktick-signon-test--expect-found (list uv-bin "serve") "found in uv's tool bin folder"))))

(ert-deftest ticktick-signon-test-find-helper-as-python-module ()
  "Last, `python3 -m ticktick_signon' when that python3 has the package."
  (ticktick-signon-test--finding
    (ticktick-signon-test--install (ticktick-signon-test--folder "path") "python3" :broken)
    (should (string-search ", as `python3 -m ticktick_signon';" (ticktick-signon-test--not-found)))
    (let ((python (ticktick-signon-test--install (ticktick-signon-test--folder "path") "python3")))
      (ticktick-signon-test--expect-found (list python "-m" "ticktick_signon" "serve")
                                          "found as `python3 -m ticktick_signon'"))))

(ert-deftest ticktick-signon-test-find-no-helper ()
  "Nothing installed: the message lists where it looked and how to install the helper."
  (ticktick-signon-test--finding
    (let ((local-bin (abbreviate-file-name (expand-file-name "home/.local/bin" ticktick-signon-test--root))))
      (should (equal (ticktick-signon-test--not-found)
                     (format "Cannot find the ticktick-signon helper; looked on exec-path, in %s (pipx's and uv's bin folder), as `python3 -m ticktick_signon'; %s, or set `ticktick-signon-helper-command' to its command"
                             local-bin (ticktick-signon-test--advice)))))
    (setenv "PIPX_BIN_DIR" (expand-file-name "pipx-bin" ticktick-signon-test--root))
    (setenv "XDG_BIN_HOME" (expand-file-name "xdg-bin" ticktick-signon-test--root))
    (should (string-search (format "; looked on exec-path, in %s (pipx's bin folder), in %s (uv's tool bin folder), as `python3 -m ticktick_signon'; install it with `pipx install "
                                   (abbreviate-file-name (expand-file-name "pipx-bin" ticktick-signon-test--root))
                                   (abbreviate-file-name (expand-file-name "xdg-bin" ticktick-signon-test--root)))
                           (ticktick-signon-test--not-found)))
    (should-not ticktick-signon-test--opened)))

;;;; The helper process

(ert-deftest ticktick-signon-test-helper-missing ()
  "A helper that is not installed gives a clear error and opens no browser."
  (ticktick-signon-test--with-helper
    (let ((ticktick-signon-helper-command '("/nonexistent/ticktick-signon" "serve")))
      (let ((err (should-error (ticktick-signon-status) :type 'user-error)))
        (should (string-match-p "Cannot find the ticktick-signon helper `/nonexistent/ticktick-signon' set in `ticktick-signon-helper-command'; .* install it with `pipx install "
                                (cadr err)))
        ;; Loaded from this repository, the advice names it.
        (should (string-search (format "pipx install %s'"
                                       (shell-quote-argument
                                        (directory-file-name
                                         (file-truename (expand-file-name "../../.." ticktick-signon-test--dir)))))
                               (cadr err)))
        (should-not (string-search "pip install ticktick-signon" (cadr err))))
      (should-error (ticktick-signon-sign-in) :type 'user-error)
      (should-not ticktick-signon-test--opened)
      (let ((err (should-error (ticktick-signon-get-token) :type 'ticktick-signon-helper-missing)))
        (should (memq 'ticktick-signon-error (get (car err) 'error-conditions)))
        (should-not (ticktick-signon-error-code err)))
      (let (answer)
        (ticktick-signon-get-token-async (lambda (err value) (setq answer (list err value))))
        (should (eq (car (car answer)) 'ticktick-signon-helper-missing)))
      (should-not ticktick-signon--connection))))

(ert-deftest ticktick-signon-test-helper-that-dies ()
  "A helper that exits at once is reported as stopped, not as a hang."
  (ticktick-signon-test--with-helper
    (let ((ticktick-signon-helper-command
           (list (ticktick-signon-test--env "TICKTICK_SIGNON_TEST_PYTHON") "-c"
                 "import sys; sys.stderr.write('helper broke\\n'); sys.exit(3)")))
      (let ((err (should-error (ticktick-signon-status) :type 'user-error)))
        (should (string-match-p "The ticktick-signon helper stopped unexpectedly (it said: helper broke)"
                                (cadr err)))
        (should-not ticktick-signon--connection)))))

(ert-deftest ticktick-signon-test-one-helper-restarted-and-stopped ()
  "One helper, started on first use, restarted after a crash, stopped on exit."
  (ticktick-signon-test--with-helper
    (should-not ticktick-signon--process)
    (ticktick-signon-status)
    (should (memq #'ticktick-signon-shutdown kill-emacs-hook))
    (let ((first ticktick-signon--process)
          (connection ticktick-signon--connection))
      (should (process-live-p first))
      (ticktick-signon-status)
      (should (eq ticktick-signon--process first))
      (should (eq ticktick-signon--connection connection))
      (should (= (length (seq-filter (lambda (p) (process-get p 'jsonrpc-connection))
                                     (process-list)))
                 1))
      (signal-process first 'KILL)
      (ticktick-signon-test--wait (lambda () (null ticktick-signon--connection)) "the crash to be noticed")
      (should (eq (plist-get (ticktick-signon-status) :signedIn) :json-false))
      (let ((second ticktick-signon--process))
        (should-not (eq second first))
        (should (process-live-p second))
        (run-hooks 'kill-emacs-hook)
        (should-not (process-live-p second))
        ;; Exit status 0: the helper saw its input close and stopped by itself.
        (should (eq (process-status second) 'exit))
        (should (= (process-exit-status second) 0))
        (should-not ticktick-signon--connection)))))

;;;; What a newcomer meets (issue 22)

(ert-deftest ticktick-signon-test-time-left-follows-the-cli-rule ()
  "Days left by the CLI's one rule (docs/protocol.md): whole units of expiresIn, rounded down."
  (dolist (row '((15552000 "180 days left" "TickTick:180d")
                 (15551999 "179 days left" "TickTick:179d")
                 (86400 "1 day left" "TickTick:1d")
                 (86399 "23 hours left" "TickTick:23h")
                 (3599 "59 minutes left" "TickTick:59m")
                 (59 "less than a minute left" "TickTick:<1m")
                 (0 "expired" "TickTick:expired")))
    (should (equal (ticktick-signon--time-left (nth 0 row)) (nth 1 row)))
    (let ((ticktick-signon--states (list (list "p" t (+ 1000000 (nth 0 row))))))
      (cl-letf (((symbol-function 'float-time) (lambda (&rest _) 1000000.0)))
        (should (equal (ticktick-signon-mode-line-text "p") (nth 2 row)))))))

(ert-deftest ticktick-signon-test-the-sign-in-url-goes-on-the-kill-ring ()
  "The URL is on the kill ring (the clipboard in a graphical Emacs), so no copy of a wrapped line is needed."
  (let ((kill-ring nil)
        (url "http://127.0.0.1:9/oauth/authorize?client_id=x&state=abc")
        (browse-url-browser-function #'ignore))
    (let ((line (ticktick-signon--open-browser url)))
      (should (equal (car kill-ring) url))
      (should (string-match-p "kill ring" line))
      (should (string-match-p (regexp-quote url) line)))
    (let ((browse-url-browser-function (lambda (&rest _) (error "No usable browser found"))))
      (let ((line (ticktick-signon--open-browser url)))
        (should (string-match-p "Could not open a browser (No usable browser found)" line))
        (should (string-match-p "kill ring" line))))))

(provide 'ticktick-signon-test)
;;; ticktick-signon-test.el ends here
