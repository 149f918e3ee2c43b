;;; install-check.el --- What a user's Emacs gets from one install recipe  -*- lexical-binding: t; -*-

;;; Commentary:

;; Loaded by tests/editors/test_emacs.py after the user's init (one README
;; recipe).  Every function with an autoload cookie in the package must be
;; callable at once: as an autoload, not yet loaded, when
;; TTS_EXPECT_AUTOLOAD is "1", else already defined.  Then
;; `ticktick-signon-get-token' must reach the real helper (not signed in:
;; -32001) and the package must come from TTS_EXPECT_DIR.  Prints
;; "install-check: ok" and exits 0, or prints what failed and exits 1.

;;; Code:

(require 'cl-lib)

(defvar install-check--failures nil
  "What went wrong, newest first.")

(defun install-check--fail (format-string &rest args)
  "Record a failure described by FORMAT-STRING and ARGS."
  (push (apply #'format format-string args) install-check--failures))

(defun install-check--public-functions (source)
  "Return the (NAME . INTERACTIVE) of each autoloaded defun in SOURCE."
  (with-temp-buffer
    (insert-file-contents source)
    (let (found)
      (while (re-search-forward "^;;;###autoload\n(defun \\(\\(?:\\sw\\|\\s_\\)+\\) " nil t)
        (let ((name (intern (match-string 1)))
              (end (save-excursion (goto-char (match-beginning 0)) (forward-line 1) (forward-sexp) (point))))
          (push (cons name (save-excursion (re-search-forward "^  (interactive" end t)))
                found)))
      (nreverse found))))

(let* ((source (getenv "TTS_SOURCE"))
       (expect-autoload (equal (getenv "TTS_EXPECT_AUTOLOAD") "1"))
       (expect-dir (file-truename (getenv "TTS_EXPECT_DIR")))
       (functions (install-check--public-functions source)))
  (unless (>= (length functions) 9)
    (install-check--fail "found only %d autoloaded functions in %s" (length functions) source))
  (when (and expect-autoload (featurep 'ticktick-signon))
    (install-check--fail "the package was loaded at start-up; its autoloads should wait for first use"))
  (dolist (entry functions)
    (let ((name (car entry)))
      (cond ((not (fboundp name)) (install-check--fail "%s is not callable" name))
            ((and expect-autoload (not (autoloadp (symbol-function name))))
             (install-check--fail "%s is not an autoload" name))
            ((and (cdr entry) (not (commandp name)))
             (install-check--fail "%s is not a command (M-x would not offer it)" name)))))
  ;; First use: loads the package through its autoload and asks the real helper.
  (setq ticktick-signon-helper-command
        (list (getenv "TICKTICK_SIGNON_TEST_PYTHON") "-m" "ticktick_signon" "serve"))
  (condition-case err
      (progn (ticktick-signon-get-token)
             (install-check--fail "ticktick-signon-get-token returned a token while signed out"))
    (error
     (unless (and (eq (car err) 'ticktick-signon-error) (eql (nth 2 err) -32001))
       (install-check--fail "ticktick-signon-get-token signalled %S, not notSignedIn" err))))
  (let ((file (symbol-file 'ticktick-signon-get-token 'defun)))
    (unless (and file (string-prefix-p expect-dir (file-truename file)))
      (install-check--fail "the package came from %s, not from %s" file expect-dir)))
  (ignore-errors (ticktick-signon-shutdown))
  (if install-check--failures
      (progn (dolist (failure (reverse install-check--failures))
               (message "install-check: %s" failure))
             (kill-emacs 1))
    (message "install-check: ok (%d functions)" (length functions))
    (kill-emacs 0)))

;;; install-check.el ends here
