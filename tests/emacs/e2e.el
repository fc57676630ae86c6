;;; e2e.el --- tests/test_emacs.py: eglot attaches ragls, completes, fixes and explains -*- lexical-binding: t -*-
;; Run as `emacs --batch -Q -l e2e.el` with $RAGLS_EMACS_TEST naming a JSON file of parameters; writes what it saw
;; as JSON to the file named by its "result" key ({"skip": why} when eglot cannot be loaded) and exits non-zero on
;; failure. Every wait has a deadline, and a timer ends Emacs once the whole run's deadline passes.
(require 'json)
(require 'package)
(require 'cl-lib)

(defvar ragls-params (let ((json-object-type 'alist) (json-array-type 'list))
                       (json-read-file (getenv "RAGLS_EMACS_TEST"))))
(defun ragls-param (key) (alist-get key ragls-params))
(defvar ragls-steps nil "Alist of (STEP . VALUE), newest first.")

(defun ragls-finish (code &optional extra)
  "Write the steps and EXTRA (an alist) to the result file, then exit with CODE."
  (let ((json-encoding-pretty-print nil))
    (with-temp-file (ragls-param 'result)
      (insert (json-encode (append extra `((steps . ,(reverse ragls-steps))))))))
  (kill-emacs code))

(defun ragls-step (name value) (push (cons name value) ragls-steps) value)

(defun ragls-wait (what pred &optional seconds)
  "The first non-nil value of PRED, polled while processing output; an error naming WHAT after SECONDS (default 60)."
  (let ((deadline (+ (float-time) (or seconds 60))) value)
    (while (not (setq value (funcall pred)))
      (when (> (float-time) deadline) (error "Timed out waiting for %s" what))
      (accept-process-output nil 0.05))
    value))

(defun ragls-line (n)
  (save-excursion (goto-char (point-min)) (forward-line (1- n))
                  (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun ragls-set-line (n text)
  (goto-char (point-min)) (forward-line (1- n))
  (delete-region (line-beginning-position) (line-end-position))
  (insert text))

;; eglot: the user's packages, and Debian's (elpa-eglot), which -Q leaves off `package-directory-list'
(dolist (dir '("/usr/share/emacs/site-lisp/elpa" "/usr/local/share/emacs/site-lisp/elpa"))
  (when (file-directory-p dir) (add-to-list 'package-directory-list dir t)))
(package-initialize)
(unless (require 'eglot nil t)
  (ragls-finish 0 '((skip . "eglot cannot be loaded (apt-get install elpa-eglot, or Emacs 29+)"))))

(run-at-time (ragls-param 'timeout_s) nil
             (lambda () (ragls-finish 3 `((error . ,(format "the run's %ss deadline passed" (ragls-param 'timeout_s)))))))

(defun ragls-events ()
  "The tail of the events buffer of the current server (the JSON-RPC traffic), for a failure's report."
  (let ((server (ignore-errors (eglot-current-server))))
    (or (and server (let ((buf (jsonrpc-events-buffer server)))
                      (with-current-buffer buf
                        (buffer-substring-no-properties (max (point-min) (- (point-max) 6000)) (point-max)))))
        "(no server)")))

(defun ragls-main ()
  (setq eglot-sync-connect t
        eglot-connect-timeout 60
        eglot-confirm-server-initiated-edits nil ; a fix arrives as workspace/applyEdit: no y-or-n-p in batch
        jsonrpc-default-request-timeout 30)
  ;; the entry a user writes: the venv's ragls, the model in initializationOptions (the key stays in the environment)
  (let ((options (ragls-param 'settings)))
    (add-to-list 'eglot-server-programs
                 `(python-mode . (,(ragls-param 'ragls) "serve" :initializationOptions ,options)))
    (setq-default eglot-workspace-configuration `((:ragls . ,options))))
  (find-file (expand-file-name "shop/checkout.py" (ragls-param 'root)))
  (apply #'eglot (eglot--guess-contact))
  (let* ((server (ragls-wait "eglot to connect" #'eglot-current-server))
         (caps (eglot--capabilities server)))
    (ragls-step 'attached `((root . ,(expand-file-name (project-root (eglot--project server))))
                            (managed . ,(if (eglot-managed-p) t :json-false))
                            (server . ,(plist-get (eglot--server-info server) :name))))
    (ragls-step 'capabilities
                `((completion . ,(if (plist-get caps :completionProvider) t :json-false))
                  (inline_completion . ,(if (plist-get caps :inlineCompletionProvider) t :json-false))
                  (code_action . ,(if (plist-get caps :codeActionProvider) t :json-false))
                  (commands . ,(append (plist-get (plist-get caps :executeCommandProvider) :commands) nil))))
    (let ((status (ragls-wait "the index" (lambda ()
                                           (let ((s (eglot-execute-command server 'ragls.status [])))
                                             (and (equal (plist-get s :state) "ready") s)))
                              120)))
      (ragls-step 'indexed (plist-get (aref (plist-get status :folders) 0) :index))
      (ragls-step 'model_base_url (plist-get (plist-get status :model) :baseUrl)))

    ;; completion: "    net = |" on line 12, through completion-at-point (eglot's capf asks textDocument/completion)
    (ragls-set-line 12 "    net = ")
    (let* ((capf nil)
           (completion-at-point-functions (list (lambda () (setq capf (eglot-completion-at-point))))))
      (ragls-step 'completion_ok (if (completion-at-point) t :json-false))
      ;; the candidates of that same request (eglot keeps its answer: no second request, no second model call)
      (ragls-step 'candidates (all-completions "" (nth 2 capf))))
    (ragls-step 'completion (ragls-line 12))

    ;; fix: line 13 selected; eglot lists the actions, then runs ragls's fix (the only refactor.rewrite one)
    (let* ((beg (save-excursion (goto-char (point-min)) (forward-line 12) (point)))
           (end (save-excursion (goto-char beg) (forward-line 1) (point)))
           (before (count-lines (point-min) (point-max))))
      (ragls-step 'actions (mapcar (lambda (a) (plist-get a :title)) (eglot-code-actions beg end)))
      (eglot-code-actions beg end "refactor.rewrite" t)
      (ragls-step 'fix `((line12 . ,(ragls-line 12)) (line13 . ,(ragls-line 13)) (line14 . ,(ragls-line 14))
                         (lines_before . ,before) (lines_after . ,(count-lines (point-min) (point-max))))))

    ;; explain: lines 8-14 through workspace/executeCommand
    (let ((range (list :start (list :line 7 :character 0) :end (list :line 14 :character 0))))
      (ragls-step 'explain (eglot-execute-command server 'ragls.explain
                                                  (vector (eglot--path-to-uri buffer-file-name) range))))
    (set-buffer-modified-p nil)
    (eglot-shutdown server)))

(condition-case err
    (progn (ragls-main) (ragls-finish 0 '((ok . t))))
  (error (ragls-finish 1 `((ok . :json-false) (error . ,(error-message-string err)) (events . ,(ragls-events))))))
