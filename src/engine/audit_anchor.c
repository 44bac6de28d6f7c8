/*
 * audit_anchor.c - keeping the head of the audit chain outside the
 * database (include/cairn/audit.h).
 *
 * An anchor is a small JSON document (row count, id and hash of the
 * newest row, its MAC when the chain is keyed, environment, schema,
 * database without password, time, actor).  It is written to the
 * repository as a commit on refs/cairn/audit/<environment> whose tree
 * holds one blob, anchor.json; each anchor's parent is the previous one,
 * so `git log refs/cairn/audit/production` lists them all and they travel
 * with `git push origin 'refs/cairn/audit/production'`.  The ref is moved with a
 * compare-and-swap (git_reference_create_matching), so of two anchors
 * taken at once neither is lost: the second fails and can be retried.
 *
 * Optionally the same JSON is appended as one line to a file, opened
 * O_APPEND|O_NOFOLLOW and checked to be a regular file, since the path
 * comes from a configuration in the repository.
 *
 * Reading takes the ref's commit, its tree's anchor.json, and checks
 * every field it needs; a malformed anchor is an error, never "no
 * anchor".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "util/buf.h"
#include "cairn/audit.h"
#include "util/error.h"
#include "repo_internal.h"
#include "util/util.h"

#define ANCHOR_REF_PREFIX "refs/cairn/audit/"
#define ANCHOR_BLOB "anchor.json"
#define ANCHOR_FORMAT 1

void cairn_audit_anchor_dispose(cairn_audit_anchor *a)
{
	if (!a)
		return;
	free(a->environment);
	free(a->schema);
	free(a->database);
	free(a->last_hash);
	free(a->last_mac);
	free(a->at);
	free(a->actor);
	memset(a, 0, sizeof(*a));
}

char *cairn_audit_anchor_json(const cairn_audit_anchor *a)
{
	json_t *o = json_pack(
	    "{s:i, s:s?, s:s?, s:s?, s:I, s:I, s:s?, s:s?, s:s?, s:s?}",
	    "format", ANCHOR_FORMAT, "environment", a->environment, "schema",
	    a->schema, "database", a->database, "rows", (json_int_t)a->rows,
	    "last_id", (json_int_t)a->last_id, "last_hash", a->last_hash,
	    "last_mac", a->last_mac, "at", a->at, "actor", a->actor);
	char *s;

	if (!o) {
		cairn_error__oom();
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		cairn_error__oom();
	return s;
}

static int ref_name(cairn_buf *out, const char *environment)
{
	int valid = 0;

	if (!environment || !*environment ||
	    cairn_buf_printf(out, ANCHOR_REF_PREFIX "%s", environment) < 0)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"an anchor needs an environment name");
	if (git_reference_name_is_valid(&valid, out->ptr) < 0 || !valid)
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "cannot anchor environment '%s': '%s' is not a valid git ref name",
		    environment, out->ptr);
	return 0;
}

static int set_now(cairn_audit_anchor *a)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	if (a->at)
		return 0;
	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return cairn_error__set(CAIRN_ERRCLASS_OS, "cannot read the clock");
	a->at = cairn__strdup(buf);
	return a->at ? 0 : CAIRN_ERROR;
}

/*
 * A signature from "Name <email>" (the actor), else the repository's
 * user.name/user.email, else "cairn".
 */
static int make_signature(git_signature **out, git_repository *git,
			  const char *actor)
{
	const char *lt = actor ? strchr(actor, '<') : NULL;
	const char *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt && lt > actor) {
		char *name = cairn__strndup(actor, (size_t)(lt - actor));
		char *email = cairn__strndup(lt + 1, (size_t)(gt - lt - 1));
		int rc = -1;

		if (name && email) {
			size_t n = strlen(name);

			while (n && name[n - 1] == ' ')
				name[--n] = '\0';
			rc = n ? git_signature_now(out, name, email) : -1;
		}
		free(name);
		free(email);
		if (rc == 0)
			return 0;
	}
	if (git_signature_default(out, git) == 0)
		return 0;
	if (git_signature_now(out, "cairn", "cairn@localhost") == 0)
		return 0;
	return cairn_repo__error("cannot make a git signature for the anchor");
}

/* The blob, then the tree holding it as anchor.json. */
static int write_tree(git_oid *tree_id, git_repository *git, const char *json)
{
	git_treebuilder *tb = NULL;
	git_oid blob;
	int rc = CAIRN_ERROR;

	if (git_blob_create_from_buffer(&blob, git, json, strlen(json)) < 0 ||
	    git_treebuilder_new(&tb, git, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, ANCHOR_BLOB, &blob,
				   GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(tree_id, tb) < 0) {
		cairn_repo__error("cannot write the anchor into the repository");
		goto out;
	}
	rc = 0;
out:
	git_treebuilder_free(tb);
	return rc;
}

/* Commits tree_id on top of *parent (may be NULL) and moves the ref. */
static int commit_and_move(git_oid *out, git_repository *git, const char *ref,
			   const git_oid *tree_id, const git_oid *parent_id,
			   const git_signature *sig, const char *message)
{
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_reference *moved = NULL;
	const git_commit *parents[1];
	int rc = CAIRN_ERROR, grc;

	if (git_tree_lookup(&tree, git, tree_id) < 0 ||
	    (parent_id && git_commit_lookup(&parent, git, parent_id) < 0)) {
		cairn_repo__error("cannot read the previous anchor");
		goto out;
	}
	parents[0] = parent;
	if (git_commit_create(out, git, NULL, sig, sig, NULL, message, tree,
			      parent ? 1 : 0, parents) < 0) {
		cairn_repo__error("cannot write the anchor commit");
		goto out;
	}
	if (parent_id)
		grc = git_reference_create_matching(&moved, git, ref, out, 1,
						    parent_id, message);
	else
		grc = git_reference_create(&moved, git, ref, out, 0, message);
	if (grc < 0) {
		cairn_repo__error("cannot move %s to the new anchor", ref);
		cairn_error__hint("another anchor may have been written at the same time; run 'cairn audit anchor' again");
		goto out;
	}
	rc = 0;
out:
	git_reference_free(moved);
	git_commit_free(parent);
	git_tree_free(tree);
	return rc;
}

int cairn_audit_anchor_commit(cairn_audit_anchor *a, cairn_repo *repo)
{
	git_repository *git = cairn_repo__git(repo);
	cairn_buf ref = CAIRN_BUF_INIT, msg = CAIRN_BUF_INIT;
	git_signature *sig = NULL;
	git_oid tree_id, parent_id, commit_id;
	bool has_parent;
	char *json = NULL;
	int rc = CAIRN_ERROR, grc;

	a->commit[0] = '\0';
	if (ref_name(&ref, a->environment) < 0 || set_now(a) < 0 ||
	    !(json = cairn_audit_anchor_json(a)))
		goto out;
	grc = git_reference_name_to_id(&parent_id, git, ref.ptr);
	if (grc < 0 && grc != GIT_ENOTFOUND) {
		cairn_repo__error("cannot read %s", ref.ptr);
		goto out;
	}
	has_parent = grc == 0;
	if (cairn_buf_printf(&msg,
			     "cairn audit anchor: %s, %llu rows, row %lld %.12s\n",
			     a->environment, (unsigned long long)a->rows,
			     (long long)a->last_id,
			     a->last_hash ? a->last_hash : "") < 0 ||
	    make_signature(&sig, git, a->actor) < 0 ||
	    write_tree(&tree_id, git, json) < 0 ||
	    commit_and_move(&commit_id, git, ref.ptr, &tree_id,
			    has_parent ? &parent_id : NULL, sig, msg.ptr) < 0)
		goto out;
	git_oid_tostr(a->commit, sizeof(a->commit), &commit_id);
	rc = 0;
out:
	git_signature_free(sig);
	free(json);
	cairn_buf_dispose(&ref);
	cairn_buf_dispose(&msg);
	return rc;
}

int cairn_audit_anchor_append_file(const cairn_audit_anchor *a,
				   const char *path)
{
	cairn_buf line = CAIRN_BUF_INIT;
	char *json = cairn_audit_anchor_json(a);
	struct stat st;
	int fd = -1, rc = CAIRN_ERROR;

	if (!json || cairn_buf_printf(&line, "%s\n", json) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
			    O_NONBLOCK, 0600);
	if (fd < 0) {
		cairn_error__set(CAIRN_ERRCLASS_OS, "cannot open the anchor file %s: %s",
				 path, errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cairn_error__set(CAIRN_ERRCLASS_OS,
				 "cannot append to the anchor file %s: it is not a regular file",
				 path);
		goto out;
	}
	if (cairn__write_all(fd, line.ptr, line.size) < 0 || fsync(fd) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_OS, "cannot write the anchor file %s: %s",
				 path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(json);
	cairn_buf_dispose(&line);
	return rc;
}

/* A copy of string member key of o (NULL when absent or null). */
static int take_str(char **out, json_t *o, const char *key, bool required)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
	} else if (json_is_string(v)) {
		*out = cairn__strdup(json_string_value(v));
		return *out ? 0 : CAIRN_ERROR;
	}
	return cairn_error__set(CAIRN_ERRCLASS_GIT,
				"the latest audit anchor is malformed: '%s' is missing or not a string",
				key);
}

static int parse_anchor(cairn_audit_anchor *out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr);
	json_t *rows = o ? json_object_get(o, "rows") : NULL;
	json_t *id = o ? json_object_get(o, "last_id") : NULL;
	int rc = CAIRN_ERROR;

	if (!o || !json_is_object(o) || !json_is_integer(rows) ||
	    !json_is_integer(id) || json_integer_value(rows) < 0 ||
	    json_integer_value(id) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_GIT,
				 "the latest audit anchor is malformed: it needs integer 'rows' and 'last_id'");
		goto out;
	}
	out->rows = (uint64_t)json_integer_value(rows);
	out->last_id = (int64_t)json_integer_value(id);
	if (take_str(&out->last_hash, o, "last_hash", true) < 0 ||
	    take_str(&out->environment, o, "environment", true) < 0 ||
	    take_str(&out->last_mac, o, "last_mac", false) < 0 ||
	    take_str(&out->schema, o, "schema", false) < 0 ||
	    take_str(&out->database, o, "database", false) < 0 ||
	    take_str(&out->at, o, "at", false) < 0 ||
	    take_str(&out->actor, o, "actor", false) < 0)
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int cairn_audit_anchor_latest(cairn_audit_anchor *out, bool *found,
			      cairn_repo *repo, const char *environment)
{
	git_repository *git = cairn_repo__git(repo);
	cairn_buf ref = CAIRN_BUF_INIT;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *e;
	git_oid id;
	int rc = CAIRN_ERROR, grc;

	memset(out, 0, sizeof(*out));
	*found = false;
	if (ref_name(&ref, environment) < 0)
		goto out;
	grc = git_reference_name_to_id(&id, git, ref.ptr);
	if (grc == GIT_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (grc < 0 || git_commit_lookup(&commit, git, &id) < 0 ||
	    git_commit_tree(&tree, commit) < 0) {
		cairn_repo__error("cannot read the latest audit anchor %s", ref.ptr);
		goto out;
	}
	e = git_tree_entry_byname(tree, ANCHOR_BLOB);
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, git, git_tree_entry_id(e)) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_GIT,
				 "the latest audit anchor %s has no " ANCHOR_BLOB,
				 ref.ptr);
		goto out;
	}
	if (parse_anchor(out, git_blob_rawcontent(blob),
			 (size_t)git_blob_rawsize(blob)) < 0) {
		cairn_audit_anchor_dispose(out);
		goto out;
	}
	git_oid_tostr(out->commit, sizeof(out->commit), &id);
	*found = true;
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(commit);
	cairn_buf_dispose(&ref);
	return rc;
}

void cairn_audit_anchors_free(cairn_audit_anchor *a, size_t count)
{
	if (!a)
		return;
	for (size_t i = 0; i < count; i++)
		cairn_audit_anchor_dispose(&a[i]);
	free(a);
}

/* The anchor of one commit. */
static int read_anchor_commit(cairn_audit_anchor *out, git_repository *git,
			      const git_commit *commit)
{
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *e;
	int rc = CAIRN_ERROR;

	memset(out, 0, sizeof(*out));
	if (git_commit_tree(&tree, commit) < 0) {
		cairn_repo__error("cannot read an audit anchor");
		goto out;
	}
	e = git_tree_entry_byname(tree, ANCHOR_BLOB);
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, git, git_tree_entry_id(e)) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_GIT,
				 "the audit anchor %.12s has no " ANCHOR_BLOB,
				 git_oid_tostr_s(git_commit_id(commit)));
		goto out;
	}
	if (parse_anchor(out, git_blob_rawcontent(blob),
			 (size_t)git_blob_rawsize(blob)) < 0) {
		cairn_audit_anchor_dispose(out);
		goto out;
	}
	git_oid_tostr(out->commit, sizeof(out->commit), git_commit_id(commit));
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_free(tree);
	return rc;
}

#define ANCHOR_HISTORY_MAX 100000

int cairn_audit_anchor_history(cairn_audit_anchor **out, size_t *count,
			       cairn_repo *repo, const char *environment)
{
	git_repository *git = cairn_repo__git(repo);
	cairn_buf ref = CAIRN_BUF_INIT;
	git_commit *commit = NULL;
	cairn_audit_anchor *a = NULL;
	size_t n = 0, cap = 0;
	git_oid id;
	int rc = CAIRN_ERROR, grc;

	*out = NULL;
	*count = 0;
	if (ref_name(&ref, environment) < 0)
		goto out;
	grc = git_reference_name_to_id(&id, git, ref.ptr);
	if (grc == GIT_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (grc < 0 || git_commit_lookup(&commit, git, &id) < 0) {
		cairn_repo__error("cannot read the audit anchors %s", ref.ptr);
		goto out;
	}
	while (commit && n < ANCHOR_HISTORY_MAX) {
		git_commit *parent = NULL;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			cairn_audit_anchor *na = realloc(a, ncap * sizeof(*a));

			if (!na) {
				cairn_error__oom();
				goto out;
			}
			a = na;
			cap = ncap;
		}
		if (read_anchor_commit(&a[n], git, commit) < 0)
			goto out;
		n++;
		if (git_commit_parentcount(commit) > 0 &&
		    git_commit_parent(&parent, commit, 0) < 0) {
			cairn_repo__error("cannot read the audit anchor before %.12s",
					  git_oid_tostr_s(git_commit_id(commit)));
			goto out;
		}
		git_commit_free(commit);
		commit = parent;
	}
	*out = a;
	*count = n;
	a = NULL;
	n = 0;
	rc = 0;
out:
	git_commit_free(commit);
	cairn_audit_anchors_free(a, n);
	cairn_buf_dispose(&ref);
	return rc;
}
