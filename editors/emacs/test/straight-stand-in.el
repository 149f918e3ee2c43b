;;; straight-stand-in.el --- What straight.el does with a recipe, without the network  -*- lexical-binding: t; -*-

;;; Commentary:

;; For tests/editors/test_emacs.py: `straight-use-package' for a recipe
;; whose repository is already cloned in straight/repos/NAME (the test
;; puts a copy of this repository there).  It builds the package the way
;; straight.el does (straight--symlink-package, straight--build-autoloads,
;; straight--build-compile, straight--add-package-to-load-path,
;; straight--load-package-autoloads): each file matching the recipe's
;; :files globs is linked into straight/build/NAME, flattened; the
;; autoloads of that folder are generated into NAME-autoloads.el there;
;; the files are byte-compiled; the folder goes on `load-path' and its
;; autoloads are loaded.

;;; Code:

;; As straight.el: load the autoload generator first, so that
;; `generated-autoload-file' is bound dynamically below.
(or (require 'loaddefs-gen nil 'noerror) (require 'autoload))

(defun straight-use-package (recipe)
  "Build and activate the package RECIPE names, already cloned."
  (let* ((name (symbol-name (car recipe)))
         (straight (expand-file-name "straight" user-emacs-directory))
         (repo (expand-file-name (concat "repos/" name) straight))
         (build (expand-file-name (concat "build/" name) straight))
         (autoloads (expand-file-name (concat name "-autoloads.el") build)))
    (unless (file-directory-p repo)
      (error "The stand-in has no network: clone %s into %s first" name repo))
    (when (file-directory-p build)
      (delete-directory build t))
    (make-directory build t)
    (dolist (glob (or (plist-get (cdr recipe) :files) '("*.el")))
      (dolist (file (file-expand-wildcards (expand-file-name glob repo)))
        (make-symbolic-link file (expand-file-name (file-name-nondirectory file) build))))
    (let ((generated-autoload-file autoloads)
          (backup-inhibited t)
          (version-control 'never)
          (find-file-visit-truename nil)
          (left-margin 0))
      (if (fboundp 'loaddefs-generate)
          (loaddefs-generate build autoloads)
        (make-directory-autoloads build autoloads)))
    (dolist (file (directory-files build t "\\.el\\'"))
      (unless (equal file autoloads)
        (let ((load-path (cons build load-path)))
          (byte-compile-file file))))
    (add-to-list 'load-path build)
    (load autoloads nil 'nomessage)
    t))

(provide 'straight-stand-in)
;;; straight-stand-in.el ends here
