/*
 * hook_kinds.h (internal) - the hook kinds the library implements itself
 * (exec, sql) and the helpers they share with hook_context.c.
 *
 * pipeline_build.c turns each cairn_hook_spec of kind exec or sql into a
 * pipeline hook with cairn_hook__add_exec() / cairn_hook__add_sql(); the
 * hook's payload then owns everything it needs at run time.  Nothing here
 * is public: third-party code registers hooks through cairn/hook.h only.
 */
#ifndef CAIRN_SRC_HOOK_KINDS_H
#define CAIRN_SRC_HOOK_KINDS_H

#include "util/attrs.h"

#include "cairn/config.h"
#include "cairn/hook.h"
#include "util/util.h"

/*
 * Appends the CAIRN_* variables that describe ctx ("K=V" strings) to out:
 * every variable of the documented list is always set (empty when it does
 * not apply), so values inherited from a parent cairn never leak into a
 * hook.  Metadata keys become CAIRN_META_<KEY> (upper-cased, every byte
 * that is not a letter or digit turned into '_').
 */
CAIRN_WARN_UNUSED int cairn_hook__env(cairn_strvec *out, const cairn_hook_context *ctx);

/*
 * Registers an exec hook (spec->argv or spec->shell).  Relative program
 * paths and the working directory are resolved against the session's
 * repository work dir at run time, else against workdir (may be NULL:
 * the current directory).  cfg (may be NULL) is the whole configuration:
 * the secrets it names (secret_env variables, passwords in its URLs) are
 * kept out of the hook's environment and masked in its output.
 */
CAIRN_WARN_UNUSED int cairn_hook__add_exec(cairn_pipeline *p, const cairn_hook_spec *spec,
			 const char *workdir, const char *config_path,
			 const cairn_config *cfg);

/*
 * Registers an sql hook.  spec->sql_file is read now, relative to
 * workdir; a missing file is a configuration error naming the place in
 * config_path where the hook was written.
 */
CAIRN_WARN_UNUSED int cairn_hook__add_sql(cairn_pipeline *p, const cairn_hook_spec *spec,
			const char *workdir, const char *config_path);

/*
 * cairn_hook_sql() with a deadline (0: none): a statement still running
 * after timeout_ms is cancelled on the server and *timed_out set; when
 * the session's cancel flag is raised it is cancelled too and the call
 * returns CAIRN_EINTERRUPTED.  SQL errors start their message with
 * `what` ("sql hook 'x' failed: <server message>").
 */
CAIRN_WARN_UNUSED int cairn_hook__sql_run(const cairn_hook_context *ctx, const char *sql,
			uint64_t timeout_ms, const char *what,
			char **first_value, size_t *rows, bool *timed_out);

#endif
