;;; lint.el --- Byte-compile and checkdoc the Emacs client, failing on any warning  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage: emacs --batch -Q -l lint.el FILE.el OUT-DIR [package]
;; FILE.el is compiled into OUT-DIR (so no .elc lands next to the
;; source) with warnings as errors and checkdoc's findings fail the
;; run; with "package", its headers must also parse the way package.el
;; reads them and its commands must be autoloaded.

;;; Code:

(require 'bytecomp)
(require 'checkdoc)
(require 'package)

(let* ((source (expand-file-name (pop command-line-args-left)))
       (out-dir (file-name-as-directory (expand-file-name (pop command-line-args-left))))
       (copy (expand-file-name (file-name-nondirectory source) out-dir))
       (package-p (equal (pop command-line-args-left) "package"))
       (failed nil))
  (copy-file source copy t)
  (let ((byte-compile-error-on-warn t)
        (load-path (cons (file-name-directory source) load-path)))
    (unless (byte-compile-file copy)
      (message "lint: byte-compiling %s failed" source)
      (setq failed t)))
  (when package-p
   (with-temp-buffer
    (insert-file-contents source)
    (let ((info (package-buffer-info)))
      (message "lint: package %s %s requires %S"
               (package-desc-name info)
               (package-version-join (package-desc-version info))
               (package-desc-reqs info))))
   (let ((autoloads (expand-file-name "autoloads-check.el" out-dir)))
     (make-directory-autoloads out-dir autoloads)
     (with-temp-buffer
       (insert-file-contents autoloads)
       (dolist (command '(ticktick-signon-sign-in ticktick-signon-paste-redirect-url
                          ticktick-signon-cancel-sign-in ticktick-signon-copy-token
                          ticktick-signon-status ticktick-signon-sign-out
                          ticktick-signon-get-token ticktick-signon-get-token-async))
         (goto-char (point-min))
         (unless (search-forward (format "(autoload '%s " command) nil t)
           (message "lint: %s has no autoload cookie" command)
           (setq failed t))))))
  (let* ((problems nil)
         (checkdoc-autofix-flag 'never)
         (checkdoc-create-error-function
          (lambda (text start _end &optional _unfixable)
            (push (format "%s:%s: %s" source (if start (line-number-at-pos start) "?") text)
                  problems)
            nil)))
    (with-current-buffer (find-file-noselect copy)
      (checkdoc-current-buffer t))
    (dolist (problem (reverse problems))
      (message "checkdoc: %s" problem))
    (when problems (setq failed t)))
  (kill-emacs (if failed 1 0)))

;;; lint.el ends here
