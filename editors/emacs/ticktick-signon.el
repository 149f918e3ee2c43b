;;; ticktick-signon.el --- Sign in to TickTick and get its API token  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The ticktick-signon contributors

;; Author: The ticktick-signon contributors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (jsonrpc "1.0.14"))
;; Keywords: comm, tools
;; SPDX-License-Identifier: MIT

;; This file is not part of GNU Emacs.

;;; Commentary:

;; The Emacs client of the ticktick-signon helper: it drives the
;; `ticktick-signon serve' process over JSON-RPC (Emacs's own jsonrpc.el)
;; to sign in to TickTick's Open API and hand out the access token.
;;
;; Commands:
;;   M-x ticktick-signon-sign-in            start a sign-in in the browser
;;   M-x ticktick-signon-paste-redirect-url finish it with the redirected URL
;;   M-x ticktick-signon-cancel-sign-in     stop waiting for the browser
;;   M-x ticktick-signon-copy-token         put the token on the kill ring
;;   M-x ticktick-signon-status             signed in?  until when?  which helper?
;;   M-x ticktick-signon-sign-out           drop the token (C-u: and the app)
;;
;; For other packages: `ticktick-signon-get-token' returns the token or
;; signals `ticktick-signon-error'; `ticktick-signon-get-token-async' calls
;; back instead of waiting.
;;
;; The helper itself is the Python package ticktick-signon.  It is looked
;; for on `exec-path', in pipx's and uv's bin folders, then as
;; `python3 -m ticktick_signon'; see `ticktick-signon-helper-command' and
;; the README next to this file.

;;; Code:

(require 'browse-url)
(require 'cl-lib)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)

(defgroup ticktick-signon nil
  "Sign in to TickTick's Open API through the ticktick-signon helper."
  :group 'comm
  :prefix "ticktick-signon-")

(defcustom ticktick-signon-helper-command nil
  "Program and arguments that start the helper's JSON-RPC server, or nil.
Nil looks for the helper in this order: `ticktick-signon' on the
variable `exec-path'; in pipx's bin folder ($PIPX_BIN_DIR, else
~/.local/bin); in uv's tool bin folder ($UV_TOOL_BIN_DIR, else
$XDG_BIN_HOME, else $XDG_DATA_HOME/../bin, else ~/.local/bin); then
`python3 -m ticktick_signon' (on Windows `py -3', then `python').
On Windows ~ is %USERPROFILE% here, as for pipx and uv.
\\[ticktick-signon-status] says which helper was found, and how.
Otherwise the first element is the program, looked up in the
variable `exec-path' unless it is a file name, for instance
\(\"~/bin/ticktick-signon\" \"serve\")."
  :type '(choice (const :tag "Look for it" nil)
                 (repeat :tag "Program and arguments" string)))

(defcustom ticktick-signon-profile "default"
  "Profile used when a command is not given one.
Each profile has its own app credentials and token in the helper's cache."
  :type 'string)

(defcustom ticktick-signon-region nil
  "Which service to sign in to; nil leaves it to the helper.
The helper then uses the profile's saved region, else \"ticktick\"."
  :type '(choice (const :tag "Saved or helper's default" nil)
                 (const :tag "TickTick (ticktick.com)" "ticktick")
                 (const :tag "Dida365 (dida365.com)" "dida365")))

(defcustom ticktick-signon-client-id nil
  "Client id of your TickTick app, or nil to use the saved one.
When nothing is saved or set in the environment, sign-in asks for it.
The client secret is never a user option: sign-in asks for it with a
hidden prompt and the helper keeps it in its private cache."
  :type '(choice (const :tag "Saved, from the environment, or ask" nil)
                 string))

(defcustom ticktick-signon-redirect-url nil
  "Redirect URL registered with your TickTick app, or nil for the saved one.
The helper falls back to http://127.0.0.1:8080/.  A plain http loopback
URL with a port lets the helper catch the browser's redirect itself."
  :type '(choice (const :tag "Saved or helper's default" nil) string))

(defcustom ticktick-signon-listen t
  "Non-nil lets the helper catch the browser's redirect on loopback.
When nil, or when the helper cannot listen, sign-in asks you to paste
the URL the browser ends up on."
  :type 'boolean)

(defcustom ticktick-signon-request-timeout 30
  "Seconds to wait for the helper to answer one request."
  :type 'number)

(defcustom ticktick-signon-sign-in-finished-functions nil
  "Functions called when a sign-in finishes, with PROFILE and ERROR.
ERROR is nil on success, else the `ticktick-signon-error' condition
\(see `ticktick-signon-error-code')."
  :type 'hook)

(defcustom ticktick-signon-token-changed-functions nil
  "Functions called when a profile's token changes, by whoever changed it.
Each gets PROFILE, SIGNED-IN (t or nil) and EXPIRES-AT (Unix seconds, nil
when signed out).  Sent by the running helper when a token is added,
replaced or removed, or passes its expiry: in this Emacs, another one,
the CLI.  Never the token itself: call `ticktick-signon-get-token'."
  :type 'hook)

(defcustom ticktick-signon-token-expiring-functions nil
  "Functions called when a profile's token is near its end.
Each gets PROFILE, EXPIRES-AT (Unix seconds) and EXPIRES-IN (seconds
left).  Run once when fewer than 7 days are left, and once more when
fewer than 24 hours are left."
  :type 'hook)

(define-error 'ticktick-signon-error "TickTick sign-on")
(define-error 'ticktick-signon-helper-missing
  "TickTick sign-on helper missing" 'ticktick-signon-error)

(defun ticktick-signon-error-message (err)
  "Return the human-readable message of the `ticktick-signon-error' ERR."
  (nth 1 err))

(defun ticktick-signon-error-code (err)
  "Return the helper's JSON-RPC error code carried by ERR, or nil.
Nil means the failure happened on Emacs's side (e.g. no helper)."
  (nth 2 err))

(defun ticktick-signon-error-data (err)
  "Return the `data' plist of the helper's error carried by ERR."
  (nth 3 err))

(defvar ticktick-signon--connection nil
  "The one helper connection of this Emacs, or nil until first use.")

(defvar ticktick-signon--process nil
  "The helper's process, kept to ask it to exit cleanly.")

(defvar ticktick-signon--waiting nil
  "Profiles whose sign-in waits for the helper's loopback listener.")

(defvar ticktick-signon--stopping nil
  "Non-nil while this package stops the helper on purpose.")

(defvar ticktick-signon--states nil
  "What is known of each profile's token: (PROFILE SIGNED-IN EXPIRES-AT).")

(defconst ticktick-signon--stderr-buffer "*ticktick-signon stderr*"
  "Name jsonrpc.el expects for the helper's stderr buffer.")

(defvar ticktick-signon--load-directory
  (and load-file-name (file-name-directory (file-truename load-file-name)))
  "Folder this file was loaded from, links resolved.")

;;;; Errors

(defun ticktick-signon--stderr-tail (conn)
  "Return the last non-empty line the helper of CONN wrote to stderr, or nil."
  (when-let ((buffer (and conn (jsonrpc-stderr-buffer conn))))
    (when (buffer-live-p buffer)
      ;; Its last words travel on a separate pipe and may still be on the way.
      (when-let ((pipe (get-buffer-process buffer)))
        (accept-process-output pipe 0.2))
      (with-current-buffer buffer
        (let ((lines (split-string (buffer-string) "\n" t "[ \t\r]+")))
          ;; Emacs's own "Process ... finished" line says nothing useful.
          (car (last (seq-remove (lambda (line) (string-prefix-p "Process " line))
                                 lines))))))))

(defun ticktick-signon--describe (code message data profile &optional conn)
  "Turn the helper's error CODE, MESSAGE and DATA for PROFILE into a sentence.
Only CODE and non-secret DATA fields are used, never anything the user
typed; MESSAGE is the helper's own secret-free sentence, used for codes
where it is the most precise advice.  CONN gives the stderr to quote
when the helper died."
  (let ((profile (format "profile \"%s\"" (or profile ticktick-signon-profile))))
    (pcase code
      (-32001 (format "Not signed in to TickTick (%s); run M-x ticktick-signon-sign-in"
                      profile))
      (-32002 (format "The TickTick token of %s has expired; run M-x ticktick-signon-sign-in"
                      profile))
      (-32003 (concat "No TickTick sign-in is waiting for that URL (already used, "
                      "or older than 10 minutes); run M-x ticktick-signon-sign-in again"))
      (-32004 (concat "That URL belongs to an older TickTick sign-in; paste the URL "
                      "from the latest one, or run M-x ticktick-signon-sign-in again"))
      (-32005 (format "TickTick sign-in was denied in the browser (%s); run M-x ticktick-signon-sign-in to try again"
                      (or (plist-get data :error) "no reason given")))
      (-32006 (format "TickTick refused to issue a token (%s); check the app's client id, secret and redirect URL, then sign in again"
                      (string-join (delq nil (list (when-let ((status (plist-get data :status)))
                                                     (format "HTTP %s" status))
                                                   (plist-get data :error)))
                                   ", ")))
      (-32007 "Could not reach TickTick's sign-in server; check the network connection and try again")
      (-32008 (format "The ticktick-signon cache %s cannot be read; fix or delete it, then try again"
                      (or (plist-get data :path) "file")))
      (-32800 "The request to the ticktick-signon helper was cancelled")
      (-1 (format "The ticktick-signon helper stopped unexpectedly%s; it restarts on next use"
                  (if-let ((tail (ticktick-signon--stderr-tail conn)))
                      (format " (it said: %s)" tail)
                    "")))
      ('nil (or message "The ticktick-signon helper did not answer"))
      (_ (or message (format "The ticktick-signon helper failed (error %s)" code))))))

(defun ticktick-signon--error (code message data profile &optional conn)
  "Return a `ticktick-signon-error' condition for a helper error.
CODE, MESSAGE, DATA, PROFILE and CONN are as in `ticktick-signon--describe'."
  (list 'ticktick-signon-error
        (ticktick-signon--describe code message data profile conn)
        code data))

(defmacro ticktick-signon--user-errors (&rest body)
  "Run BODY, turning `ticktick-signon-error' into a plain `user-error'."
  (declare (indent 0) (debug t))
  (let ((err (make-symbol "err")))
    `(condition-case ,err
         (progn ,@body)
       (ticktick-signon-error (user-error "%s" (ticktick-signon-error-message ,err))))))

;;;; The helper process

(defun ticktick-signon--make-connection (&rest initargs)
  "Make the jsonrpc connection from INITARGS, with its events log off.
The log would pretty-print every reply, token included.  jsonrpc 1.0.17
\(Emacs 30) renamed the initarg that turns it off and warns about the
old one, which is all Emacs 28 and 29 know."
  (condition-case nil
      (apply #'make-instance 'jsonrpc-process-connection
             :events-buffer-config '(:size 0) initargs)
    ;; Raised while setting slots, before the process is started.
    (invalid-slot-name
     (apply #'make-instance 'jsonrpc-process-connection
            :events-buffer-scrollback-size 0 initargs))))

(defun ticktick-signon--source-tree ()
  "Return the repository holding this package, when it is a whole clone.
A clone holds the helper's Python package, so it can install it."
  (when-let* ((dir ticktick-signon--load-directory)
              (root (expand-file-name "../.." dir))
              (pyproject (expand-file-name "pyproject.toml" root)))
    (when (file-readable-p pyproject)
      (with-temp-buffer
        (insert-file-contents pyproject)
        (when (search-forward "name = \"ticktick-signon\"" nil t)
          (directory-file-name root))))))

(defun ticktick-signon--install-hint ()
  "Say how to install the helper, naming this package's clone when it is one."
  (let ((from (if-let ((root (ticktick-signon--source-tree)))
                  (shell-quote-argument root)
                "/path/to/ticktick-signon")))
    (format "install it with `pipx install %s' (or `uv tool install %s'; see the package's README)"
            from from)))

(defconst ticktick-signon--program "ticktick-signon"
  "Name of the helper's command, as pipx and uv install it.")

(defconst ticktick-signon--module "ticktick_signon"
  "Name of the helper's Python package, for `python -m'.")

(defvar ticktick-signon--helper nil
  "The running helper: (:command COMMAND :how HOW), HOW saying how it was found.")

(defun ticktick-signon--getenv (name)
  "Return environment variable NAME, or nil when it is unset or empty."
  (let ((value (getenv name)))
    (and value (not (string-empty-p value)) value)))

(defun ticktick-signon--tool-folders ()
  "Return pipx's and uv's bin folders in search order, as (FOLDER . WHOSE).
A folder both use is listed once.  pipx and uv take ~ from
%USERPROFILE% on Windows, where Emacs's own ~ may be %APPDATA%."
  (let* ((home (or (and (eq system-type 'windows-nt) (ticktick-signon--getenv "USERPROFILE"))
                   (expand-file-name "~")))
         (local-bin (expand-file-name ".local/bin" home))
         ;; uv ignores a relative XDG folder, as the XDG spec says to.
         (xdg (lambda (name)
                (when-let ((value (ticktick-signon--getenv name)))
                  (and (file-name-absolute-p value) value))))
         (pipx (directory-file-name
                (expand-file-name (or (ticktick-signon--getenv "PIPX_BIN_DIR") local-bin))))
         (uv (directory-file-name
              (expand-file-name (or (ticktick-signon--getenv "UV_TOOL_BIN_DIR")
                                    (funcall xdg "XDG_BIN_HOME")
                                    (when-let ((data (funcall xdg "XDG_DATA_HOME")))
                                      (expand-file-name "../bin" data))
                                    local-bin)))))
    (if (or (string= pipx uv) (file-equal-p pipx uv))
        (list (cons pipx "pipx's and uv's bin folder"))
      (list (cons pipx "pipx's bin folder") (cons uv "uv's tool bin folder")))))

(defun ticktick-signon--pythons ()
  "Return the Python commands to try `python -m ticktick_signon' with."
  (if (eq system-type 'windows-nt) '(("py" "-3") ("python")) '(("python3"))))

(defun ticktick-signon--has-package-p (python)
  "Return non-nil if the Python command PYTHON (a list) has the helper's package.
It looks the package up without importing it."
  (let ((default-directory (expand-file-name "~/")))
    (eql 0 (ignore-errors
             (apply #'call-process (car python) nil nil nil
                    (append (cdr python)
                            (list "-c" (format "import importlib.util, sys; sys.exit(importlib.util.find_spec(%S) is None)"
                                               ticktick-signon--module))))))))

(defun ticktick-signon--search-helper ()
  "Look for the helper where it is installed, in the documented order.
Return (FOUND . TRIED): FOUND is (:command COMMAND :how HOW) or nil,
TRIED the places looked at in vain, as phrases."
  (let* ((tried nil)
         (found
          (catch 'found
            (when-let ((path (executable-find ticktick-signon--program)))
              (throw 'found (list :command (list path "serve") :how "found on exec-path")))
            (push "on exec-path" tried)
            (pcase-dolist (`(,folder . ,whose) (ticktick-signon--tool-folders))
              (when-let ((path (locate-file ticktick-signon--program (list folder)
                                            exec-suffixes #'file-executable-p)))
                (throw 'found (list :command (list path "serve") :how (concat "found in " whose))))
              (push (format "in %s (%s)" (abbreviate-file-name folder) whose) tried))
            (dolist (python (ticktick-signon--pythons))
              (let* ((name (format "`%s -m %s'" (string-join python " ") ticktick-signon--module))
                     (path (executable-find (car python))))
                (when (and path (ticktick-signon--has-package-p (cons path (cdr python))))
                  (throw 'found (list :command (append (list path) (cdr python)
                                                       (list "-m" ticktick-signon--module "serve"))
                                      :how (concat "found as " name))))
                (push (concat "as " name) tried)))
            nil)))
    (cons found (nreverse tried))))

(defun ticktick-signon--find-helper ()
  "Return how to start the helper: (:command COMMAND :how HOW).
COMMAND is the program, as an absolute file name, and its arguments;
HOW says how it was found (\"found in pipx's bin folder\").  See
`ticktick-signon-helper-command' for the order.  Signal
`ticktick-signon-helper-missing', saying where it looked and how to
install the helper, when there is none."
  (let ((setting ticktick-signon-helper-command))
    (if setting
        (let ((path (and (proper-list-p setting) (seq-every-p #'stringp setting)
                         (not (string-empty-p (car setting)))
                         (executable-find (car setting)))))
          (unless path
            (signal 'ticktick-signon-helper-missing
                    (list (format "Cannot find the ticktick-signon helper `%s' set in `ticktick-signon-helper-command'; fix that setting, or set it to nil to let Emacs look for the helper, or %s"
                                  (if (consp setting) (car setting) setting)
                                  (ticktick-signon--install-hint))
                          nil nil)))
          (list :command (cons path (cdr setting))
                :how "set in `ticktick-signon-helper-command'"))
      (pcase-let ((`(,found . ,tried) (ticktick-signon--search-helper)))
        (or found
            (signal 'ticktick-signon-helper-missing
                    (list (format "Cannot find the ticktick-signon helper; looked %s; %s, or set `ticktick-signon-helper-command' to its command"
                                  (string-join tried ", ") (ticktick-signon--install-hint))
                          nil nil)))))))

(defun ticktick-signon--start-helper ()
  "Start the helper and return its connection."
  (let* ((helper (ticktick-signon--find-helper))
         (command (plist-get helper :command)))
    (condition-case err
        (prog1
            (ticktick-signon--make-connection
             :name "ticktick-signon"
             :notification-dispatcher #'ticktick-signon--notification
             :on-shutdown #'ticktick-signon--on-shutdown
             :process (lambda ()
                        ;; A remote or deleted `default-directory' would stop the spawn.
                        (let ((default-directory (expand-file-name "~/")))
                          (setq ticktick-signon--process
                                (make-process
                                 :name "ticktick-signon"
                                 :command command
                                 :connection-type 'pipe
                                 :coding 'utf-8-emacs-unix
                                 :noquery t
                                 :stderr (get-buffer-create ticktick-signon--stderr-buffer))))))
          (setq ticktick-signon--helper helper)
          (add-hook 'kill-emacs-hook #'ticktick-signon-shutdown))
      (file-error
       (signal 'ticktick-signon-helper-missing
               (list (format "Cannot start the ticktick-signon helper `%s' (%s): %s; check `ticktick-signon-helper-command'"
                             (car command) (plist-get helper :how) (error-message-string err))
                     nil nil))))))

(defun ticktick-signon--connection ()
  "Return the live helper connection, starting the helper if needed."
  (unless (and ticktick-signon--connection
               (jsonrpc-running-p ticktick-signon--connection))
    (setq ticktick-signon--connection (ticktick-signon--start-helper)))
  ticktick-signon--connection)

(defun ticktick-signon--on-shutdown (conn)
  "Forget CONN once its helper has exited; report a sign-in it cut short."
  (when (eq conn ticktick-signon--connection)
    (setq ticktick-signon--connection nil))
  (when (and (processp ticktick-signon--process)
             (eq (process-get ticktick-signon--process 'jsonrpc-connection) conn))
    (setq ticktick-signon--process nil))
  (when (and ticktick-signon--waiting (not ticktick-signon--stopping))
    (setq ticktick-signon--waiting nil)
    (message "The ticktick-signon helper stopped while waiting for the browser; paste the redirect URL with M-x ticktick-signon-paste-redirect-url, or sign in again")))

;;;###autoload
(defun ticktick-signon-shutdown ()
  "Stop the helper process; it is started again when next needed.
The helper is asked to exit by closing its input, and killed if it
does not exit within two seconds."
  (interactive)
  (let ((conn ticktick-signon--connection)
        (ticktick-signon--stopping t)
        ;; jsonrpc.el announces every exit; this one is on purpose.
        (inhibit-message t))
    (setq ticktick-signon--connection nil)
    (when (and conn (jsonrpc-running-p conn))
      (let ((process ticktick-signon--process))
        ;; The helper exits cleanly at end of input, closing its listeners.
        (when (and (processp process) (eq (process-get process 'jsonrpc-connection) conn))
          (ignore-errors (process-send-eof process))
          (with-timeout (2)
            (while (process-live-p process)
              (accept-process-output process 0.05)))))
      (jsonrpc-shutdown conn))))

(defun ticktick-signon--request (method params &optional profile)
  "Send METHOD with PARAMS to the helper and return its result.
Signal `ticktick-signon-error' with a sentence about PROFILE on failure."
  (let ((conn (ticktick-signon--connection)))
    (condition-case err
        (jsonrpc-request conn method params :timeout ticktick-signon-request-timeout)
      (jsonrpc-error
       (let* ((code (alist-get 'jsonrpc-error-code (cdr err)))
              (message (alist-get 'jsonrpc-error-message (cdr err)))
              (data (alist-get 'jsonrpc-error-data (cdr err))))
         (signal 'ticktick-signon-error
                 (cdr (ticktick-signon--error
                       code
                       (if code message
                         (format "The ticktick-signon helper did not answer %s within %s seconds"
                                 method ticktick-signon-request-timeout))
                       data profile conn)))))
      ((file-error error)
       ;; Writing to a helper that has just died; anything else is a bug to see as is.
       (if (jsonrpc-running-p conn)
           (signal (car err) (cdr err))
         (signal 'ticktick-signon-error
                 (cdr (ticktick-signon--error -1 nil nil profile conn))))))))

(defun ticktick-signon--params (profile &rest more)
  "Return a params object for PROFILE with the extra keys and values MORE."
  (append (list :profile (or profile ticktick-signon-profile)) more))

(defun ticktick-signon--read-profile ()
  "Read a profile name when a prefix argument is given, else return nil."
  (when current-prefix-arg
    (read-string (format-prompt "TickTick profile" ticktick-signon-profile)
                 nil nil ticktick-signon-profile)))

;;;; Showing times

(defun ticktick-signon--plural (count unit)
  "Return COUNT UNIT, with an s unless COUNT is 1."
  (format "%d %s%s" count unit (if (= count 1) "" "s")))

(defun ticktick-signon--time-left (seconds)
  "Describe SECONDS of validity left in words.
The CLI's one rule (docs/protocol.md): whole days, else hours, else
minutes, rounded down; under a minute, \"less than a minute\"."
  (cond ((null seconds) "unknown time left")
        ((>= seconds 86400) (concat (ticktick-signon--plural (floor seconds 86400) "day") " left"))
        ((>= seconds 3600) (concat (ticktick-signon--plural (floor seconds 3600) "hour") " left"))
        ((>= seconds 60) (concat (ticktick-signon--plural (floor seconds 60) "minute") " left"))
        ((> seconds 0) "less than a minute left")
        (t "expired")))

(defun ticktick-signon--date (unix-seconds)
  "Format UNIX-SECONDS as a local date and time."
  (if unix-seconds (format-time-string "%Y-%m-%d %H:%M" unix-seconds) "an unknown time"))

;;;; Sign-in

(defun ticktick-signon--finished (profile error)
  "Report that PROFILE's sign-in finished; ERROR is nil or a condition."
  (setq ticktick-signon--waiting (delete profile ticktick-signon--waiting))
  (run-hook-with-args 'ticktick-signon-sign-in-finished-functions profile error))

(defun ticktick-signon--remember (profile signed-in expires-at)
  "Record that PROFILE is SIGNED-IN (non-nil) until EXPIRES-AT, or not."
  (when (stringp profile)
    (setf (alist-get profile ticktick-signon--states nil nil #'equal)
          (list (and signed-in (not (eq signed-in :json-false)))
                (and (numberp expires-at) expires-at)))
    (force-mode-line-update t)))

(defun ticktick-signon--token-changed (params)
  "Handle the helper's tokenChanged notification PARAMS."
  (let ((profile (plist-get params :profile)))
    (ticktick-signon--remember profile (plist-get params :signedIn) (plist-get params :expiresAt))
    (apply #'run-hook-with-args 'ticktick-signon-token-changed-functions profile
           (alist-get profile ticktick-signon--states nil nil #'equal))))

(defun ticktick-signon--token-expiring (params)
  "Handle the helper's tokenExpiring notification PARAMS."
  (let ((profile (plist-get params :profile))
        (expires-at (plist-get params :expiresAt))
        (expires-in (plist-get params :expiresIn)))
    (when (equal profile ticktick-signon-profile)
      (message "The TickTick token of profile \"%s\" expires on %s (%s); run M-x ticktick-signon-sign-in to renew it"
               profile (ticktick-signon--date expires-at) (ticktick-signon--time-left expires-in)))
    (run-hook-with-args 'ticktick-signon-token-expiring-functions profile expires-at expires-in)))

(defun ticktick-signon--issuer-phrase (status)
  "Return \" to NAME\" for the provider in getStatus result STATUS, or \"\".
NAME is the helper's `issuer.name' (\"TickTick\", \"the sandbox\"), never
made up from a URL or its port; an older helper without it gives \"\"."
  (let* ((issuer (plist-get status :issuer))
         (name (and (listp issuer) (plist-get issuer :name))))
    (if (and (stringp name) (not (string-empty-p name))) (concat " to " name) "")))

(defun ticktick-signon--signed-in (profile expires-at &optional status)
  "Tell the user PROFILE is signed in until EXPIRES-AT.
STATUS, the profile's getStatus result, names the provider; without
it, the helper is asked."
  (ticktick-signon--remember profile t expires-at)
  (let ((status (or status
                    (ignore-errors
                      (ticktick-signon--request 'getStatus (ticktick-signon--params profile) profile)))))
    (message "Signed in%s (profile \"%s\"); the token is valid until %s. M-x ticktick-signon-copy-token copies it"
             (ticktick-signon--issuer-phrase status) profile (ticktick-signon--date expires-at)))
  (ticktick-signon--finished profile nil))

(defun ticktick-signon--signed-in-later (profile expires-at)
  "Tell the user PROFILE is signed in until EXPIRES-AT, from a notification.
Like `ticktick-signon--signed-in', but getStatus is asked without waiting."
  (ticktick-signon--remember profile t expires-at)
  ;; A request that waits, inside the process filter that delivers the notification, would nest.
  (let ((say (lambda (status) (ticktick-signon--signed-in profile expires-at (or status '(:issuer nil))))))
    (condition-case nil
        (jsonrpc-async-request
         (ticktick-signon--connection) 'getStatus (ticktick-signon--params profile)
         :success-fn say
         :error-fn (lambda (_) (funcall say nil))
         :timeout-fn (lambda () (funcall say nil)))
      (ticktick-signon-error (funcall say nil)))))

(defun ticktick-signon--notification (_conn method params)
  "Handle the helper's notification METHOD with PARAMS."
  ;; An error here would surface as a confusing "error in process filter".
  (with-demoted-errors "ticktick-signon: %S"
    (pcase method
      ('tokenChanged (ticktick-signon--token-changed params))
      ('tokenExpiring (ticktick-signon--token-expiring params))
      ('signonCompleted
       (ticktick-signon--signed-in-later (plist-get params :profile) (plist-get params :expiresAt)))
      ('signonFailed
       (let* ((profile (plist-get params :profile))
              (error (plist-get params :error))
              (code (plist-get error :code))
              (condition
               (if (eql code -32003)
                   ;; Sent when the sign-in's 10 minutes ran out with no browser in sight.
                   (list 'ticktick-signon-error
                         (format "The TickTick sign-in of profile \"%s\" expired after 10 minutes without an answer from the browser; run M-x ticktick-signon-sign-in again"
                                 profile)
                         code (plist-get error :data))
                 (ticktick-signon--error code (plist-get error :message)
                                         (plist-get error :data) profile))))
         (message "%s" (ticktick-signon-error-message condition))
         (ticktick-signon--finished profile condition))))))

(defun ticktick-signon--ask-missing (names)
  "Ask for the credentials NAMES and return them as params.
The secret is read without echo and never stored by Emacs."
  (mapcan
   (lambda (name)
     (let ((value (pcase name
                    ("clientSecret" (read-passwd "TickTick app client secret: "))
                    ("clientId" (read-string "TickTick app client id (from developer.ticktick.com/manage): "))
                    (_ (read-string (format "%s: " name))))))
       (when (string-empty-p value)
         (user-error "Sign-in cancelled: no %s given" name))
       (list (intern (concat ":" name)) value)))
   names))

(defun ticktick-signon--start (profile)
  "Send startSignon for PROFILE, asking for missing credentials; return the result."
  (let ((base (append (ticktick-signon--params profile
                                               :listen (if ticktick-signon-listen t :json-false))
                      (and ticktick-signon-region (list :region ticktick-signon-region))
                      (and ticktick-signon-client-id (list :clientId ticktick-signon-client-id))
                      (and ticktick-signon-redirect-url
                           (list :redirectUrl ticktick-signon-redirect-url))))
        (asked nil))
    (unwind-protect
        (catch 'started
          (while t
            (condition-case err
                (throw 'started
                       (ticktick-signon--request 'startSignon (append base asked) profile))
              (ticktick-signon-error
               (let ((missing (append (plist-get (ticktick-signon-error-data err) :missing) nil)))
                 ;; Ask once per name: asking again would loop on a helper that disagrees.
                 (if (and (eql (ticktick-signon-error-code err) -32602)
                          missing
                          (not (seq-some (lambda (name) (plist-member asked (intern (concat ":" name))))
                                         missing)))
                     (setq asked (append asked (ticktick-signon--ask-missing missing)))
                   (signal (car err) (cdr err))))))))
      ;; The helper keeps the secret from here on; don't leave a copy in Lisp memory.
      (when-let ((secret (plist-get asked :clientSecret)))
        (clear-string secret)))))

(defun ticktick-signon--open-browser (url)
  "Open URL with `browse-url'; return a line telling the user about URL.
URL also goes on the kill ring (and so the clipboard of a graphical
Emacs): a terminal's copy of the echo area would take the \\ of each
wrapped line with it."
  (kill-new url)
  (condition-case err
      (progn (browse-url url)
             (format "Sign in to TickTick in your browser (the URL is on the kill ring, C-y pastes it): %s" url))
    (error (format "Could not open a browser (%s); open this URL to sign in to TickTick (it is on the kill ring, C-y pastes it): %s"
                   (error-message-string err) url))))

;;;###autoload
(defun ticktick-signon-sign-in (&optional profile)
  "Sign in to TickTick in the browser and keep the token in the helper's cache.
PROFILE defaults to `ticktick-signon-profile'; with a prefix argument,
ask for it.  The authorize URL is opened with `browse-url' and shown in
the echo area.  If the helper can catch the browser's redirect, the
sign-in finishes by itself (\\[ticktick-signon-cancel-sign-in] stops
waiting); otherwise paste the URL the browser ends up on.  The client
id and secret are asked for when nothing is saved."
  (interactive (list (ticktick-signon--read-profile)))
  (ticktick-signon--user-errors
    (let* ((result (ticktick-signon--start (or profile ticktick-signon-profile)))
           (url (plist-get result :authorizeUrl))
           (profile (plist-get result :profile))
           (listening (eq (plist-get result :listening) t)))
      ;; Mark the wait before opening the browser: the redirect can come back at once.
      (when listening
        (cl-pushnew profile ticktick-signon--waiting :test #'equal))
      (let ((opened (ticktick-signon--open-browser url)))
        (if listening
            (message "%s\nWaiting for it to come back to %s; M-x ticktick-signon-paste-redirect-url pastes the URL instead, M-x ticktick-signon-cancel-sign-in stops waiting"
                     opened (plist-get result :redirectUrl))
          (message "%s" opened)))
      (unless listening
        (let ((redirect (string-trim (ticktick-signon--read-redirect url))))
          (if (string-empty-p redirect)
              (message "TickTick sign-in not finished; within 10 minutes, run M-x ticktick-signon-paste-redirect-url with the URL")
            (ticktick-signon--complete redirect profile))))
      result)))

(defun ticktick-signon--read-redirect (authorize-url)
  "Ask for the URL the browser ended on, showing AUTHORIZE-URL meanwhile.
The prompt hides the echo area, so the URL to open stays in a buffer."
  (let* ((buffer (get-buffer-create "*TickTick sign-in*"))
         (window (progn
                   (with-current-buffer buffer
                     (let ((inhibit-read-only t))
                       (erase-buffer)
                       (insert "Sign in to TickTick by opening this URL in a browser:\n\n"
                               authorize-url
                               "\n\nThen paste the URL the browser ends up on (its address bar)"
                               " at the prompt below.\n")
                       (special-mode)))
                   (display-buffer buffer))))
    (unwind-protect
        (read-string "After signing in, paste the URL the browser was sent to (empty to do it later): "
                     nil t)
      (when (window-live-p window)
        (quit-restore-window window 'kill))
      (when (buffer-live-p buffer)
        (kill-buffer buffer)))))

(defun ticktick-signon--complete (redirect-url profile)
  "Finish a sign-in with REDIRECT-URL; PROFILE names it in errors.
Return the helper's token result."
  ;; No profile param: the helper finds the sign-in by the URL's state.
  (let ((result (ticktick-signon--request 'completeSignon (list :redirectUrl redirect-url) profile)))
    (ticktick-signon--signed-in (plist-get result :profile) (plist-get result :expiresAt))
    result))

;;;###autoload
(defun ticktick-signon-paste-redirect-url (&optional redirect-url)
  "Finish a TickTick sign-in with REDIRECT-URL, the URL the browser ended on.
Interactively, read it from the minibuffer (kept out of the history,
since it holds the authorization code).  Works whether or not the
helper is listening for the redirect itself."
  ;; Reading in the body, not in `interactive', keeps the URL out of `command-history'.
  (interactive)
  (ticktick-signon--user-errors
    (let ((url (string-trim (or redirect-url
                                (read-string "URL the browser was sent to after signing in: "
                                             nil t)))))
      (when (string-empty-p url)
        (user-error "No URL given; paste the whole URL from the browser's address bar"))
      (ticktick-signon--complete url (car ticktick-signon--waiting)))))

;;;###autoload
(defun ticktick-signon-cancel-sign-in ()
  "Stop waiting for the browser to finish a TickTick sign-in.
This stops the helper, which closes its loopback listener; the sign-in
can still be finished within 10 minutes with
\\[ticktick-signon-paste-redirect-url]."
  (interactive)
  (if (null ticktick-signon--waiting)
      (message "No TickTick sign-in is waiting for the browser")
    (let ((profiles ticktick-signon--waiting))
      (setq ticktick-signon--waiting nil)
      (ticktick-signon-shutdown)
      (message "Stopped waiting for the browser; you can still paste the redirect URL with M-x ticktick-signon-paste-redirect-url")
      (dolist (profile profiles)
        (run-hook-with-args 'ticktick-signon-sign-in-finished-functions profile
                            (list 'ticktick-signon-error "TickTick sign-in cancelled" nil nil))))))

;;;; Token, status, sign-out

;;;###autoload
(defun ticktick-signon-get-token (&optional profile min-valid-seconds)
  "Return PROFILE's TickTick access token, a string.
PROFILE defaults to `ticktick-signon-profile'.  With MIN-VALID-SECONDS,
a token expiring sooner than that counts as expired.  Signal
`ticktick-signon-error' when there is no usable token; its data is
\(MESSAGE CODE DATA), see `ticktick-signon-error-code' (e.g. -32001 not
signed in, -32002 expired, nil when the helper is missing)."
  (plist-get (ticktick-signon--token-result profile min-valid-seconds) :accessToken))

(defun ticktick-signon--token-result (profile min-valid-seconds)
  "Return the helper's getToken result for PROFILE and MIN-VALID-SECONDS."
  (let ((result (ticktick-signon--request
                 'getToken
                 (apply #'ticktick-signon--params profile
                        (and min-valid-seconds (list :minValidSeconds min-valid-seconds)))
                 profile)))
    (ticktick-signon--remember (plist-get result :profile) t (plist-get result :expiresAt))
    result))

;;;###autoload
(defun ticktick-signon-get-token-async (callback &optional profile min-valid-seconds)
  "Ask for PROFILE's TickTick access token and call CALLBACK with the answer.
CALLBACK gets two arguments, ERROR and TOKEN: ERROR is nil and TOKEN the
token string, or ERROR is a `ticktick-signon-error' condition and TOKEN
nil.  PROFILE and MIN-VALID-SECONDS are as in `ticktick-signon-get-token'.
Return nil at once."
  (let ((params (apply #'ticktick-signon--params profile
                       (and min-valid-seconds (list :minValidSeconds min-valid-seconds)))))
    (condition-case err
        (let ((conn (ticktick-signon--connection)))
          (jsonrpc-async-request
           conn 'getToken params
           :success-fn (lambda (result) (funcall callback nil (plist-get result :accessToken)))
           :error-fn (lambda (error)
                       (funcall callback
                                (ticktick-signon--error (plist-get error :code) (plist-get error :message)
                                                        (plist-get error :data) profile conn)
                                nil))
           :timeout-fn (lambda ()
                         (funcall callback
                                  (ticktick-signon--error nil "The ticktick-signon helper did not answer getToken in time"
                                                          nil profile)
                                  nil))
           :timeout ticktick-signon-request-timeout))
      (ticktick-signon-error (funcall callback err nil))
      ((file-error error)
       (funcall callback (ticktick-signon--error -1 nil nil profile ticktick-signon--connection) nil)))
    nil))

;;;###autoload
(defun ticktick-signon-copy-token (&optional profile)
  "Copy PROFILE's TickTick access token to the kill ring.
The token itself is never shown.  With a prefix argument, ask for
PROFILE (default `ticktick-signon-profile')."
  (interactive (list (ticktick-signon--read-profile)))
  (ticktick-signon--user-errors
    (let ((result (ticktick-signon--token-result profile nil)))
      (kill-new (plist-get result :accessToken))
      (message "Copied the TickTick access token of profile \"%s\" to the kill ring; valid until %s (%s)"
               (plist-get result :profile)
               (ticktick-signon--date (plist-get result :expiresAt))
               (ticktick-signon--time-left (plist-get result :expiresIn))))))

(defun ticktick-signon--status-sentence (status)
  "Describe the helper's getStatus result STATUS in one sentence."
  (let ((profile (plist-get status :profile))
        (expires-at (plist-get status :expiresAt)))
    (concat
     (format "TickTick (profile \"%s\"): " profile)
     (cond ((eq (plist-get status :signedIn) t)
            (format "signed in until %s (%s)" (ticktick-signon--date expires-at)
                    (ticktick-signon--time-left (plist-get status :expiresIn))))
           (expires-at
            (format "the token expired on %s; run M-x ticktick-signon-sign-in"
                    (ticktick-signon--date expires-at)))
           (t "not signed in; run M-x ticktick-signon-sign-in"))
     (if (eq (plist-get status :pendingSignon) t) "; a sign-in is waiting for the browser" "")
     (if-let ((client-id (plist-get status :clientId))) (format "; app %s" client-id) "")
     (if-let ((region (plist-get status :region))) (format "; region %s" region) "")
     (if-let ((path (plist-get status :configPath))) (format "; cache %s" path) ""))))

(defun ticktick-signon--helper-phrase ()
  "Describe the running helper: its command and how it was found."
  (let ((command (plist-get ticktick-signon--helper :command)))
    (format "%s (%s)"
            (combine-and-quote-strings (cons (abbreviate-file-name (car command)) (cdr command)))
            (plist-get ticktick-signon--helper :how))))

;;;###autoload
(defun ticktick-signon-status (&optional profile)
  "Show whether PROFILE is signed in to TickTick and until when.
Also say which helper answers and how it was found; when none is
found, say where it looked and how to install it.  With a prefix
argument, ask for PROFILE (default `ticktick-signon-profile').
Return the helper's status as a plist."
  (interactive (list (ticktick-signon--read-profile)))
  (ticktick-signon--user-errors
    (let ((status (ticktick-signon--request 'getStatus (ticktick-signon--params profile) profile)))
      (ticktick-signon--remember (plist-get status :profile) (plist-get status :signedIn)
                                 (plist-get status :expiresAt))
      (message "%s; helper %s" (ticktick-signon--status-sentence status)
               (ticktick-signon--helper-phrase))
      status)))

;;;###autoload
(defun ticktick-signon-sign-out (&optional forget profile)
  "Sign PROFILE out of TickTick: drop its token from the helper's cache.
With a prefix argument (FORGET non-nil), also forget the app's saved
client id and secret.  PROFILE defaults to `ticktick-signon-profile'.
Return non-nil if a token was removed."
  (interactive "P")
  (ticktick-signon--user-errors
    (let* ((profile (or profile ticktick-signon-profile))
           (result (ticktick-signon--request
                    'signOut (ticktick-signon--params profile :forget (if forget t :json-false))
                    profile))
           (removed (eq (plist-get result :signedOut) t)))
      ;; The helper closed that profile's listener.
      (setq ticktick-signon--waiting (delete profile ticktick-signon--waiting))
      (ticktick-signon--remember profile nil nil)
      (message "%s%s"
               (if removed
                   (format "Signed out of TickTick (profile \"%s\")" profile)
                 (format "Profile \"%s\" was not signed in to TickTick" profile))
               (if forget "; its client id and secret are forgotten" ""))
      removed)))

;;;; Mode line

(defun ticktick-signon-mode-line-text (&optional profile)
  "Return a short text on PROFILE's token for the mode line.
\"TickTick:179d\" (days left), \"TickTick:5h\", \"TickTick:expired\",
\"TickTick:signed-out\", or \"\" while unknown.  PROFILE defaults to
`ticktick-signon-profile'.  It only reads what the package knows."
  (let* ((state (alist-get (or profile ticktick-signon-profile) ticktick-signon--states nil nil #'equal))
         (left (and (cadr state) (- (cadr state) (float-time)))))
    (cond ((null state) "")
          ((null left) "TickTick:signed-out")
          ((or (not (car state)) (<= left 0)) "TickTick:expired")
          ;; The CLI's rule, short: whole units rounded down.
          ((>= left 86400) (format "TickTick:%dd" (floor left 86400)))
          ((>= left 3600) (format "TickTick:%dh" (floor left 3600)))
          ((>= left 60) (format "TickTick:%dm" (floor left 60)))
          (t "TickTick:<1m"))))

(defvar ticktick-signon--mode-line-entry
  '(:eval (let ((text (ticktick-signon-mode-line-text)))
            (if (string-empty-p text) "" (concat " " text))))
  "The `global-mode-string' entry of `ticktick-signon-mode-line-mode'.")
(put 'ticktick-signon--mode-line-entry 'risky-local-variable t)

;;;###autoload
(define-minor-mode ticktick-signon-mode-line-mode
  "Show the TickTick token's days left in the mode line.
Starts the helper, whose notifications keep the text current when the
token changes anywhere (this Emacs, another one, the CLI)."
  :global t
  :group 'ticktick-signon
  (setq global-mode-string (delq 'ticktick-signon--mode-line-entry
                                 (if (listp global-mode-string) global-mode-string
                                   (list global-mode-string))))
  (when ticktick-signon-mode-line-mode
    (setq global-mode-string (append global-mode-string '(ticktick-signon--mode-line-entry)))
    (condition-case nil
        (jsonrpc-async-request
         (ticktick-signon--connection) 'getStatus (ticktick-signon--params nil)
         :success-fn (lambda (status)
                       (ticktick-signon--remember (plist-get status :profile) (plist-get status :signedIn)
                                                  (plist-get status :expiresAt)))
         :error-fn #'ignore
         :timeout-fn #'ignore)
      ;; No helper: the text stays empty; the commands say why.
      (ticktick-signon-error nil)))
  (force-mode-line-update t))

(defun ticktick-signon-unload-function ()
  "Stop the helper when this package is unloaded."
  (ticktick-signon-mode-line-mode -1)
  (ticktick-signon-shutdown)
  (remove-hook 'kill-emacs-hook #'ticktick-signon-shutdown)
  nil)

(provide 'ticktick-signon)
;;; ticktick-signon.el ends here
