/*
 * prepush.h - what cairn's git hooks check: the pushed ranges of a
 * pre-push hook, and git's hook input protocols.
 *
 * git runs the pre-push hook with the remote's name and URL as arguments
 * and one line per ref it is about to update on standard input:
 *
 *     <local ref> SP <local id> SP <remote ref> SP <remote id> LF
 *
 * Ids are 40 (SHA-1) or 64 (SHA-256) hexadecimal digits; an id of zeros
 * means "none": a zero local id deletes the remote ref, a zero remote id
 * creates it.  cairn_prepush_parse() reads that text strictly (a CR
 * before the LF is tolerated, empty lines are skipped); a malformed line
 * is an error naming the line.  post-rewrite's "<old> SP <new> [SP
 * <extra>] LF" lines are read by cairn_rewrite_parse().
 *
 * cairn_prepush_check() validates one update against what the remote
 * already has (the base):
 *
 *  - a deletion checks nothing; annotated tags are peeled to their
 *    commits (a tag of a tree or a blob checks nothing);
 *  - when the remote's id is a commit this repository has, the base is
 *    that commit;
 *  - for a new ref, or when the remote's id is unknown here (someone
 *    pushed commits this clone never fetched and the push overwrites
 *    them), the base is found among the remote-tracking refs of the
 *    remote (refs/remotes/<remote>/...): the commits the walk from the
 *    pushed commit reaches first inside their history (the boundary).
 *    When there are several, the one with the most migrations is the base
 *    (ties: the newest); when the remote has no remote-tracking refs at
 *    all there is no base and only the static checks run.
 *
 * The checks are those of `cairn validate --base BASE` (DESIGN section 6)
 * restricted to what the push changes, so that their cost follows the
 * size of the push and not of the project:
 *
 *  - when the migrations subtree id is the same at the base and at the
 *    pushed commit, nothing more is read;
 *  - the fast path: the two subtrees are compared (cairn_range_diff());
 *    when the push only adds well-named migrations with new versions
 *    above the base's highest (the everyday push), the base's versions
 *    are read from its tree entries, the result's set holds only the
 *    added migrations (`partial`) and only their files are read;
 *  - otherwise (an edit, a deletion, a rename, a bad name, a duplicate,
 *    an out-of-order version, anything odd) both sets are listed by name,
 *    only migrations new or changed since the base are read (size,
 *    encoding, directives), and the base comparison runs on blob ids
 *    (edited-after-push, deleted-after-push, renamed-after-push,
 *    out-of-order), with the messages `cairn validate` gives.
 *
 * Name problems (bad-name, duplicate-version, ...) already present at the
 * base are not the push's doing and are left out.  The result lists the
 * new or changed migrations (`touched`), for lint rules: the versioned
 * ones, then the repeatables new or changed since the base.
 *
 * cairn_prepush_blame() then names, for each finding about a file, the
 * commit of the pushed range that changed it (src/range.c walks only the
 * range, and only when there is something to name).
 */
#ifndef CAIRN_PREPUSH_H
#define CAIRN_PREPUSH_H

#include "common.h"
#include "engine.h"
#include "finding.h"
#include "migration.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest input line accepted (a ref name is far shorter). */
#define CAIRN_PREPUSH_MAX_LINE 8192

typedef struct cairn_push_update {
	char *local_ref;                  /* "refs/heads/main", "(delete)" */
	char *remote_ref;                 /* "refs/heads/main" */
	char local_sha[CAIRN_OID_HEXSZ];  /* lowercase hex */
	char remote_sha[CAIRN_OID_HEXSZ];
	unsigned line;                    /* 1-based line of the input */
} cairn_push_update;

typedef struct cairn_push_updates {
	cairn_push_update *items;
	size_t count;
	size_t alloc;
} cairn_push_updates;

#define CAIRN_PUSH_UPDATES_INIT { NULL, 0, 0 }

/*
 * Parses pre-push input (len bytes; NUL bytes are errors).  Appends to
 * *out.  Errors have class CAIRN_ERRCLASS_USAGE and a message such as
 * "malformed pre-push input on line 2: 'xyz' is not an object id".
 */
CAIRN_EXTERN(int) cairn_prepush_parse(cairn_push_updates *out,
				      const char *data, size_t len);
CAIRN_EXTERN(void) cairn_push_updates_dispose(cairn_push_updates *u);

/* True for an id made only of zeros ("none"). */
CAIRN_EXTERN(bool) cairn_oid_hex_is_zero(const char *hex);

typedef struct cairn_rewrite {
	char old_sha[CAIRN_OID_HEXSZ];
	char new_sha[CAIRN_OID_HEXSZ];
} cairn_rewrite;

typedef struct cairn_rewrites {
	cairn_rewrite *items;
	size_t count;
	size_t alloc;
} cairn_rewrites;

#define CAIRN_REWRITES_INIT { NULL, 0, 0 }

/* Parses post-rewrite input ("<old> <new> [<extra>]" lines). */
CAIRN_EXTERN(int) cairn_rewrite_parse(cairn_rewrites *out, const char *data,
				      size_t len);
CAIRN_EXTERN(void) cairn_rewrites_dispose(cairn_rewrites *r);

typedef struct cairn_prepush_options {
	unsigned int version;
	const char *remote;          /* the remote's name (hook argument 1) */
	const char *dir;             /* migrations_dir; default db/migrations */
	const char *const *ignore;   /* ignore: globs */
	size_t ignore_count;
	bool allow_out_of_order;     /* out-of-order is a warning */
	bool require_down;           /* new migrations need a down file */
	/* version 2: layout: and dialect: (cairn_load_options) */
	cairn_layout layout;
	const char *dialect;
} cairn_prepush_options;

#define CAIRN_PREPUSH_OPTIONS_VERSION 2
#define CAIRN_PREPUSH_OPTIONS_INIT { CAIRN_PREPUSH_OPTIONS_VERSION, NULL, \
				     NULL, NULL, 0, false, false, \
				     CAIRN_LAYOUT_CAIRN, NULL }

typedef enum {
	CAIRN_PREPUSH_DELETE = 0,    /* the remote ref is deleted */
	CAIRN_PREPUSH_REMOTE,        /* base: the remote's own commit */
	CAIRN_PREPUSH_TRACKING,      /* base: from remote-tracking refs */
	CAIRN_PREPUSH_NO_BASE,       /* the remote has nothing we know */
	CAIRN_PREPUSH_NOT_COMMIT     /* a tag of a tree or blob: nothing */
} cairn_prepush_base_kind;

typedef struct cairn_prepush_result {
	cairn_prepush_base_kind base_kind;
	char base[CAIRN_OID_HEXSZ];    /* "" when there is none */
	bool remote_unknown;           /* the remote's id is not here */
	bool unchanged;                /* same migrations subtree as base */
	cairn_migration_set *set;      /* at the pushed commit (NULL: delete);
				        * only the touched migrations when
				        * partial */
	bool partial;                  /* the fast path: see above */
	cairn_migration_set *base_set; /* at the base, NULL when none */
	cairn_migration **touched;     /* new or changed since the base, */
	size_t touched_count;          /*  borrowed from set, by version */
	cairn_findings findings;
	char **hidden;                 /* what the range leaves out (blame) */
	size_t hidden_count;
} cairn_prepush_result;

/*
 * Checks one update; see the top of this file.  Findings go to
 * out->findings; the return value is an error only when the repository
 * could not be read.  Dispose *out with cairn_prepush_result_dispose().
 */
CAIRN_EXTERN(int) cairn_prepush_check(cairn_prepush_result *out,
				      cairn_repo *repo,
				      const cairn_push_update *update,
				      const cairn_prepush_options *opts);

/*
 * Sets `commit` on every finding of r that is about a file the pushed
 * range changed and has no commit yet: the oldest commit of the range
 * that touched the file (for an edit, the commit that first edited it;
 * for a new file, the one that added it).  Walks only the range.
 */
CAIRN_EXTERN(int) cairn_prepush_blame(cairn_prepush_result *r,
				      cairn_repo *repo,
				      const cairn_prepush_options *opts);

/*
 * Checks the pushed commit against the migrations applied to a database:
 * "drift" (an applied migration whose file differs at the pushed commit;
 * an error), "missing" (applied, absent at the pushed commit; a
 * warning: the branch may simply be behind) and "out-of-order" (a new
 * migration of the push numbered below the highest applied).
 */
CAIRN_EXTERN(int) cairn_prepush_check_applied(cairn_prepush_result *r,
					      cairn_repo *repo,
					      const cairn_prepush_options *opts,
					      const cairn_applied_list *applied,
					      const char *environment);

/*
 * Reads the tracking table if cairn's schema exists in the database, and
 * never creates anything (a git hook must not change a database).
 * *exists is false, and *out empty, when there is no tracking table.
 */
CAIRN_EXTERN(int) cairn_prepush_applied_load(cairn_applied_list *out,
					     bool *exists, cairn_db *db);

CAIRN_EXTERN(void) cairn_prepush_result_dispose(cairn_prepush_result *r);

#ifdef __cplusplus
}
#endif

#endif
